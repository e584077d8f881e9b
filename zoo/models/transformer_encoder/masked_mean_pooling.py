"""MaskedMeanPooling: the mean of a sequence over its real tokens."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class MaskedMeanPooling(keras.layers.Layer):
    """h = Σ_t m_t h_t / max(1, Σ_t m_t), with m the padding mask.

    Written here because keras' `GlobalAveragePooling1D` divides by Σ_t m_t
    and returns NaN for an empty sequence (an empty string); this gives 0.

    Call arguments:
        inputs: `[B, T, D]`.
        mask: bool `[B, T]`, True for real tokens (None: plain mean).

    Returns:
        `[B, D]`.
    """

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1)
        weights = ops.cast(mask, inputs.dtype)[..., None]  # [B, T] -> [B, T, 1]
        total = ops.sum(inputs * weights, axis=1)  # [B, D]
        count = ops.maximum(ops.sum(weights, axis=1), 1.0)  # [B, 1]
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], inputs_shape[-1])
