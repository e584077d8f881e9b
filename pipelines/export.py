"""Exports a zoo entry for TF Serving: `python -m pipelines.export NAME`.

Writes `DIR/NAME/VERSION/` (default `savedmodels/NAME/1/`), a SavedModel
whose `serving_default` takes raw inputs and returns named outputs with the
attention weights; preprocessing and decoding run inside the graph, so it
loads with `tf.saved_model.load` in a process that cannot import `zoo` or
`pipelines` (tests/pipelines/test_export.py checks this). Each task
module's `serving(name, weights)` gives what to track (the model and any
lookup tables) and the serving function.

Signatures per task:

- node classification: `node_features` float `[N, F]`, `edges` int32
  `[E, 2]` → `logits` `[N, C]`, `probabilities` `[N, C]`, `attention_<i>`
  `[E + N, H]` per layer.
- captioning: `image_bytes` string `[B]` (JPEG, PNG, GIF or BMP) →
  `caption` string `[B]`, `attention` float `[B, T, h, w]`, `error` string
  `[B]` (empty, or why that item could not be decoded: one bad image does
  not fail the request).
- text classification: `text` string `[B]` → `label` int32 `[B]`,
  `class_name` string `[B]`, `probabilities` `[B, C]`, `tokens` string
  `[B, T]` (what the model read, "" where padded) and `attention`
  `[B, H, T, T]` (the last block's; T = the model's max_length).
- translation: `text` string `[B]` → `translation` string `[B]` (empty for
  an empty text) and `attention` float `[B, T_out, T_in]` (each written
  token's alignment over the source tokens, rows summing to 1; zero after
  [END] and over padding). Tokenisation (tensorflow-text), greedy decoding
  and detokenisation run in the graph: the serving process imports
  tensorflow and tensorflow_text.
"""

import argparse
import os

import keras

from pipelines.configs import get_config
from pipelines.train import task_module


def export(name, output_dir="savedmodels", version=1, weights="trained"):
    """Writes entry `name` as a TF Serving SavedModel; returns its folder."""
    # Each task module knows its serving function, as it knows its training.
    task = task_module(get_config(name))
    resources, serve, signature = task.serving(name, weights)
    archive = keras.export.ExportArchive()
    for resource in resources:  # the model, and e.g. its tokenizer's lookup table
        archive.track(resource)
    archive.add_endpoint("serving_default", serve, input_signature=signature)
    path = os.path.join(output_dir, name, str(version))
    archive.write_out(path, verbose=False)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pipelines.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="zoo entry (see `zoo.list_models()`)")
    parser.add_argument("--version", type=int, default=1, help="TF Serving model version")
    parser.add_argument("--output-dir", default="savedmodels", help="writes OUTPUT_DIR/NAME/VERSION")
    parser.add_argument("--weights", default="trained", help="a .weights.h5 file (default: shipped)")
    args = parser.parse_args(argv)
    path = export(args.name, args.output_dir, args.version, args.weights)
    print(f"SavedModel for TF Serving: {path}")
    return path


if __name__ == "__main__":
    main()
