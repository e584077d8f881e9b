"""The GAT model and layer with inputs users bring from elsewhere: float
edges, self-loops already in the edge list, `predict` on the whole graph."""

import re

import keras
import numpy as np
import pytest

import zoo
from zoo.layers import GraphAttention

SMALL_GAT = dict(num_features=5, num_classes=3)
EDGES = np.array([[0, 1], [1, 2], [2, 0], [3, 1]], "int32")


def _features(n=5, f=5):
    return np.random.default_rng(0).random((n, f)).astype("float32")


def test_gat_model_refuses_float_edges_that_a_cast_would_truncate():
    model = zoo.load("gat_cora", weights=None, **SMALL_GAT)
    with pytest.raises(ValueError, match=re.escape(
            "`edges` must hold integer node ids. Received: edges.dtype=float32")):
        model({"node_features": _features(), "edges": (EDGES + 0.7).astype("float32")}, training=False)


def test_graph_attention_refuses_float_edges_in_a_traced_graph_too():
    with pytest.raises(ValueError, match=re.escape(
            "`edges` must hold integer node ids. Received: edges.dtype=float32")):
        GraphAttention(4)(keras.Input((3,)), keras.Input((2,), dtype="float32"))


def test_self_loops_in_the_edges_are_removed_before_the_added_ones():
    """As PyG's GATConv: the result is that of the same edges without the
    loops; the input loop keeps its row of the weights, with weight 0."""
    layer = GraphAttention(4, num_heads=2)
    x = _features(f=3)
    with_loops = np.concatenate([EDGES[:2], [[1, 1]], EDGES[2:], [[4, 4]]]).astype("int32")
    out, alpha = layer(x, with_loops, return_attention_scores=True)
    expected, expected_alpha = layer(x, EDGES, return_attention_scores=True)
    alpha, expected_alpha = keras.ops.convert_to_numpy(alpha), keras.ops.convert_to_numpy(expected_alpha)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(expected),
                               rtol=1e-6, atol=1e-6)
    assert alpha.shape == (len(with_loops) + 5, 2)
    np.testing.assert_array_equal(alpha[[2, 5]], 0.0)  # the input loops (1, 1) and (4, 4)
    kept = [0, 1, 3, 4] + list(range(6, 11))  # the other input edges, then the 5 added loops
    np.testing.assert_allclose(alpha[kept], expected_alpha, rtol=1e-6, atol=1e-7)
    targets = np.concatenate([with_loops[:, 1], np.arange(5)])
    for t in range(5):
        np.testing.assert_allclose(alpha[targets == t].sum(0), 1.0, rtol=1e-6)


def test_without_added_self_loops_the_edges_are_used_as_given():
    layer = GraphAttention(4, add_self_loops=False)
    _, alpha = layer(_features(f=3), np.array([[0, 0], [1, 0]], "int32"), return_attention_scores=True)
    alpha = keras.ops.convert_to_numpy(alpha)
    assert alpha.shape == (2, 1) and np.all(alpha > 0)
    np.testing.assert_allclose(alpha.sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("return_attention", [False, True])
def test_full_graph_predict_is_the_model_call(return_attention):
    model = zoo.load("gat_cora", weights=None, return_attention=return_attention, **SMALL_GAT)
    inputs = {"node_features": _features(), "edges": EDGES}
    predicted = model.predict(inputs)
    called = model(inputs, training=False)
    if return_attention:
        np.testing.assert_allclose(predicted["logits"], keras.ops.convert_to_numpy(called["logits"]),
                                   rtol=1e-6)
        assert len(predicted["attention"]) == 2 and isinstance(predicted["attention"][0], np.ndarray)
    else:
        assert isinstance(predicted, np.ndarray) and predicted.shape == (5, 3)
        np.testing.assert_allclose(predicted, keras.ops.convert_to_numpy(called), rtol=1e-6)
