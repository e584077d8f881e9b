"""Exports a zoo entry for TF Serving: `python -m pipelines.export NAME`.

Writes `DIR/NAME/VERSION/` (default `savedmodels/NAME/1/`; VERSION a
positive int64, as TF Serving reads it; an existing version is refused
unless `--force`, and a new one is written to a hidden temporary folder,
then renamed into place, so TF Serving never sees half of one), a SavedModel
whose `serving_default` takes raw inputs and returns named outputs with the
attention weights; preprocessing and decoding run inside the graph, so it
loads with `tf.saved_model.load` in a process that cannot import `zoo` or
`pipelines` (tests/pipelines/test_export.py checks this). Each task
module's `serving(name, weights)` gives what to track (the model and any
lookup tables) and the serving function.

TF Serving warm-up: `VERSION/assets.extra/tf_serving_warmup_requests` holds
`PredictRequest`s for `serving_default` built from real test-split examples
of the entry's dataset (each task module's `warmup_inputs`), which TF
Serving replays before it serves the version, so the first client request
does not pay for graph optimisation and table initialisation. The dataset
is found like training finds it (`--data-dir`, `$ZOO_DATA_DIR`, the cache,
else downloaded); if it cannot be had, the SavedModel is still written,
without warm-up, and a warning says so.

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
import shutil
import tempfile
import warnings

import keras
import tensorflow as tf

from pipelines.configs import get_config
from pipelines.data.download import DatasetNotFoundError
from pipelines.settings import run_config
from pipelines.tasks import task_for

SIGNATURE = "serving_default"
# Where TF Serving looks for warm-up records (SavedModel assets.extra).
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
MAX_VERSION = 2**63 - 1  # TF Serving parses version folder names as int64.


def check_version(version):
    """`version` as TF Serving can serve it: a positive int64 (a folder named
    -1 or 2**63 is skipped by its version policy, silently)."""
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise ValueError(f"`version` must be a positive integer no larger than 2**63 - 1 "
                         f"({MAX_VERSION}): TF Serving reads version folders as int64. "
                         f"Received: version={version!r}")
    return version


def export(name, output_dir="savedmodels", version=1, weights="trained", data_dir=None,
           warmup=True, force=False):
    """Writes entry `name` as a TF Serving SavedModel; returns its folder.

    Args:
        version: a positive integer, at most 2**63 - 1.
        weights: "trained" (the shipped weights), or a `.weights.h5` file or
            its folder (e.g. a `python -m pipelines.train ... --output-dir
            DIR`'s): the architecture, `--set` overrides included (e.g. the
            max_length the graph's tokenizer pads to), comes from the card
            beside it (`zoo.load`).
        warmup: write `assets.extra/tf_serving_warmup_requests` from real
            examples of the entry's dataset (found in `data_dir`,
            `$ZOO_DATA_DIR` or the cache, else downloaded). If the dataset
            cannot be had, the SavedModel is written without it and a
            `UserWarning` says so.
        force: replace `OUTPUT_DIR/NAME/VERSION` if it exists (the new
            version is complete before the old one is removed).

    Raises:
        ValueError: the dataset's examples do not fit the serving signature
            (weights trained on other data: export with `warmup=False`), or
            a `version` that is not a positive int64.
        FileExistsError: the version exists and `force` is False.
    """
    check_version(version)
    path = os.path.join(output_dir, name, str(version))
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists: exporting over it would change a version TF "
                              "Serving may be serving. Export another --version, or pass "
                              "--force (force=True) to replace it.")
    # The config that trained the weights (a card beside a weights path
    # records it: its data files give the warm-up examples).
    config = run_config(name, weights, get_config)
    # Each task module knows its serving function, as it knows its training.
    task = task_for(config)
    resources, serve, signature = task.serving(name, weights)
    requests, missing = [], None
    if warmup:
        try:
            requests = task.warmup_inputs(config, data_dir)
        except DatasetNotFoundError as err:
            missing = err
        _check_fits_signature(requests, signature, config)
    archive = keras.export.ExportArchive()
    for resource in resources:  # the model, and e.g. its tokenizer's lookup table
        archive.track(resource)
    archive.add_endpoint(SIGNATURE, serve, input_signature=signature)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # TF Serving skips folders whose name is not a number: it never loads this one.
    staging = tempfile.mkdtemp(dir=os.path.dirname(path), prefix=f".{version}.partial-")
    try:
        archive.write_out(staging, verbose=False)
        if requests:
            write_warmup_requests(os.path.join(staging, WARMUP_FILE), name, requests)
        _replace_folder(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    warmup_path = os.path.join(path, WARMUP_FILE)
    if missing:
        warnings.warn(f"No TF Serving warm-up file written ({warmup_path}): "
                      f"the {config['dataset']} examples it is built from are not available. "
                      f"{missing}\nThe SavedModel itself is complete; pass --data-dir (or set "
                      "ZOO_DATA_DIR) to add the warm-up, or --no-warmup to silence this.",
                      stacklevel=2)
    return path


def _replace_folder(new, path):
    """Renames folder `new` to `path`; an existing `path` is first renamed
    aside and removed once `new` is in place."""
    old = None
    if os.path.exists(path):
        old = tempfile.mkdtemp(dir=os.path.dirname(path), prefix=".replaced-")
        os.replace(path, os.path.join(old, "version"))
    os.replace(new, path)
    if old:
        shutil.rmtree(old)


def _check_fits_signature(requests, signature, config):
    """TF Serving refuses to load a version whose warm-up request fails, so a
    request that does not fit the signature is an error here, at export."""
    specs = {spec.name: spec for spec in signature}
    for inputs in requests:
        if set(inputs) != set(specs):
            raise ValueError(f"Warm-up inputs {sorted(inputs)} are not the signature's "
                             f"{sorted(specs)}.")
        for key, value in inputs.items():
            tensor = tf.constant(value)
            if not specs[key].is_compatible_with(tensor):
                raise ValueError(
                    f"The {config['dataset']} warm-up example `{key}` ({tensor.dtype.name} "
                    f"{tensor.shape}) does not fit the model's serving input {specs[key]} (weights "
                    "trained on other data?). Export with --no-warmup (warmup=False).")


def write_warmup_requests(warmup_path, name, requests):
    """Writes TF Serving's warm-up file (`VERSION/assets.extra/tf_serving_warmup_requests`):
    per dict of inputs in `requests`, a `PredictionLog` record holding a
    `PredictRequest` for `serving_default`."""
    # tensorflow-serving-api is needed only here, not to train or to load models.
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    tf.io.gfile.makedirs(os.path.dirname(warmup_path))
    with tf.io.TFRecordWriter(warmup_path) as writer:
        for inputs in requests:
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=name, signature_name=SIGNATURE))
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pipelines.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="zoo entry (see `zoo.list_models()`)")
    parser.add_argument("--version", type=_version_arg, default=1,
                        help="TF Serving model version: a positive integer (default 1)")
    parser.add_argument("--force", action="store_true",
                        help="replace OUTPUT_DIR/NAME/VERSION if it exists")
    parser.add_argument("--output-dir", default="savedmodels", help="writes OUTPUT_DIR/NAME/VERSION")
    parser.add_argument("--weights", default="trained", help="a .weights.h5 file, or the folder "
                        "a training wrote (its card gives the architecture; default: shipped)")
    parser.add_argument("--data-dir", help="dataset folder the warm-up examples come from "
                                           "(default: $ZOO_DATA_DIR or the cache)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="write no assets.extra/tf_serving_warmup_requests")
    args = parser.parse_args(argv)
    path = export(args.name, args.output_dir, args.version, args.weights, args.data_dir, args.warmup,
                  args.force)
    print(f"SavedModel for TF Serving: {path}")
    if args.warmup and tf.io.gfile.exists(os.path.join(path, WARMUP_FILE)):
        print(f"TF Serving warm-up requests: {os.path.join(path, WARMUP_FILE)}")
    return path


def _version_arg(text):
    """argparse type of --version: check_version's message, naming the flag."""
    try:
        return check_version(int(text))
    except ValueError:
        try:
            check_version(text)  # not an integer: the same message, with the text received
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).replace("`version`", "--version")) from None


if __name__ == "__main__":
    main()
