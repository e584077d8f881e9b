"""TransformerEncoderBlock: self-attention + feed-forward, with residuals."""

import keras
from keras import ops

from zoo._validation import assert_positive_int, assert_rate, assert_tensor
from zoo.layers.self_attention import SelfAttention


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """One transformer encoder block (Vaswani et al., 2017).

    Post-norm (``norm_first=False``, the paper):
        x = LN(h + Drop(SelfAttention(h)));  y = LN(x + Drop(FF(x)))
    Pre-norm (``norm_first=True``, more stable for deep stacks):
        x = h + Drop(SelfAttention(LN(h)));  y = x + Drop(FF(LN(x)))
    with FF(x) = W₂ act(W₁ x + b₁) + b₂.

    Args:
        num_heads: attention heads.
        key_dim: size of each head's query/key.
        ff_dim: hidden size of the feed-forward network.
        dropout: on the attention weights and on both residual branches.
        norm_first: pre-norm instead of post-norm.
        merge: ``"concat"`` or ``"mean"`` (see `MultiHeadAttention`).
        activation: of the feed-forward hidden layer.
        layer_norm_epsilon: of both layer norms.

    Call arguments:
        inputs `[B, T, D]`; mask bool `[B, T]` (padding; propagated);
        attention_mask `[B, T, T]`; return_attention_scores; training.

    Returns:
        `[B, T, D]`, and the weights `[B, H, T, T]` if asked.

    Example:

    >>> block = TransformerEncoderBlock(num_heads=2, key_dim=8, ff_dim=32)
    >>> block(np.zeros((2, 5, 16))).shape
    (2, 5, 16)
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        ff_dim,
        dropout=0.0,
        norm_first=False,
        merge="concat",
        activation="relu",
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        assert_positive_int("ff_dim", ff_dim)
        assert_rate("dropout", dropout)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.norm_first = norm_first
        self.merge = merge
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        # Created here so that bad head arguments fail at construction.
        self.attention = SelfAttention(
            num_heads, key_dim, merge=merge, dropout=dropout,
            dtype=self.dtype_policy, name="self_attention",
        )
        self.supports_masking = True

    def build(self, inputs_shape):
        dim = inputs_shape[-1]
        policy = self.dtype_policy
        eps = self.layer_norm_epsilon
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=eps, dtype=policy, name="attention_norm")
        self.ff_norm = keras.layers.LayerNormalization(epsilon=eps, dtype=policy, name="ff_norm")
        self.ff_hidden = keras.layers.Dense(
            self.ff_dim, self.activation, dtype=policy, name="ff_hidden")
        self.ff_output = keras.layers.Dense(dim, dtype=policy, name="ff_output")
        self.residual_dropout = keras.layers.Dropout(self.dropout, dtype=policy)
        self.attention.build(inputs_shape)
        self.attention_norm.build(inputs_shape)
        self.ff_norm.build(inputs_shape)
        self.ff_hidden.build(inputs_shape)
        self.ff_output.build(tuple(inputs_shape[:-1]) + (self.ff_dim,))

    def call(
        self,
        inputs,
        mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
    ):
        # Checked here too: an int input would fail first in the residual sum.
        assert_tensor("inputs", inputs, ("B", "T", "D"), floating=True)
        x = self.attention_norm(inputs) if self.norm_first else inputs
        x, weights = self.attention(
            x, mask=mask, attention_mask=attention_mask,
            return_attention_scores=True, training=training,
        )
        x = inputs + self.residual_dropout(x, training=training)
        if not self.norm_first:
            x = self.attention_norm(x)
        y = self.ff_norm(x) if self.norm_first else x
        # On [B·T, D]: a 2-D Dense is one MatMul (a 3-D one is a tensordot).
        y = self.ff_output(self.ff_hidden(ops.reshape(y, (-1, y.shape[-1]))))  # [B·T, D]
        y = ops.reshape(y, ops.shape(x))  # [B, T, D]
        y = x + self.residual_dropout(y, training=training)
        if not self.norm_first:
            y = self.ff_norm(y)
        if return_attention_scores:
            return y, weights
        return y

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            ff_dim=self.ff_dim,
            dropout=self.dropout,
            norm_first=self.norm_first,
            merge=self.merge,
            activation=keras.activations.serialize(self.activation),
            layer_norm_epsilon=self.layer_norm_epsilon,
        )
        return config
