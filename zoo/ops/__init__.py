"""Pure attention functions (keras.ops and seeded keras.random only): scores,
masking, normalisation."""

from zoo.ops.masking import masked_softmax, masked_softmax_dropout, merge_masks
from zoo.ops.packing import token_positions
from zoo.ops.scores import additive_scores, bilinear_scores, dot_scores, scaled_dot_scores
from zoo.ops.segment import segment_softmax

__all__ = [
    "additive_scores",
    "bilinear_scores",
    "dot_scores",
    "masked_softmax",
    "masked_softmax_dropout",
    "merge_masks",
    "scaled_dot_scores",
    "segment_softmax",
    "token_positions",
]
