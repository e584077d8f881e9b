"""The exported graphs refuse what the eager models refuse, served in a
fresh process that cannot import zoo or pipelines (as TF Serving runs them):
GAT edges that are not [E, 2] or point outside the graph, NaN features;
text that is not UTF-8 or not a 1-D batch; and an empty batch of images is
answered with empty outputs. Toy models, no dataset."""

import numpy as np
import pytest
import tensorflow as tf

import zoo
from pipelines import export
from tests.pipelines.fresh_serving import serve_in_fresh_process
from tests.pipelines.test_export import VOCAB, _ship, _ship_toy_gat
from tests.weights_isolation import use_only_weights_dir

pytestmark = pytest.mark.tf_only

N = 4
GOOD = np.array([[0, 1], [1, 0], [2, 3], [3, 2]], "int32")


def _features(n=N):
    return np.random.default_rng(0).random((n, 5)).astype("float32")


def _eager_error(model, inputs):
    try:
        model(inputs, training=False)
    except ValueError as error:
        return str(error)
    return None


BAD_GRAPHS = {
    "PyG layout [2, E]": ({"edges": GOOD.T.copy()},
                          "`edges` must be [E, 2]: one (source, target) pair per row (a PyG edge_index "
                          "[2, E] is its transpose). Received a tensor of shape:"),
    "[1, 3]": ({"edges": np.array([[0, 1, 2]], "int32")}, "`edges` must be [E, 2]"),
    "1-D": ({"edges": np.array([0, 1], "int32")}, "`edges` must be [E, 2]"),
    "negative id": ({"edges": np.array([[0, 1], [-1, 2]], "int32")},
                    "`edges` holds node ids outside [0, N) for the N nodes of node_features"),
    "id N": ({"edges": np.array([[0, 1], [N, 2]], "int32")}, "`edges` holds node ids outside [0, N)"),
    "NaN feature": ({"node_features": np.where(np.arange(5) == 2, np.nan, _features()).astype("float32")},
                    "`node_features` must be finite (no NaN or inf)"),
}


def test_served_gat_refuses_what_the_eager_model_refuses(tmp_path, monkeypatch):
    model = _ship_toy_gat(tmp_path / "weights", monkeypatch)
    path = export.export("gat_cora", output_dir=str(tmp_path / "export"), warmup=False)
    requests = [{"node_features": _features(), "edges": GOOD}]
    requests += [{"node_features": _features(), "edges": GOOD, **bad} for bad, _ in BAD_GRAPHS.values()]
    served = serve_in_fresh_process(path, requests, tmp_path, errors=True)

    np.testing.assert_allclose(served[0]["logits"], model(requests[0], training=False)["logits"],
                               rtol=1e-5, atol=1e-6)  # a good graph is still served
    for (case, (_, message)), request, out in zip(BAD_GRAPHS.items(), requests[1:], served[1:]):
        assert isinstance(out, str) and out.startswith("InvalidArgumentError: ") and message in out, (case, out)
        assert _eager_error(model, request) is not None, f"the eager model accepts {case}"


def test_served_text_models_refuse_invalid_utf8_and_non_vector_batches(tmp_path, monkeypatch):
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    classifier = "transformer_encoder_sst2"
    vocabulary = ["", "[UNK]", "good", "bad", "movie"]
    kwargs = dict(max_length=5, num_layers=1, num_heads=2, hidden_dim=8, ff_dim=16, subword_lengths=None)
    model = zoo.load(classifier, weights=None, vocabulary=vocabulary, class_names=["neg", "pos"], **kwargs)
    _ship(classifier, model, kwargs, tmp_path / "weights", monkeypatch, vocabulary, {"labels.txt": ["neg", "pos"]})
    translator = "seq2seq_attn_spa_eng"
    source, target = ["", "[UNK]", "el", "perro"], ["", "[UNK]", "[START]", "[END]", "the", "dog"]
    kwargs = dict(embedding_dim=4, units=4, max_source_length=4, max_target_length=4)
    model = zoo.load(translator, weights=None, source_vocabulary=source, target_vocabulary=target, **kwargs)
    _ship(translator, model, kwargs, tmp_path / "weights", monkeypatch,
          assets={"source_vocabulary.txt": source, "target_vocabulary.txt": target})

    requests = [{"text": np.array([b"good movie", b"el perro"])},
                {"text": np.array([b"good", b"caf\xe9 \xff", b"ok"])},  # Latin-1, not UTF-8
                {"text": np.array(b"good movie")},  # one text, not a batch
                {"text": np.array([[b"good"], [b"bad"]])}]  # 2-D
    for name in (classifier, translator):
        path = export.export(name, output_dir=str(tmp_path / "export"), warmup=False)
        good, latin1, scalar, matrix = serve_in_fresh_process(path, requests, tmp_path, errors=True)
        assert isinstance(good, dict) and len(next(iter(good.values()))) == 2
        assert "`text` must hold UTF-8 text; not UTF-8: the items at" in latin1 and "[1]" in latin1
        for out in (scalar, matrix):
            assert out.startswith("InvalidArgumentError: ") and (
                "`text` must be a 1-D batch of strings [B] (one item is a batch of 1)" in out), out


def test_served_captioner_answers_an_empty_batch_with_empty_outputs(tmp_path, monkeypatch):
    name = "show_attend_tell_flickr8k"
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    kwargs = dict(image_size=32, embedding_dim=4, units=4, attention_units=4, max_length=3)
    model = zoo.load(name, weights=None, vocabulary=VOCAB, **kwargs)
    _ship(name, model, kwargs, tmp_path / "weights", monkeypatch, VOCAB)
    path = export.export(name, output_dir=str(tmp_path / "export"), warmup=False)
    image = tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)).numpy()
    empty, one, scalar = serve_in_fresh_process(
        path, [{"image_bytes": np.array([], dtype=bytes)}, {"image_bytes": np.array([image])},
               {"image_bytes": np.array(image)}], tmp_path, errors=True)
    assert empty["caption"].shape == (0,) and empty["error"].shape == (0,)
    assert empty["attention"].shape == (0, 3, 1, 1)
    assert one["caption"].shape == (1,) and one["attention"].shape == (1, 3, 1, 1)
    assert "`image_bytes` must be a 1-D batch of strings [B]" in scalar
