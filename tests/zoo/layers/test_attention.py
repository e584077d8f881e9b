import keras
import numpy as np
import pytest

from tests import layer_checks
from zoo.layers import Attention

B, TQ, TV, DQ, DV = 2, 3, 5, 6, 4


def np_softmax(scores, mask):
    """α = exp(s)[m] / Σ exp(s)[m], 0 for a fully masked row."""
    e = np.exp(scores - scores.max(-1, keepdims=True)) * mask
    total = e.sum(-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def np_reference(layer, query, value, mask):
    """The lecture's formulas, one (t, i) pair at a time."""
    w = {v.path.split("/")[-1]: np.array(v) for v in layer.weights}
    key = value
    scores = np.zeros((B, TQ, TV))
    for b in range(B):
        for t in range(TQ):
            for i in range(TV):
                h, h_t = key[b, i], query[b, t]
                if layer.score == "dot":
                    scores[b, t, i] = h @ h_t
                elif layer.score == "scaled_dot":
                    scores[b, t, i] = h @ h_t / np.sqrt(len(h_t))
                elif layer.score == "bilinear":  # h_iᵀ W h'_t, kernel = Wᵀ
                    scores[b, t, i] = h @ w["kernel"].T @ h_t
                elif layer.score == "additive":  # wᵀ tanh(U h_i + V h'_t)
                    u_h = h @ w["key_kernel"]
                    v_h = h_t @ w["query_kernel"]
                    scores[b, t, i] = np.tanh(u_h + v_h) @ w["score_vector"][:, 0]
                else:  # qkv: (K h_i)ᵀ (Q h'_t)
                    scores[b, t, i] = (h @ w["key_kernel"]) @ (h_t @ w["query_kernel"])
    alpha = np_softmax(scores, mask)
    if layer.score == "qkv":
        value = value @ (w["key_kernel"] if layer.share_key_value else w["value_kernel"])
    return alpha @ value, alpha


def inputs_for(score):
    rng = np.random.default_rng(1)
    query = rng.normal(size=(B, TQ, DQ)).astype("float32")
    dv = DQ if score in ("dot", "scaled_dot") else DV
    value = rng.normal(size=(B, TV, dv)).astype("float32")
    return query, value


CASES = [
    dict(score="dot"),
    dict(score="scaled_dot"),
    dict(score="bilinear"),
    dict(score="additive", units=7),
    dict(score="qkv", units=3),
    dict(score="qkv", units=3, share_key_value=True),
]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: "-".join(map(str, k.values())))
def test_matches_numpy_reference_with_mask(kwargs):
    query, value = inputs_for(kwargs["score"])
    value_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    query_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    layer = Attention(**kwargs)
    context, alpha = layer(query, value, query_mask=query_mask, value_mask=value_mask,
                           return_attention_scores=True)
    mask = query_mask[:, :, None] & value_mask[:, None, :]
    ref_context, ref_alpha = np_reference(layer, query, value, mask)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(alpha), ref_alpha, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(context), ref_context,
                               rtol=1e-4, atol=1e-5)
    alpha = keras.ops.convert_to_numpy(alpha)
    assert np.all(alpha[~mask] == 0.0), "masked weights must be exactly 0"
    assert np.all(alpha[0, 2] == 0.0), "a fully masked query row gives zeros"
    np.testing.assert_allclose(alpha[mask.any(-1)].sum(-1), 1.0, rtol=1e-6)


def test_separate_key():
    rng = np.random.default_rng(2)
    query = rng.normal(size=(B, TQ, DQ)).astype("float32")
    key = rng.normal(size=(B, TV, DQ)).astype("float32")
    value = rng.normal(size=(B, TV, DV)).astype("float32")
    context, alpha = Attention("dot")(query, value, key=key, return_attention_scores=True)
    ref_alpha = np_softmax(query @ key.transpose(0, 2, 1), np.ones((B, TQ, TV)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(alpha), ref_alpha, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(context), ref_alpha @ value, rtol=1e-5)


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: "-".join(map(str, k.values())))
def test_projected_key_computed_once_gives_the_same_result(kwargs):
    """A decoder projects the keys once and reuses them at every step."""
    query, value = inputs_for(kwargs["score"])
    layer = Attention(**kwargs)
    context, alpha = layer(query, value, return_attention_scores=True)
    projected = layer.project_key(value)
    for t in range(TQ):  # one decoding step at a time
        step_context, step_alpha = layer(query[:, t:t + 1], value, projected_key=projected,
                                         return_attention_scores=True)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(step_alpha)[:, 0],
                                   keras.ops.convert_to_numpy(alpha)[:, t], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(step_context)[:, 0],
                                   keras.ops.convert_to_numpy(context)[:, t], rtol=1e-5, atol=1e-6)


def make_model(score="additive", dtype=None, **kwargs):
    query = keras.Input((TQ, DQ))
    value = keras.Input((TV, DV))
    kwargs.setdefault("units", 5 if score in ("additive", "qkv") else None)
    layer = Attention(score=score, dropout=0.1, dtype=dtype, **kwargs)
    context, alpha = layer(query, value, return_attention_scores=True)
    out = keras.layers.Dense(2, dtype=dtype)(context)
    return keras.Model([query, value], [out, alpha])


def model_inputs():
    query, value = inputs_for("bilinear")
    return [query, value]


@pytest.mark.parametrize("score", ["bilinear", "additive", "qkv"])
def test_round_trip(score, tmp_path):
    layer_checks.assert_round_trip(make_model(score), model_inputs(), tmp_path)


@pytest.mark.parametrize("score", ["bilinear", "additive", "qkv"])
def test_fit_one_step(score):
    query = keras.Input((TQ, DQ))
    value = keras.Input((TV, DV))
    out = keras.layers.Dense(2)(Attention(score=score)(query, value))
    model = keras.Model([query, value], out)
    layer_checks.assert_fit_one_step(model, model_inputs(), np.ones((B, TQ, 2), "float32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("score", ["bilinear", "additive", "qkv"])
def test_mixed_precision(score, policy):
    layer_checks.assert_mixed_precision_close(
        lambda dtype=None: make_model(score, dtype=dtype), model_inputs(), policy)


def test_masked_float16_is_exactly_zero_and_finite():
    query, value = inputs_for("additive")
    query = query * 300.0  # Large scores: would overflow a -1e9 or float16 exp.
    layer = Attention("additive", dtype="mixed_float16")
    mask = np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], bool)
    context, alpha = layer(query, value, value_mask=mask, return_attention_scores=True)
    alpha = keras.ops.convert_to_numpy(keras.ops.cast(alpha, "float32"))
    assert np.all(np.isfinite(alpha)) and np.all(np.isfinite(keras.ops.convert_to_numpy(
        keras.ops.cast(context, "float32"))))
    np.testing.assert_array_equal(alpha[0], np.tile([1, 0, 0, 0, 0], (TQ, 1)))
    np.testing.assert_array_equal(alpha[1], 0.0)


def test_jit_compile():
    layer_checks.assert_jit_matches(make_model("additive"), model_inputs())


def test_keras_mask_propagates_from_embedding():
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, DQ, mask_zero=True)(tokens)
    _, alpha = Attention("dot")(embedded, embedded, return_attention_scores=True)
    model = keras.Model(tokens, alpha)
    alpha = keras.ops.convert_to_numpy(model(np.array([[3, 4, 0, 0]])))
    assert np.all(alpha[0, :2, 2:] == 0.0) and np.all(alpha[0, 2:] == 0.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(score="cosine"), "score.*Received: score='cosine'"),
        (dict(score="additive", units=0), "units.*Received: units=0"),
        (dict(dropout=1.5), "dropout.*Received: dropout=1.5"),
        (dict(score="dot", share_key_value=True), "share_key_value"),
        (dict(score="dot", units=4), "units"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Attention(**kwargs)


def test_dot_with_different_dims_suggests_bilinear_or_qkv():
    query, value = inputs_for("bilinear")
    with pytest.raises(ValueError, match="query dim=6, key dim=4.*bilinear.*qkv"):
        Attention("dot")(query, value)
