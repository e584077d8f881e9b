import keras
import numpy as np
import pytest

from tests import layer_checks
from zoo.layers import GraphAttention

N, F, C, K = 6, 4, 3, 2
# Node 5 is isolated; node 0 has three in-neighbours.
EDGES = np.array([[1, 0], [2, 0], [3, 0], [0, 1], [2, 1], [4, 3]], "int32")


def features():
    return np.random.default_rng(0).normal(size=(N, F)).astype("float32")


def np_gat(x, edges, W, u, v, bias, merge, slope=0.2, self_loops=True):
    """The lecture's GAT, one target node at a time, hand-written."""
    edges = [tuple(e) for e in edges] + ([(t, t) for t in range(N)] if self_loops else [])
    h = (x @ W).reshape(N, K, C)  # W h for every head
    alpha = np.zeros((len(edges), K))
    out = np.zeros((N, K, C))
    for t in range(N):
        incoming = [j for j, (s, d) in enumerate(edges) if d == t]
        for k in range(K):
            a = np.array([u[k] @ h[edges[j][0], k] + v[k] @ h[t, k] for j in incoming])
            a = np.where(a > 0, a, slope * a)  # LeakyReLU
            e = np.exp(a - a.max()) if len(a) else a
            for j, weight in zip(incoming, e / e.sum() if len(a) else []):
                alpha[j, k] = weight
                out[t, k] += weight * h[edges[j][0], k]
    merged = out.reshape(N, K * C) if merge == "concat" else out.mean(1)
    return merged + bias, alpha


@pytest.mark.parametrize("merge", ["concat", "mean"])
def test_matches_numpy_with_hand_set_weights(merge):
    rng = np.random.default_rng(1)
    layer = GraphAttention(C, num_heads=K, merge=merge)
    layer(features(), EDGES)
    W = rng.normal(size=(F, K * C)).astype("float32")
    u, v = rng.normal(size=(2, K, C)).astype("float32")
    bias = rng.normal(size=layer.bias.shape).astype("float32")
    layer.set_weights([W, u, v, bias])
    out, alpha = layer(features(), EDGES, return_attention_scores=True)
    ref_out, ref_alpha = np_gat(features(), EDGES, W, u, v, bias, merge)
    assert alpha.shape == (len(EDGES) + N, K)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(alpha), ref_alpha, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), ref_out, rtol=1e-4, atol=1e-5)


def test_weights_sum_to_one_per_target_and_isolated_node_keeps_itself():
    layer = GraphAttention(C, num_heads=K)
    _, alpha = layer(features(), EDGES, return_attention_scores=True)
    alpha = keras.ops.convert_to_numpy(alpha)
    targets = np.concatenate([EDGES[:, 1], np.arange(N)])
    for t in range(N):
        np.testing.assert_allclose(alpha[targets == t].sum(0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(alpha[len(EDGES) + 5], 1.0)  # isolated: all on itself


def test_without_self_loops_isolated_node_gets_bias_only():
    layer = GraphAttention(C, num_heads=K, add_self_loops=False, activation="elu")
    out, alpha = layer(features(), EDGES, return_attention_scores=True)
    assert alpha.shape == (len(EDGES), K)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out)[5], 0.0)  # elu(0 + zero bias)


@pytest.mark.parametrize("merge", ["concat", "mean"])
def test_dense_adjacency_path_equals_edge_path(merge):
    layer = GraphAttention(C, num_heads=K, merge=merge, activation="elu")
    out, alpha = layer(features(), EDGES, return_attention_scores=True)
    adjacency = np.zeros((N, N), bool)
    adjacency[EDGES[:, 1], EDGES[:, 0]] = True  # row = target
    out_d, alpha_d = layer(features(), adjacency=adjacency, return_attention_scores=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out_d),
                               keras.ops.convert_to_numpy(out), rtol=1e-5, atol=1e-6)
    alpha, alpha_d = keras.ops.convert_to_numpy(alpha), keras.ops.convert_to_numpy(alpha_d)
    all_edges = np.concatenate([EDGES, np.stack([np.arange(N)] * 2, 1)])
    np.testing.assert_allclose(alpha_d[:, all_edges[:, 1], all_edges[:, 0]].T, alpha, rtol=1e-5)
    non_edges = ~(adjacency | np.eye(N, dtype=bool))
    assert np.all(alpha_d[:, non_edges] == 0.0)


def test_dropout_acts_on_coefficients_and_returned_weights_are_before_dropout():
    layer = GraphAttention(C, num_heads=K, dropout=0.5)
    x = features()
    _, clean = layer(x, EDGES, return_attention_scores=True, training=False)
    out_a, alpha_a = layer(x, EDGES, return_attention_scores=True, training=True)
    out_b, _ = layer(x, EDGES, return_attention_scores=True, training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(alpha_a),
                               keras.ops.convert_to_numpy(clean), rtol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(out_a), keras.ops.convert_to_numpy(out_b))


def test_feature_dropout_drops_messages_not_weights():
    x = features()
    layer = GraphAttention(C, num_heads=K, feature_dropout=0.5)
    clean_out, clean = layer(x, EDGES, return_attention_scores=True, training=False)
    out, alpha = layer(x, EDGES, return_attention_scores=True, training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(alpha),
                               keras.ops.convert_to_numpy(clean), rtol=1e-6)
    assert not np.allclose(keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(clean_out))


def make_model(dtype=None, dense=False):
    # The dense path is the static-shape (TPU) path: N is fixed in the inputs.
    x_in = keras.Input((F,), batch_size=N if dense else None, name="node_features")
    if dense:
        graph_in = keras.Input((N,), batch_size=N, dtype="bool", name="adjacency")
        graph = dict(adjacency=graph_in)
    else:
        graph_in = keras.Input((2,), dtype="int32", name="edges")
        graph = dict(edges=graph_in)
    h = GraphAttention(4, num_heads=K, activation="elu", dropout=0.2, dtype=dtype)(x_in, **graph)
    out, alpha = GraphAttention(3, num_heads=2, merge="mean", dtype=dtype)(
        h, return_attention_scores=True, **graph)
    return keras.Model([x_in, graph_in], [out, alpha])


def test_round_trip(tmp_path):
    layer_checks.assert_round_trip(make_model(), [features(), EDGES], tmp_path)


def test_fit_one_step():
    model = make_model()
    model = keras.Model(model.inputs, model.outputs[0])
    layer_checks.assert_fit_one_step(model, [features(), EDGES], np.ones((N, 3), "float32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    layer_checks.assert_mixed_precision_close(make_model, [features(), EDGES], policy)


@pytest.mark.parametrize("dense", [False, True])
def test_jit_compile(dense):
    if dense:
        adjacency = np.zeros((N, N), bool)
        adjacency[EDGES[:, 1], EDGES[:, 0]] = True
        layer_checks.assert_jit_matches(make_model(dense=True), [features(), adjacency])
    else:
        layer_checks.assert_jit_matches(make_model(), [features(), EDGES])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units.*Received: units=0"),
        (dict(units=4, num_heads=0), "num_heads.*Received: num_heads=0"),
        (dict(units=4, merge="max"), "merge.*Received: merge='max'"),
        (dict(units=4, dropout=1.0), "dropout.*Received: dropout=1.0"),
        (dict(units=4, feature_dropout=-0.5), "feature_dropout.*Received: feature_dropout=-0.5"),
        (dict(units=4, negative_slope=-1), "negative_slope.*Received: negative_slope=-1"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GraphAttention(**kwargs)


@pytest.mark.parametrize(
    "edges, match",
    [
        (np.array([[0, 6]]), "node id 6, outside \\[0, 6\\)"),
        (np.array([[-1, 0]]), "node id -1"),
        (np.array([[0.0, 1.0]]), "integer"),
        (np.array([0, 1, 2]), "shape \\[E, 2\\]"),
    ],
)
def test_bad_edges(edges, match):
    with pytest.raises(ValueError, match=match):
        GraphAttention(4)(features(), edges)


def test_needs_exactly_one_graph_input():
    with pytest.raises(ValueError, match="exactly one of `edges`"):
        GraphAttention(4)(features())
