"""Attention score functions a(h_i, h'_t) of the lecture.

Every function takes the queries h'_t `[..., Tq, Dq]` and the keys h_i
`[..., Tv, Dk]` and returns scores `[..., Tq, Tv]`; parameters are passed in,
so the layers own the weights and these stay pure.
"""

import math

import keras
from keras import ops


def dot_scores(query, key):
    """a(h_i, h'_t) = h_iᵀ h'_t. Needs Dq == Dk.

    float16 (``mixed_float16``) tops out at 65504, which a D = 64 product of
    values near 40 already exceeds (64 · 40² = 102400): with float16 inputs
    the score is computed, and returned, in float32 (the softmax runs in
    float32 anyway, `zoo.ops.masked_softmax`). bfloat16 has float32's range
    and stays as it is; float32 inputs are untouched.
    """
    if keras.backend.standardize_dtype(query.dtype) == "float16":
        query, key = ops.cast(query, "float32"), ops.cast(key, "float32")
    return ops.matmul(query, ops.swapaxes(key, -1, -2))  # [..., Tq, Tv]


def scaled_dot_scores(query, key):
    """a(h_i, h'_t) = h_iᵀ h'_t / sqrt(D) (Vaswani et al., 2017); float16
    inputs give a float32 score (see `dot_scores`)."""
    scale = 1.0 / math.sqrt(query.shape[-1])
    # Scaling the [Tq, D] query is cheaper than scaling the [Tq, Tv] scores.
    return dot_scores(ops.multiply(query, scale), key)  # a Python float keeps query.dtype


def bilinear_scores(query, key, kernel):
    """a(h_i, h'_t) = h_iᵀ W h'_t with `kernel` = Wᵀ of shape `[Dq, Dk]`.

    The product W h'_t stays in the input dtype (in float16 it can overflow
    for entries of W h'_t beyond 65504); the dot with h_i is `dot_scores`'.
    """
    return dot_scores(ops.matmul(query, kernel), key)  # (W h'_t) · h_i


def additive_scores(query_projection, key_projection, score_vector):
    """a(h_i, h'_t) = wᵀ tanh(U h_i + V h'_t) (Bahdanau et al., 2015).

    Args:
        query_projection: V h'_t, `[..., Tq, units]`.
        key_projection: U h_i, `[..., Tv, units]`.
        score_vector: w, `[units]`.
    """
    hidden = ops.tanh(
        ops.expand_dims(query_projection, -2) + ops.expand_dims(key_projection, -3)
    )  # [..., Tq, Tv, units]
    return ops.tensordot(hidden, score_vector, axes=1)  # [..., Tq, Tv]
