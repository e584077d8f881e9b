"""TF Serving conformance of every zoo entry: its shipped model is exported
with the warm-up requests (real test-split examples), TF Serving's
`assets.extra/tf_serving_warmup_requests` is replayed through
`serving_default` in a process that cannot import this project, and the
answers must be the Python API's for the same inputs: labels and strings
exactly, floats to a tolerance.

Needs ZOO_DATA_DIR (the warm-up examples are real data) and the entry's
shipped weights in savedmodels/; skips without them.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

import zoo
from pipelines import export
from pipelines.data import flickr8k
from tests.pipelines.fresh_serving import read_warmup_requests, serve_in_fresh_process
from tests.shared_data import shared_dataset_dir

pytestmark = pytest.mark.tf_only

# Each check_<task>(name, inputs, served, weights="trained") compares the
# served outputs with those of zoo.load(name, weights=weights) (a path: a
# model the user trained, tests/pipelines/test_settings.py).

# Same-graph floats from another process: only the kernels' rounding differs.
TOLERANCE = dict(rtol=1e-4, atol=1e-5)


def _texts(strings):
    return [s.decode("utf-8") for s in strings]


def check_node_classification(name, inputs, served, weights="trained"):
    model = zoo.load(name, weights=weights, return_attention=True)
    for request, out in zip(inputs, served):
        expected = model(request, training=False)
        np.testing.assert_array_equal(out["probabilities"].argmax(-1),
                                      np.argmax(expected["logits"], -1))  # the predicted classes
        np.testing.assert_allclose(out["logits"], expected["logits"], **TOLERANCE)
        np.testing.assert_allclose(out["probabilities"], expected["probabilities"], **TOLERANCE)
        for i, attention in enumerate(expected["attention"]):
            np.testing.assert_allclose(out[f"attention_{i}"], attention, **TOLERANCE)


def check_image_captioning(name, inputs, served, weights="trained"):
    model = zoo.load(name, weights=weights)
    for request, out in zip(inputs, served):
        pixels = np.stack([flickr8k.decode_image(image, model.encoder.image_size).numpy()
                           for image in request["image_bytes"]])
        captions, maps = model.caption(pixels, beam_width=3, return_attention=True)  # serving's beam
        assert _texts(out["caption"]) == captions
        assert all(error == b"" for error in out["error"])
        for attention, expected in zip(out["attention"], maps):
            np.testing.assert_allclose(attention[:len(expected)], expected, **TOLERANCE)
            np.testing.assert_array_equal(attention[len(expected):], 0.0)


def check_text_classification(name, inputs, served, weights="trained"):
    model = zoo.load(name, weights=weights, return_attention=True)
    for request, out in zip(inputs, served):
        expected = model.classify(_texts(request["text"]), return_attention=True)
        assert _texts(out["class_name"]) == expected["labels"]
        assert [model.class_names[i] for i in out["label"]] == expected["labels"]
        np.testing.assert_allclose(out["probabilities"], expected["probabilities"], **TOLERANCE)
        for tokens, attention, words, alphas in zip(out["tokens"], out["attention"],
                                                    expected["tokens"], expected["attention"]):
            n = len(words)
            assert _texts(tokens[:n]) == words and all(t == b"" for t in tokens[n:])
            np.testing.assert_allclose(attention[:, :n, :n], alphas, **TOLERANCE)


def check_translation(name, inputs, served, weights="trained"):
    model = zoo.load(name, weights=weights)
    for request, out in zip(inputs, served):
        translations, alignments = model.translate(_texts(request["text"]), return_attention=True)
        assert _texts(out["translation"]) == translations
        for attention, alignment in zip(out["attention"], alignments):
            m, n = alignment["attention"].shape
            np.testing.assert_allclose(attention[:m, :n], alignment["attention"], **TOLERANCE)
            np.testing.assert_array_equal(attention[m:], 0.0)  # after [END]


CHECKS = {
    "node classification (transductive)": check_node_classification,
    "image captioning": check_image_captioning,
    "text classification": check_text_classification,
    "translation": check_translation,
}


def test_every_task_has_a_check():
    assert {zoo.info(name)["task"] for name in zoo.list_models()} <= set(CHECKS)


@pytest.mark.parametrize("name", zoo.list_models())
def test_export_serves_its_warmup_requests_like_the_python_api(name, tmp_path):
    shared_dataset_dir("")  # skips without ZOO_DATA_DIR
    info = zoo.info(name)
    if not info["weights_available"]:
        pytest.skip(f"{name} has no shipped weights in {info['weights_dir']} yet ({info['command']})")
    path = export.export(name, output_dir=str(tmp_path / "export"))
    requests = read_warmup_requests(path)
    assert requests and os.path.getsize(os.path.join(path, export.WARMUP_FILE)) < 4e6
    served = serve_in_fresh_process(path, requests, tmp_path)
    inputs = [{key: tf.make_ndarray(proto) for key, proto in request.items()} for request in requests]
    CHECKS[info["task"]](name, inputs, served)
