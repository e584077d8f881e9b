import keras
import numpy as np
import pytest

from tests import layer_checks
from tests.zoo.layers.test_attention import np_softmax
from zoo import ops as zoo_ops
from zoo.layers import MultiHeadAttention, SelfAttention, TransformerEncoderBlock

B, TQ, TV, D, H, DK = 2, 3, 4, 8, 3, 5


def _projection_weights(layer):
    """{name: (kernel, bias)} for query, key, value and output; a
    SelfAttention's stacked qkv kernel is split into its three blocks."""
    w = {v.path.split("/")[-2] + "/" + v.path.split("/")[-1]: np.array(v) for v in layer.weights}
    if "qkv/kernel" not in w:
        return {n: (w[f"{n}/kernel"], w[f"{n}/bias"]) for n in ("query", "key", "value", "output")}
    cut = [layer.num_heads * layer.key_dim, 2 * layer.num_heads * layer.key_dim]
    kernels = np.split(w["qkv/kernel"], cut, axis=-1)
    biases = np.split(w["qkv/bias"], cut)
    return {"query": (kernels[0], biases[0]), "key": (kernels[1], biases[1]),
            "value": (kernels[2], biases[2]), "output": (w["output/kernel"], w["output/bias"])}


def np_mha(layer, query, value, mask):
    """c_t = O · merge_k Σ_i α^k_ti V^k h_i with α^k = softmax((K^k h_i)ᵀ(Q^k h'_t))."""
    w = _projection_weights(layer)

    def proj(name, x):
        return x @ w[name][0] + w[name][1]

    q, k, v = proj("query", query), proj("key", value), proj("value", value)
    dv = layer.value_dim
    heads, alphas = [], []
    for h in range(H):
        qh, kh = q[..., h * DK:(h + 1) * DK], k[..., h * DK:(h + 1) * DK]
        vh = v[..., h * dv:(h + 1) * dv]
        scores = qh @ kh.transpose(0, 2, 1)
        if layer.score == "scaled_dot":
            scores = scores / np.sqrt(DK)
        alpha = np_softmax(scores, mask)
        alphas.append(alpha)
        heads.append(alpha @ vh)
    merged = np.concatenate(heads, -1) if layer.merge == "concat" else np.mean(heads, 0)
    return proj("output", merged), np.stack(alphas, 1)


@pytest.mark.parametrize("merge", ["concat", "mean"])
@pytest.mark.parametrize("score", ["scaled_dot", "dot"])
def test_matches_numpy_reference(merge, score):
    rng = np.random.default_rng(0)
    query = rng.normal(size=(B, TQ, D)).astype("float32")
    value = rng.normal(size=(B, TV, D + 2)).astype("float32")
    value_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    layer = MultiHeadAttention(H, DK, value_dim=4, score=score, merge=merge)
    out, alpha = layer(query, value, value_mask=value_mask, return_attention_scores=True)
    assert out.shape == (B, TQ, D) and alpha.shape == (B, H, TQ, TV)
    mask = np.broadcast_to(value_mask[:, None, :], (B, TQ, TV))
    ref_out, ref_alpha = np_mha(layer, query, value, mask)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(alpha), ref_alpha, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), ref_out, rtol=1e-4, atol=1e-5)
    assert np.all(keras.ops.convert_to_numpy(alpha)[0, :, :, 2:] == 0.0)


def test_causal_and_attention_masks_combine():
    x = np.random.default_rng(0).normal(size=(B, 4, D)).astype("float32")
    attention_mask = np.ones((B, 4, 4), bool)
    attention_mask[:, :, 0] = False  # nobody may look at position 0 ...
    attention_mask[:, 0, 0] = True  # ... except position 0 itself
    _, alpha = SelfAttention(H, DK)(x, attention_mask=attention_mask, use_causal_mask=True,
                                    return_attention_scores=True)
    alpha = keras.ops.convert_to_numpy(alpha)
    allowed = np.tril(np.ones((4, 4), bool)) & attention_mask[0]
    assert np.all(alpha[:, :, ~allowed] == 0.0)
    np.testing.assert_allclose(alpha.sum(-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("value_dim", [DK, 4])  # one reshape for q, k, v; or a split
def test_self_attention_equals_mha_on_same_sequence(value_dim):
    x = np.random.default_rng(0).normal(size=(B, TQ, D)).astype("float32")
    mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    sa = SelfAttention(H, DK, value_dim=value_dim, merge="mean")
    out_sa = sa(x, mask=mask)
    mha = MultiHeadAttention(H, DK, value_dim=value_dim, merge="mean")
    mha(x, x)
    w = _projection_weights(sa)
    mha.set_weights([a for name in ("query", "key", "value", "output") for a in w[name]])
    out_mha = mha(x, x, query_mask=mask, value_mask=mask)
    # atol: one stacked GEMM rounds differently from three (1e-8 on torch).
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out_sa),
                               keras.ops.convert_to_numpy(out_mha), rtol=1e-6, atol=1e-6)


def np_layer_norm(x, gamma, beta, eps=1e-5):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_matches_numpy(norm_first):
    x = np.random.default_rng(0).normal(size=(B, TQ, D)).astype("float32")
    block = TransformerEncoderBlock(H, DK, ff_dim=16, norm_first=norm_first)
    y = keras.ops.convert_to_numpy(block(x))
    def ln1(z):
        return np_layer_norm(z, np.array(block.attention_norm.gamma), np.array(block.attention_norm.beta))

    def ln2(z):
        return np_layer_norm(z, np.array(block.ff_norm.gamma), np.array(block.ff_norm.beta))

    def ff(z):
        hidden = np.maximum(z @ np.array(block.ff_hidden.kernel) + np.array(block.ff_hidden.bias), 0)
        return hidden @ np.array(block.ff_output.kernel) + np.array(block.ff_output.bias)

    def attn(z):
        return np_mha(block.attention, z, z, np.ones((B, TQ, TQ)))[0]

    if norm_first:
        h = x + attn(ln1(x))
        ref = h + ff(ln2(h))
    else:
        h = ln1(x + attn(x))
        ref = ln2(h + ff(h))
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_skips_padding_to_the_same_outputs_and_gradients(norm_first):
    """The real tokens alone as [N, D] rows (skip_padding, the default) give
    what every position gives, outputs and gradients; padding comes out 0."""
    x = np.random.default_rng(0).normal(size=(B, 4, D)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    packed = TransformerEncoderBlock(H, DK, ff_dim=16, norm_first=norm_first)
    dense = TransformerEncoderBlock(H, DK, ff_dim=16, norm_first=norm_first, skip_padding=False)
    packed(x, mask=mask)
    dense(x, mask=mask)
    start = packed.get_weights()
    dense.set_weights(start)
    y_packed = keras.ops.convert_to_numpy(packed(x, mask=mask))
    y_dense = keras.ops.convert_to_numpy(dense(x, mask=mask))
    assert np.all(y_packed[~mask] == 0.0) and np.all(y_dense[~mask] == 0.0)
    np.testing.assert_allclose(y_packed, y_dense, rtol=1e-5, atol=1e-5)
    # Gradients: one SGD step moves every weight of both blocks alike.
    for block in (packed, dense):
        inputs = keras.Input((4, D)), keras.Input((4,), dtype="bool")
        model = keras.Model(inputs, block(inputs[0], mask=inputs[1]))
        model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
        model.train_on_batch([x, mask], np.ones_like(x))
    for before, a, b in zip(start, packed.get_weights(), dense.get_weights()):
        assert not np.array_equal(a, before)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_encoder_block_on_a_batch_of_only_padding_gives_zeros():
    """N = 0 real tokens: empty [0, D] rows, not an error."""
    x = np.ones((B, 3, D), "float32")
    y = TransformerEncoderBlock(H, DK, ff_dim=16)(x, mask=np.zeros((B, 3), bool))
    assert np.all(keras.ops.convert_to_numpy(y) == 0.0)


def test_token_positions_are_the_real_tokens_and_none_under_xla():
    """The fast path (skip the padded rows) exists where shapes may depend on
    the data: TensorFlow outside XLA, and PyTorch. JAX compiles every shape
    ahead, so there token_positions is None and the block computes every
    position (the plain path; the test above shows both paths agree)."""
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    positions = zoo_ops.token_positions(mask)
    if keras.backend.backend() == "jax":
        assert positions is None
    else:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(positions), [0, 1, 3])
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        def skips(m):  # traced once: a Python bool becomes a constant
            return zoo_ops.token_positions(m) is not None

        assert bool(tf.function(skips)(mask))
        assert not bool(tf.function(skips, jit_compile=True)(mask))


def make_model(layer_name="mha", merge="concat", dtype=None):
    tokens = keras.Input((TQ,), dtype="int32")
    x = keras.layers.Embedding(20, D, mask_zero=True, dtype=dtype)(tokens)
    if layer_name == "mha":
        x, alpha = MultiHeadAttention(H, DK, merge=merge, dropout=0.1, dtype=dtype)(
            x, x, return_attention_scores=True)
    elif layer_name == "self":
        x, alpha = SelfAttention(H, DK, merge=merge, dropout=0.1, dtype=dtype)(
            x, return_attention_scores=True)
    else:
        x, alpha = TransformerEncoderBlock(H, DK, 16, dropout=0.1, merge=merge, dtype=dtype)(
            x, return_attention_scores=True)
    out = keras.layers.Dense(2, dtype=dtype)(keras.layers.GlobalAveragePooling1D()(x))
    return keras.Model(tokens, [out, alpha])


TOKENS = np.array([[1, 2, 0], [3, 4, 5]], "int32")
LAYERS = ["mha", "self", "block"]


@pytest.mark.parametrize("layer_name", LAYERS)
def test_padding_mask_from_embedding(layer_name):
    _, alpha = make_model(layer_name)(TOKENS)
    alpha = keras.ops.convert_to_numpy(alpha)
    assert np.all(alpha[0, :, :, 2] == 0.0), "padding must get exactly zero weight"
    assert np.all(alpha[0, :, 2, :] == 0.0), "a padded query attends to nothing"


@pytest.mark.parametrize("merge", ["concat", "mean"])
@pytest.mark.parametrize("layer_name", LAYERS)
def test_round_trip(layer_name, merge, tmp_path):
    layer_checks.assert_round_trip(make_model(layer_name, merge), TOKENS, tmp_path)


@pytest.mark.parametrize("layer_name", LAYERS)
def test_fit_one_step(layer_name):
    model = make_model(layer_name)
    model = keras.Model(model.input, model.output[0])
    layer_checks.assert_fit_one_step(model, TOKENS, np.ones((B, 2), "float32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("layer_name", LAYERS)
def test_mixed_precision(layer_name, policy):
    layer_checks.assert_mixed_precision_close(
        lambda dtype=None: make_model(layer_name, dtype=dtype), TOKENS, policy, rtol=0.1)


@pytest.mark.parametrize("layer_name", LAYERS)
def test_jit_compile(layer_name):
    layer_checks.assert_jit_matches(make_model(layer_name), TOKENS)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_heads=0, key_dim=4), "num_heads.*Received: num_heads=0"),
        (dict(num_heads=2, key_dim=-1), "key_dim.*Received: key_dim=-1"),
        (dict(num_heads=2, key_dim=4, merge="sum"), "merge.*'concat', 'mean'.*Received: merge='sum'"),
        (dict(num_heads=2, key_dim=4, score="additive"), "score.*Received: score='additive'"),
        (dict(num_heads=2, key_dim=4, dropout=-0.1), "dropout"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(**kwargs)
    if "score" not in kwargs:  # The block has no score argument.
        with pytest.raises(ValueError, match=match):
            TransformerEncoderBlock(ff_dim=8, **kwargs)


def test_stacked_qkv_kernel_starts_like_three_separate_projections():
    """Each of Q, K, V is glorot for its own [D, H·dk] block (not the √2
    narrower glorot of [D, 3·H·dk]), and the blocks are independent."""
    layer = SelfAttention(4, 32, kernel_initializer=keras.initializers.GlorotUniform(seed=1))
    layer.build((None, 10, 128))
    q, k, v = np.split(keras.ops.convert_to_numpy(layer.qkv_dense.kernel), 3, axis=-1)
    expected = np.sqrt(2.0 / (128 + 128))  # glorot std of a [128, 128] kernel
    for block in (q, k, v):
        assert abs(block.std() - expected) < 0.05 * expected
    assert abs(np.corrcoef(q.ravel(), k.ravel())[0, 1]) < 0.05
