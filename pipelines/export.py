"""Exports a zoo entry for TF Serving: `python -m pipelines.export NAME`.

Writes `DIR/NAME/VERSION/` (default `savedmodels/NAME/1/`), a SavedModel
whose `serving_default` takes raw inputs and returns named outputs with the
attention weights; preprocessing and decoding run inside the graph, so it
loads with `tf.saved_model.load` in a process that cannot import `zoo` or
`pipelines` (tests/pipelines/test_export.py checks this).

Signatures per task:

- node classification: `node_features` float `[N, F]`, `edges` int32
  `[E, 2]` → `logits` `[N, C]`, `probabilities` `[N, C]`, `attention_<i>`
  `[E + N, H]` per layer.
- captioning: `image_bytes` string `[B]` (JPEG, PNG, GIF or BMP) →
  `caption` string `[B]`, `attention` float `[B, T, h, w]`, `error` string
  `[B]` (empty, or why that item could not be decoded: one bad image does
  not fail the request).
"""

import argparse
import os

import keras
import tensorflow as tf

import zoo
from pipelines.data import flickr8k


def _export_node_classifier(name, weights):
    model = zoo.load(name, weights=weights, return_attention=True)

    def serve(node_features, edges):
        out = model({"node_features": node_features, "edges": edges}, training=False)
        result = {"logits": out["logits"], "probabilities": out["probabilities"]}
        result.update({f"attention_{i}": a for i, a in enumerate(out["attention"])})
        return result

    num_features = model.get_layer("gat_backbone").num_features
    signature = [tf.TensorSpec([None, num_features], tf.float32, name="node_features"),
                 tf.TensorSpec([None, 2], tf.int32, name="edges")]
    return model, serve, signature


def decode_images(image_bytes, image_size):
    """Decodes a batch of encoded images; an undecodable item does not fail
    the batch but is reported.

    Returns:
        images float32 `[B, S, S, 3]` (zeros where decoding failed) and a
        bool `[B]` saying which items decoded.
    """
    # tf.data's ignore_errors is the graph-level way to survive a failing
    # decode op; the survivors are scattered back to their batch positions.
    count = tf.shape(image_bytes)[0]
    decoded = (tf.data.Dataset.from_tensor_slices((tf.range(count), image_bytes))
               .map(lambda i, data: (i, flickr8k.decode_image(data, image_size)))
               .ignore_errors()
               .batch(tf.cast(tf.maximum(count, 1), tf.int64)))
    empty = (tf.zeros([count, image_size, image_size, 3]), tf.zeros([count], tf.bool))

    def scatter(state, batch):
        index, images = batch
        positions = index[:, None]  # [k] -> [k, 1] scatter indices
        return (tf.tensor_scatter_nd_update(state[0], positions, images),
                tf.tensor_scatter_nd_update(state[1], positions, tf.ones_like(index, tf.bool)))

    return decoded.reduce(empty, scatter)


def _export_captioner(name, weights, beam_width=3):
    model = zoo.load(name, weights=weights)
    vocabulary = tf.constant(model.vocabulary)
    size = model.encoder.image_size
    h, w = model.encoder.grid_shape

    def serve(image_bytes):
        images, ok = decode_images(image_bytes, size)
        result = model.generate(images, beam_width=beam_width)
        tokens = result["tokens"]  # [B, T]
        ended = tf.cumsum(tf.cast(tokens == model.end_id, tf.int32), axis=1, exclusive=True) > 0
        keep = (tokens != 0) & (tokens != model.end_id) & ~ended  # the words before [END]
        words = tf.ragged.boolean_mask(tf.gather(vocabulary, tokens), keep)
        caption = tf.strings.reduce_join(words, axis=1, separator=" ")
        attention = tf.reshape(result["attention"], [-1, model.max_length, h, w])  # [B, T, L] -> [B, T, h, w]
        return {
            "caption": tf.where(ok, caption, ""),
            "attention": attention * tf.cast(ok, attention.dtype)[:, None, None, None],
            "error": tf.where(ok, "", "could not decode the image bytes (JPEG, PNG, GIF or BMP "
                                      "expected; the data is corrupt or another format)"),
        }

    return model, serve, [tf.TensorSpec([None], tf.string, name="image_bytes")]


EXPORTERS = {"node classification": _export_node_classifier, "image captioning": _export_captioner}


def export(name, output_dir="savedmodels", version=1, weights="trained"):
    """Writes entry `name` as a TF Serving SavedModel; returns its folder."""
    task = zoo.info(name)["task"]
    exporter = next((f for prefix, f in EXPORTERS.items() if task.startswith(prefix)), None)
    if exporter is None:
        raise ValueError(f"No exporter for task {task!r} of {name!r}. Known: {', '.join(EXPORTERS)}.")
    model, serve, signature = exporter(name, weights)
    archive = keras.export.ExportArchive()
    archive.track(model)
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
