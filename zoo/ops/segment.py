"""Softmax over segments of an edge list (GAT's normalisation over N(t))."""

from keras import ops


def segment_softmax(scores, segment_ids, num_segments, mask=None):
    """Softmax of `scores` within each segment (e.g. each target node).

    α_e = exp(s_e) [m_e] / Σ_{e' : seg(e') = seg(e)} exp(s_e') [m_e']

    The per-segment max is subtracted first (computed in float32), so large
    scores neither overflow nor, in float16, underflow to a 0/0.

    Args:
        scores: float `[E, ...]`, one row per edge.
        segment_ids: int `[E]`, the segment (target node) of each edge, in
            `[0, num_segments)`; need not be sorted.
        num_segments: the number of segments N.
        mask: bool `[E]` or None; edges where it is False get weight exactly
            0. Every segment must keep an edge (GAT: its self-loop).

    Returns:
        `[E, ...]` weights with the dtype of `scores`, summing to 1 over the
        (unmasked) edges of each non-empty segment.
    """
    dtype = scores.dtype
    x = ops.cast(scores, "float32")
    if mask is not None:
        # A finite stand-in for -inf, left out of the max: exp of it minus
        # the segment's max is exactly 0.
        mask = ops.reshape(mask, (-1,) + (1,) * (len(x.shape) - 1))  # [E, 1, ...]
        x = ops.where(mask, x, -1.7e38)
    seg_max = ops.segment_max(x, segment_ids, num_segments=num_segments)  # [N, ...]
    x = x - ops.stop_gradient(ops.take(seg_max, segment_ids, axis=0))  # [E, ...]
    e = ops.exp(x)
    seg_sum = ops.segment_sum(e, segment_ids, num_segments=num_segments)  # [N, ...]
    # Every edge is in its own segment's sum, and its shifted score is <= 0
    # with the max edge at exp(0) = 1, so the denominator is >= 1.
    return ops.cast(e / ops.take(seg_sum, segment_ids, axis=0), dtype)
