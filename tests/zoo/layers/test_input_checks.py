"""The checks every attention layer shares (zoo._validation): masks are
boolean (True = may attend) with the batch of the inputs, NaN and inf are
refused on eager inference calls, and float16 dot scores do not overflow."""

import re

import keras
import numpy as np
import pytest

from zoo.layers import Attention, GraphAttention, MultiHeadAttention, SelfAttention, TransformerEncoderBlock

B, TQ, TV, D = 2, 3, 5, 4


def _floats(*shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def _mask_calls(mask_of):
    """(layer name, call) pairs that pass mask_of(shape) as each layer's masks."""
    q, v = _floats(B, TQ, D), _floats(B, TV, D)
    return {
        "Attention value_mask": lambda: Attention()(q, v, value_mask=mask_of((B, TV))),
        "Attention query_mask": lambda: Attention()(q, v, query_mask=mask_of((B, TQ))),
        "MultiHeadAttention key_mask": lambda: MultiHeadAttention(2, 4)(q, v, key_mask=mask_of((B, TV))),
        "MultiHeadAttention attention_mask":
            lambda: MultiHeadAttention(2, 4)(q, v, attention_mask=mask_of((B, TQ, TV))),
        "SelfAttention mask": lambda: SelfAttention(2, 4)(q, mask=mask_of((B, TQ))),
        "TransformerEncoderBlock mask": lambda: TransformerEncoderBlock(2, 4, 8)(q, mask=mask_of((B, TQ))),
    }


CALLS = list(_mask_calls(lambda shape: None))


def _name(call):
    return call.split()[1]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("value, shown", [(-np.inf, "-inf"), (-1e9, "-1000000000.0"), (0.5, "0.5")],
                         ids=["-inf", "-1e9", "0.5"])
def test_float_masks_other_than_0_1_are_refused(call, value, shown):
    def mask_of(shape):
        mask = np.zeros(shape, "float32")  # additive: 0 = keep ...
        mask[..., -1] = value  # ... and this = drop
        return mask

    name = _name(call)
    message = (f"`{name}` must be a boolean mask (True = may attend; 0/1 numbers are read the same "
               f"way). Received: {name} of dtype float32 holding {shown}")
    if value < 0:
        message += (". It looks like an additive mask (0 = keep, -inf or a large negative number = "
                    f"drop): pass `{name} == 0` instead.")
    with pytest.raises(ValueError, match=re.escape(message)):
        _mask_calls(mask_of)[call]()


@pytest.mark.parametrize("call", CALLS)
def test_float_0_1_masks_mean_the_same_as_bool_masks(call):
    def outputs(dtype, threshold=0.3):
        keras.utils.set_random_seed(0)  # the same layer weights for both
        rng = np.random.default_rng(1)  # the same masks for both

        def mask_of(shape):
            mask = rng.random(shape) > threshold
            mask[..., 0] = True
            return mask.astype(dtype)

        return keras.ops.convert_to_numpy(_mask_calls(mask_of)[call]())

    as_bool = outputs(bool)
    np.testing.assert_allclose(outputs("float32"), as_bool, rtol=1e-6, atol=1e-6)
    assert not np.allclose(as_bool, outputs(bool, threshold=-1.0)), "the masks must matter"


def test_a_float_mask_in_a_traced_graph_is_refused_by_its_dtype():
    """No values to check while a functional model is built: cast to bool."""
    x = keras.Input((TQ, D))
    mask = keras.Input((TQ,), dtype="float32")
    with pytest.raises(ValueError, match=re.escape(
            "`mask` must be a boolean mask (True = may attend; 0/1 numbers are read the same way). "
            "Received: a float32 mask in a traced graph (functional model, tf.function, jit), whose "
            "values cannot be checked here: cast it to bool first (`mask > 0.5` for a 0/1 mask, "
            "`mask == 0` for an additive 0/-inf one)")):
        SelfAttention(2, 4)(x, mask=mask)
    # A bool mask builds.
    SelfAttention(2, 4)(x, mask=keras.Input((TQ,), dtype="bool"))


@pytest.mark.parametrize("call", CALLS)
def test_a_mask_of_batch_1_for_batch_2_is_refused(call):
    name = _name(call)
    with pytest.raises(ValueError, match=rf"`{name}` must .*Received: {name}\.shape=\(1, "):
        _mask_calls(lambda shape: np.ones((1,) + shape[1:], bool))[call]()


def test_attention_mask_may_broadcast_over_queries_but_not_over_the_batch():
    q, v = _floats(B, TQ, D), _floats(B, TV, D)
    mask = np.ones((B, 1, TV), bool)
    mask[:, :, 0] = False
    _, weights = MultiHeadAttention(2, 4)(q, v, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(weights)[..., 0], 0.0)


@pytest.mark.parametrize("call", [
    lambda x: Attention()(x, _floats(B, TV, D)),
    lambda x: Attention()(_floats(B, TV, D), x),
    lambda x: MultiHeadAttention(2, 4)(x, _floats(B, TV, D)),
    lambda x: SelfAttention(2, 4)(x),
    lambda x: TransformerEncoderBlock(2, 4, 8)(x),
], ids=["Attention query", "Attention value", "MultiHeadAttention", "SelfAttention",
        "TransformerEncoderBlock"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_inputs_are_refused_on_eager_calls(call, bad):
    x = _floats(B, TQ, D)
    x[1, 2, 3] = bad
    with pytest.raises(ValueError, match=rf"must be finite; (query|value|inputs)\[1, 2, 3\] is {bad}\. "
                                         r"Replace NaN and inf before the attention layer\."):
        call(x)


def test_nan_is_not_checked_in_a_training_call():
    """The training step reads nothing back from the device (the benchmarked path)."""
    x = _floats(B, TQ, D)
    x[0, 0, 0] = np.nan
    out = TransformerEncoderBlock(2, 4, 8)(x, training=True)
    assert np.isnan(keras.ops.convert_to_numpy(out)).any()


def test_float16_dot_scores_do_not_overflow():
    """64 features near 40: the dot score is 102400 > float16's 65504."""
    keras.config.set_dtype_policy("mixed_float16")
    query = np.full((1, 1, 64), 40.0, "float32")
    value = np.full((1, 3, 64), 40.0, "float32")
    value[0, 1] = 39.0
    for layer in (Attention("dot"), Attention("scaled_dot")):
        context, weights = layer(query, value, return_attention_scores=True)
        assert keras.backend.standardize_dtype(weights.dtype) == "float16"  # the layer's dtype
        weights = keras.ops.convert_to_numpy(weights).astype("float32")
        assert np.all(np.isfinite(weights)) and np.all(np.isfinite(keras.ops.convert_to_numpy(context)))
        np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-3)
    heads = MultiHeadAttention(2, 64, score="dot", use_bias=False, kernel_initializer="identity")
    out, weights = heads(np.full((1, 2, 128), 40.0, "float32"), np.full((1, 3, 128), 40.0, "float32"),
                         return_attention_scores=True)
    assert keras.backend.standardize_dtype(weights.dtype) == "float16"
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(weights).astype("float32")))


def test_graph_attention_adjacency_must_be_boolean_too():
    adjacency = np.eye(4, dtype="float32") * 0.5
    with pytest.raises(ValueError, match=re.escape(
            "`adjacency` must be a boolean mask (True = may attend; 0/1 numbers are read the same way). "
            "Received: adjacency of dtype float32 holding 0.5")):
        GraphAttention(2)(_floats(4, 3), adjacency=adjacency)
