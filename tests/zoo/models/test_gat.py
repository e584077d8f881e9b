"""Tests for the zoo entries (DESIGN.md §8: a tiny build-forward-save-reload
test for every registry entry) and the GAT family's model-level behaviour."""

import inspect
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from zoo.models.gat import GATBackbone, GATNodeClassifier, RowNormalization

# Small sizes for any builder that accepts them; the rest of the preset stays.
SHRINK = dict(num_features=5, num_classes=3, hidden_units=4, num_heads=2, vocab_size=50,
              embedding_dim=8, units=8, num_layers=1, ff_dim=8, key_dim=4, max_length=6,
              attention_units=4, image_size=32, hidden_dim=8,
              vocabulary=["", "[UNK]", "[START]", "[END]", "a", "dog", "runs"],
              class_names=["negative", "positive"],
              source_vocabulary=["", "[UNK]", "el", "perro", "corre"],
              target_vocabulary=["", "[UNK]", "[START]", "[END]", "the", "dog", "runs"])

N, F, C = 7, 5, 3
# Undirected edges in both directions; nodes 5 and 6 are isolated.
EDGES = np.array([[0, 1], [1, 0], [1, 2], [2, 1], [2, 3], [3, 2], [0, 4], [4, 0]], "int32")


def graph_inputs(num_nodes=N, num_features=F, edges=EDGES, seed=0):
    rng = np.random.default_rng(seed)
    # Non-negative, like the bag-of-words features the model is made for.
    x = rng.random((num_nodes, num_features)).astype("float32")
    return {"node_features": x, "edges": np.asarray(edges, "int32")}


# How to feed a small batch to an entry, by its task. A new family must add
# its own maker here: the test below fails for an entry without one.
INPUT_MAKERS = {
    "node classification": lambda model: graph_inputs(
        num_features=model.get_layer("gat_backbone").num_features),
    "image captioning": lambda model: {
        "images": np.random.default_rng(0).uniform(
            0, 255, (2, model.encoder.image_size, model.encoder.image_size, 3)).astype("float32"),
        "tokens": np.array([[2, 4, 5, 6, 3], [2, 5, 3, 0, 0]], "int32")},
    "text classification": lambda model: model.preprocessor(["a dog runs", "runs"]),
    "translation": lambda model: {
        "source_tokens": np.array([[2, 3, 4], [3, 0, 0]], "int32"),
        "target_tokens": np.array([[2, 4, 5, 6], [2, 5, 0, 0]], "int32")},
}


def _input_maker(name):
    task = zoo.info(name)["task"]
    for prefix, maker in INPUT_MAKERS.items():
        if task.startswith(prefix):
            return maker
    pytest.fail(f"no tiny input maker for {name!r} (task {task!r}); add one to INPUT_MAKERS")


def _numpy(outputs):
    """Outputs (tensor, list or dict, nested) as a flat list of NumPy arrays."""
    if isinstance(outputs, dict):
        return [a for key in sorted(outputs) for a in _numpy(outputs[key])]
    if isinstance(outputs, (list, tuple)):
        return [a for item in outputs for a in _numpy(item)]
    return [keras.ops.convert_to_numpy(outputs)]


def _small(name, **extra):
    params = inspect.signature(zoo.registry._entry(name).builder).parameters
    overrides = {k: v for k, v in SHRINK.items() if k in params}
    return zoo.load(name, weights=None, **overrides, **extra)


@pytest.mark.parametrize("name", zoo.list_models())
def test_entry_builds_runs_saves_and_reloads(name, tmp_path):
    model = _small(name)
    inputs = _input_maker(name)(model)
    expected = _numpy(model(inputs, training=False))
    assert all(np.all(np.isfinite(a)) for a in expected)
    path = tmp_path / f"{name}.keras"
    model.save(str(path))
    reloaded = keras.saving.load_model(str(path))  # no custom_objects on purpose
    assert type(reloaded) is type(model)
    got = _numpy(reloaded(inputs, training=False))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e)
    # The compiled predict function agrees with the eager call. (predict()
    # would slice the node and edge arrays into batches: a graph is one batch.)
    for e, g in zip(expected, _numpy(reloaded.predict_on_batch(inputs))):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def _attention_model(**overrides):
    # Preset heads (8 hidden, 1 output); only the sizes shrink.
    return zoo.load("gat_cora", weights=None, num_features=F, num_classes=C,
                    return_attention=True, **overrides)


def test_return_attention_outputs():
    model = _attention_model()
    inputs = graph_inputs()
    out = model(inputs, training=False)
    assert isinstance(out, dict) and set(out) == {"logits", "probabilities", "attention"}
    logits = keras.ops.convert_to_numpy(out["logits"])
    probabilities = keras.ops.convert_to_numpy(out["probabilities"])
    assert logits.shape == (N, C) and probabilities.shape == (N, C)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(probabilities.argmax(-1), logits.argmax(-1))
    attention = [keras.ops.convert_to_numpy(a) for a in out["attention"]]
    assert len(attention) == 2
    rows = len(EDGES) + N
    assert attention[0].shape == (rows, 8) and attention[1].shape == (rows, 1)
    targets = np.concatenate([EDGES[:, 1], np.arange(N)])
    for alpha in attention:
        for t in range(N):
            np.testing.assert_allclose(alpha[targets == t].sum(0), 1.0, rtol=1e-5)
    # Same weights without return_attention: the same logits.
    plain = zoo.load("gat_cora", weights=None, num_features=F, num_classes=C)
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(plain(inputs, training=False)),
                               logits, rtol=1e-6, atol=1e-6)


def test_return_attention_model_round_trips(tmp_path):
    model = _attention_model()
    inputs = graph_inputs()
    expected = model(inputs, training=False)
    model.save(str(tmp_path / "attention.keras"))
    reloaded = keras.saving.load_model(str(tmp_path / "attention.keras"))
    got = reloaded(inputs, training=False)
    assert set(got) == {"logits", "probabilities", "attention"} and len(got["attention"]) == 2
    for e, g in zip(_numpy(expected), _numpy(got)):
        np.testing.assert_array_equal(g, e)


def test_row_normalization_matches_numpy():
    x = np.array([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0], [2.0, 2.0, 4.0], [0.0, 5.0, 0.0]], "float32")
    total = x.sum(-1, keepdims=True)
    reference = np.where(total == 0, 0.0, x / np.where(total == 0, 1.0, total))
    got = keras.ops.convert_to_numpy(RowNormalization()(x))
    np.testing.assert_allclose(got, reference, rtol=1e-6)
    np.testing.assert_array_equal(got[1], 0.0)  # zero rows stay zero, no NaN
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[[0, 2, 3]].sum(-1), 1.0, rtol=1e-6)
    layer = RowNormalization(name="norm")
    assert RowNormalization.from_config(layer.get_config()).get_config() == layer.get_config()


def test_model_takes_raw_features():
    inputs = graph_inputs()
    scaled = dict(inputs, node_features=3.0 * inputs["node_features"])
    model = zoo.load("gat_cora", weights=None, num_features=F, num_classes=C)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(scaled, training=False)),
        keras.ops.convert_to_numpy(model(inputs, training=False)), rtol=1e-5, atol=1e-6)
    # Without the row normalisation the same scaling does change the logits,
    # so the check above is not vacuous.
    raw = zoo.load("gat_cora", weights=None, num_features=F, num_classes=C,
                   normalize_features=False)
    assert not np.allclose(keras.ops.convert_to_numpy(raw(scaled, training=False)),
                           keras.ops.convert_to_numpy(raw(inputs, training=False)), atol=1e-4)


@pytest.mark.parametrize("bad", [N, N + 5, -1])
def test_out_of_range_edge_id_raises_eagerly(bad):
    model = zoo.load("gat_cora", weights=None, num_features=F, num_classes=C)
    edges = np.concatenate([EDGES, [[0, bad]]]).astype("int32")
    with pytest.raises(ValueError, match=rf"node id {bad}.*\[0, {N}\)"):
        model(graph_inputs(edges=edges), training=False)


def test_nan_features_raise_eagerly():
    model = zoo.load("gat_cora", weights=None, num_features=F, num_classes=C)
    inputs = graph_inputs()
    inputs["node_features"][3, 2] = np.nan
    with pytest.raises(ValueError, match=r"node_features.*finite.*node 3, feature \d+"):
        model(inputs, training=False)


def test_wrong_feature_width_for_a_trained_model_raises():
    model = zoo.load("gat_cora", weights=None, num_features=F, num_classes=C)
    with pytest.raises(ValueError, match=f"expected shape=\\(None, {F}\\)"):
        model(graph_inputs(num_features=F + 2), training=False)


@pytest.mark.parametrize("edges", [EDGES, np.zeros((0, 2), "int32")], ids=["some", "none"])
def test_isolated_nodes(edges):
    model = _attention_model()
    inputs = graph_inputs(edges=edges)
    inputs["node_features"][6] = 0.0  # isolated and featureless (CiteSeer has such nodes)
    out = model(inputs, training=False)
    logits = keras.ops.convert_to_numpy(out["logits"])
    assert logits.shape == (N, C) and np.all(np.isfinite(logits))
    for alpha in out["attention"]:
        alpha = keras.ops.convert_to_numpy(alpha)
        assert alpha.shape[0] == len(edges) + N and np.all(np.isfinite(alpha))
        np.testing.assert_allclose(alpha[len(edges) + 5], 1.0, rtol=1e-6)  # all on itself
        np.testing.assert_allclose(alpha[len(edges) + 6], 1.0, rtol=1e-6)
    # An isolated node only sees itself: other nodes' features do not reach it.
    other = dict(inputs, node_features=inputs["node_features"].copy())
    other["node_features"][:5] = np.random.default_rng(9).random((5, F))
    moved = keras.ops.convert_to_numpy(model(other, training=False)["logits"])
    np.testing.assert_allclose(moved[5:], logits[5:], rtol=1e-6, atol=1e-6)


def test_fit_one_step_moves_every_weight():
    model = zoo.load("gat_cora", weights=None, num_features=F, num_classes=C, dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    inputs = graph_inputs()
    labels = np.arange(N) % C
    before = [np.array(w) for w in model.trainable_weights]
    loss = model.train_on_batch(inputs, labels)  # the graph is one batch
    assert np.isfinite(loss)
    moved = [not np.allclose(b, np.array(w)) for b, w in zip(before, model.trainable_weights)]
    assert all(moved), [w.path for w, m in zip(model.trainable_weights, moved) if not m]


def test_task_model_and_backbone_configs_round_trip():
    backbone = GATBackbone(num_features=F, hidden_units=4, num_heads=2, name="gat_backbone")
    model = GATNodeClassifier(backbone, num_classes=C, dropout=0.1, name="clf")
    clone = GATNodeClassifier.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert GATBackbone.from_config(backbone.get_config()).get_config() == backbone.get_config()


@pytest.mark.parametrize(
    "override, match",
    [
        (dict(num_classes=0), "num_classes.*Received: num_classes=0"),
        (dict(output_heads=0), "output_heads.*Received: output_heads=0"),
        (dict(num_layers=-1), "num_layers.*Received: num_layers=-1"),
        (dict(dropout=1.0), "dropout.*Received: dropout=1.0"),
        (dict(l2=-1e-4), "l2.*Received: l2=-0.0001"),
    ],
)
def test_bad_builder_arguments_name_the_argument(override, match):
    with pytest.raises(ValueError, match=match):
        zoo.load("gat_cora", weights=None, **override)


def test_saved_model_reloads_in_a_fresh_process_after_plain_import_zoo(tmp_path):
    """Registration must not depend on having called zoo.load first."""
    path = tmp_path / "gat.keras"
    _small("gat_cora").save(path)
    code = f"import zoo, keras; keras.saving.load_model({str(path)!r}); print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]
