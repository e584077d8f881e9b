"""SelfAttention: multi-head attention of a sequence over itself."""

import keras

from zoo.layers.multi_head_attention import MultiHeadAttention


@keras.saving.register_keras_serializable(package="zoo")
class SelfAttention(MultiHeadAttention):
    """Self-attention: h_i and h'_t come from the same sequence.

        α^k_ti = softmax_i (K^k h_i)ᵀ (Q^k h_t),   c_t = O · merge_k Σ_i α^k_ti V^k h_i

    Takes the arguments of `MultiHeadAttention`; the call takes one
    sequence and its padding mask (picked up automatically from an
    `Embedding(mask_zero=True)`).

    Call arguments:
        inputs: `[B, T, D]`.
        mask: bool `[B, T]`, True for real tokens.
        attention_mask: bool `[B, T, T]`.
        use_causal_mask: position t attends only to positions <= t.
        return_attention_scores: also return `[B, H, T, T]`.
        training: enables dropout.

    Example:

    >>> sa = SelfAttention(num_heads=2, key_dim=8)
    >>> sa(np.zeros((2, 5, 16))).shape
    (2, 5, 16)
    """

    def build(self, inputs_shape):
        super().build(inputs_shape, inputs_shape)

    def call(
        self,
        inputs,
        mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        return super().call(
            inputs,
            inputs,
            query_mask=mask,
            value_mask=mask,
            attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
            return_attention_scores=return_attention_scores,
            training=training,
        )

    def compute_mask(self, inputs, mask=None):
        return mask
