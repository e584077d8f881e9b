import keras
import numpy as np
import pytest

from zoo import ops as zoo_ops


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_masked_softmax_is_safe_in_low_precision(dtype):
    scores = keras.ops.cast(np.array([[60000.0, -60000.0, 3.0], [1.0, 2.0, 3.0]]), dtype)
    mask = np.array([[True, True, False], [False, False, False]])
    weights = keras.ops.convert_to_numpy(keras.ops.cast(zoo_ops.masked_softmax(scores, mask),
                                                        "float32"))
    assert np.all(np.isfinite(weights))
    np.testing.assert_array_equal(weights[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(weights[1], [0.0, 0.0, 0.0])  # fully masked: zeros, no NaN


def test_masked_softmax_without_mask_is_softmax():
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    ref = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(zoo_ops.masked_softmax(x)), ref, rtol=1e-6)


def test_masked_softmax_gradient_is_finite_for_fully_masked_rows():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("gradient check written with tf.GradientTape")
    import tensorflow as tf  # gradient tape only; the op itself is backend-neutral

    x = tf.Variable(np.zeros((2, 3), "float32"))
    mask = np.array([[True, False, True], [False, False, False]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(zoo_ops.masked_softmax(x, mask) * np.arange(3.0, dtype="float32"))
    assert np.all(np.isfinite(tape.gradient(y, x).numpy()))


@pytest.mark.parametrize("with_mask", [True, False])
def test_masked_softmax_dropout_drops_weights_at_the_rate(with_mask):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(4, 4, 16, 16)).astype("float32")
    mask = rng.random((4, 1, 16, 16)) < 0.7 if with_mask else None
    if with_mask:
        mask[:, :, -1] = False  # fully masked rows
    dropout = keras.layers.Dropout(0.3, seed=7)
    weights, dropped = zoo_ops.masked_softmax_dropout(scores, mask, dropout, training=True)
    expected_weights = keras.ops.convert_to_numpy(zoo_ops.masked_softmax(scores, mask))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weights), expected_weights)
    dropped = keras.ops.convert_to_numpy(dropped)
    kept = dropped != 0
    # Every weight is dropped (0) or kept and scaled by 1 / (1 - rate); masked ones stay 0.
    np.testing.assert_allclose(dropped[kept], expected_weights[kept] / 0.7, rtol=1e-6)
    assert not np.any(kept & (expected_weights == 0))
    assert abs(1 - kept[expected_weights > 0].mean() - 0.3) < 0.03
    if keras.backend.backend() == "tensorflow":
        # The same uniforms as keras' own Dropout with the same seed (torch's
        # Dropout draws Bernoulli variables instead).
        reference = keras.layers.Dropout(0.3, seed=7)(expected_weights, training=True)
        np.testing.assert_allclose(dropped, keras.ops.convert_to_numpy(reference), rtol=1e-6)
    # Not training: no dropout, the weights twice.
    weights, dropped = zoo_ops.masked_softmax_dropout(scores, mask, dropout, training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dropped), keras.ops.convert_to_numpy(weights))


def test_masked_softmax_dropout_gradient_is_the_multiplier():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("gradient check written with tf.GradientTape")
    import tensorflow as tf  # gradient tape only; the op itself is backend-neutral

    scores = tf.Variable(np.random.default_rng(1).normal(size=(4, 8)).astype("float32"))
    mask = np.arange(8)[None, :] < np.array([[8], [5], [1], [0]])
    upstream = np.random.default_rng(2).normal(size=(4, 8)).astype("float32")
    gradients = []
    for fused in (True, False):
        dropout = keras.layers.Dropout(0.25, seed=3)
        with tf.GradientTape() as tape:
            if fused:
                _, dropped = zoo_ops.masked_softmax_dropout(scores, mask, dropout, training=True)
            else:
                dropped = dropout(zoo_ops.masked_softmax(scores, mask), training=True)
            loss = tf.reduce_sum(dropped * upstream)
        gradients.append(tape.gradient(loss, scores).numpy())
    assert np.all(np.isfinite(gradients[0]))
    np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-5, atol=1e-7)


def test_segment_softmax_matches_per_segment_softmax():
    scores = np.array([[1.0], [2.0], [3.0], [500.0], [-500.0]], "float32")
    segments = np.array([0, 0, 2, 1, 1])
    out = keras.ops.convert_to_numpy(zoo_ops.segment_softmax(scores, segments, 3))
    e01 = np.exp([1.0, 2.0]) / np.exp([1.0, 2.0]).sum()
    np.testing.assert_allclose(out[:, 0], [e01[0], e01[1], 1.0, 1.0, 0.0], rtol=1e-6)


def test_segment_softmax_float16_large_scores():
    scores = keras.ops.cast(np.array([[60000.0], [59990.0]]), "float16")
    out = keras.ops.convert_to_numpy(
        keras.ops.cast(zoo_ops.segment_softmax(scores, np.array([0, 0]), 1), "float32"))
    assert np.all(np.isfinite(out)) and abs(out.sum() - 1.0) < 1e-3


def test_merge_masks_combines_all_kinds():
    q = np.array([[True, False]])
    v = np.array([[True, True, False]])
    att = np.ones((1, 2, 3), bool)
    att[0, 0, 1] = False
    mask = keras.ops.convert_to_numpy(zoo_ops.merge_masks(q, v, att, True, 2, 3))
    np.testing.assert_array_equal(mask[0], [[True, False, False], [False, False, False]])
    assert zoo_ops.merge_masks() is None


def test_score_functions():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    k = rng.normal(size=(2, 5, 4)).astype("float32")
    W = rng.normal(size=(4, 4)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(zoo_ops.dot_scores(q, k)),
                               np.einsum("btd,bid->bti", q, k), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(zoo_ops.scaled_dot_scores(q, k)),
                               np.einsum("btd,bid->bti", q, k) / 2.0, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(zoo_ops.bilinear_scores(q, k, W)),
                               np.einsum("bid,dc,btc->bti", k, W.T, q), rtol=1e-5, atol=1e-5)
    w = rng.normal(size=(4,)).astype("float32")
    ref = np.einsum("btiu,u->bti", np.tanh(q[:, :, None] + k[:, None]), w)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(zoo_ops.additive_scores(q, k, w)),
                               ref, rtol=1e-5, atol=1e-5)
