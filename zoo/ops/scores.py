"""Attention score functions a(h_i, h'_t) of the lecture.

Every function takes the queries h'_t `[..., Tq, Dq]` and the keys h_i
`[..., Tv, Dk]` and returns scores `[..., Tq, Tv]`; parameters are passed in,
so the layers own the weights and these stay pure.
"""

import math

from keras import ops


def dot_scores(query, key):
    """a(h_i, h'_t) = h_iᵀ h'_t. Needs Dq == Dk."""
    return ops.matmul(query, ops.swapaxes(key, -1, -2))  # [..., Tq, Tv]


def scaled_dot_scores(query, key):
    """a(h_i, h'_t) = h_iᵀ h'_t / sqrt(D) (Vaswani et al., 2017)."""
    scale = 1.0 / math.sqrt(query.shape[-1])
    # Scaling the [Tq, D] query is cheaper than scaling the [Tq, Tv] scores.
    return dot_scores(ops.multiply(query, scale), key)  # a Python float keeps query.dtype


def bilinear_scores(query, key, kernel):
    """a(h_i, h'_t) = h_iᵀ W h'_t with `kernel` = Wᵀ of shape `[Dq, Dk]`."""
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
