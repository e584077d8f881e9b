"""Mask merging, and a masked softmax (with or without dropout) that is safe in
float16 / bfloat16."""

from keras import ops, random


def merge_masks(
    query_mask=None,
    value_mask=None,
    attention_mask=None,
    use_causal_mask=False,
    query_length=None,
    value_length=None,
):
    """Combines every kind of mask into one boolean `[B, Tq, Tv]` mask.

    The one helper all attention layers use, so a padding mask, an explicit
    attention mask and the causal mask always mean the same thing:
    True = the query may attend to that value.

    Args:
        query_mask: bool `[B, Tq]`; False rows attend to nothing (their
            weights are all 0).
        value_mask: bool `[B, Tv]`; False columns receive no attention.
        attention_mask: bool `[B, Tq, Tv]` (or broadcastable to it).
        use_causal_mask: if True, query t attends only to values i <= t.
        query_length: Tq, needed for the causal mask.
        value_length: Tv, needed for the causal mask.

    Returns:
        A bool tensor broadcastable to `[B, Tq, Tv]`, or None when no mask
        was given.
    """
    mask = None

    def _and(a, b):
        return b if a is None else ops.logical_and(a, b)

    if query_mask is not None:
        mask = _and(mask, ops.expand_dims(ops.cast(query_mask, "bool"), -1))  # [B, Tq, 1]
    if value_mask is not None:
        mask = _and(mask, ops.expand_dims(ops.cast(value_mask, "bool"), -2))  # [B, 1, Tv]
    if attention_mask is not None:
        mask = _and(mask, ops.cast(attention_mask, "bool"))
    if use_causal_mask:
        causal = ops.tril(ops.ones((query_length, value_length), dtype="int32"))
        mask = _and(mask, ops.cast(causal, "bool")[None])  # [1, Tq, Tv]
    return mask


def _softmax_and_mask(scores, mask, axis):
    """float32 softmax over `axis` with the masked entries at exactly 0 in
    every row that has a real entry (rows fully masked come out uniform),
    and the mask as float32 (None without one): the product zeroes the rest."""
    x = ops.cast(scores, "float32")
    mask = None if mask is None else ops.cast(mask, "float32")
    if x.shape[axis] == 1:
        # One key (a one-word sentence, a 1 × 1 grid): every weight is 1.
        # Not ops.softmax, which warns on a size-1 axis at every call.
        return ops.ones_like(x), mask
    if mask is None:
        return ops.softmax(x, axis=axis), None
    # A finite stand-in for -inf (its sum with a score stays finite): exp of
    # it minus a real row's max is exactly 0. An additive bias keeps the
    # softmax one fused kernel.
    return ops.softmax(x + (1.0 - mask) * -1.7e38, axis=axis), mask


def masked_softmax(scores, mask=None, axis=-1, dtype=None):
    """Softmax over `axis` that gives exactly 0 where `mask` is False.

    α_i = exp(s_i) [m_i] / Σ_j exp(s_j) [m_j]   (the lecture's exp-dot norm).

    Computed in float32 and cast back, so float16 / bfloat16 scores neither
    overflow nor lose the normalisation, and the masking constant is added
    in float32 (in float16 it would be -inf). A fully masked row gives all
    zeros, never NaN.

    Args:
        scores: float tensor of attention scores.
        mask: bool tensor broadcastable to `scores`, True = may attend.
        axis: the axis to normalise over.
        dtype: of the weights (default: that of `scores`); float16 layers
            pass theirs with float32 scores (`zoo.ops.dot_scores`).

    Returns:
        Weights with the dtype `dtype`.
    """
    weights, mask = _softmax_and_mask(scores, mask, axis)
    return ops.cast(weights if mask is None else weights * mask, dtype or scores.dtype)


def masked_softmax_dropout(scores, mask, dropout, training=False, axis=-1, dtype=None):
    """`masked_softmax` and the same weights after dropout, in one multiply.

        α = masked_softmax(s, m),   α̃ = α ⊙ [u ≥ rate] / (1 − rate),   u ~ U[0, 1)

    with the mask folded into the dropout's multiplier: α̃ = p ⊙ M, where p
    is the softmax before the mask and M = [u ≥ rate ∧ m] / (1 − rate).
    keras.layers.Dropout after `masked_softmax` computes the same α̃ (on
    TensorFlow from the very same u for the same seed), but its gradient
    takes three passes over the `[B, H, Tq, Tv]` weights (its select and
    scale, then the mask); this one takes one. α itself is for returning to
    the caller: when nothing uses it, a TensorFlow graph never computes it.

    Args:
        scores, mask, axis, dtype: as in `masked_softmax` (mask may be None).
        dropout: the caller's `keras.layers.Dropout`, whose rate and seed
            generator are used (its own call is not).
        training: dropout only when True (else α̃ = α).

    Returns:
        (α, α̃), both with the dtype `dtype` (default: that of `scores`).
    """
    dtype = dtype or scores.dtype
    rate = dropout.rate
    if not training or rate == 0:
        weights = masked_softmax(scores, mask, axis, dtype)
        return weights, weights
    probabilities, float_mask = _softmax_and_mask(scores, mask, axis)
    weights = probabilities if mask is None else probabilities * float_mask
    keep = random.uniform(ops.shape(probabilities), seed=dropout.seed_generator) >= rate
    if mask is not None:
        keep = ops.logical_and(keep, ops.cast(mask, "bool"))
    multiplier = ops.where(keep, 1.0 / (1.0 - rate), 0.0)  # M
    dropped = probabilities * multiplier
    return ops.cast(weights, dtype), ops.cast(dropped, dtype)


__all__ = ["merge_masks", "masked_softmax", "masked_softmax_dropout"]
