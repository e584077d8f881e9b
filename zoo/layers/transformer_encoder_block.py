"""TransformerEncoderBlock: self-attention + feed-forward, with residuals."""

import keras
from keras import ops

from zoo import ops as zoo_ops
from zoo._validation import assert_positive_int, assert_rate
from zoo.layers.self_attention import SelfAttention


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """One transformer encoder block (Vaswani et al., 2017).

    Post-norm (``norm_first=False``, the paper):
        x = LN(h + Drop(SelfAttention(h)));  y = LN(x + Drop(FF(x)))
    Pre-norm (``norm_first=True``, more stable for deep stacks):
        x = h + Drop(SelfAttention(LN(h)));  y = x + Drop(FF(LN(x)))
    with FF(x) = W₂ act(W₁ x + b₁) + b₂. Padded positions (mask False)
    come out as 0.

    With a padding mask, everything but the attention itself works on each
    position alone, so by default it runs on the N real tokens only, as
    `[N, D]` rows (PyTorch's nested-tensor fast path and FasterTransformer's
    "remove padding" do the same): with a third of the positions padded, a
    third of the projection and feed-forward work is skipped. Under XLA and
    JAX, where shapes are fixed at compile time, every position is computed
    (`zoo.ops.token_positions`); the outputs are the same either way, up to
    rounding.

    Args:
        num_heads: attention heads.
        key_dim: size of each head's query/key.
        ff_dim: hidden size of the feed-forward network.
        dropout: on the attention weights and on both residual branches.
        norm_first: pre-norm instead of post-norm.
        merge: ``"concat"`` or ``"mean"`` (see `MultiHeadAttention`).
        activation: of the feed-forward hidden layer.
        layer_norm_epsilon: of both layer norms.
        skip_padding: run the per-position layers on the real tokens only
            (when a mask is given and shapes may depend on the data).

    Call arguments:
        inputs `[B, T, D]`; mask bool `[B, T]` (padding; propagated);
        attention_mask `[B, T, T]`; return_attention_scores; training.
        Masks and NaN/inf inputs are checked as in `SelfAttention` (the
        values on eager inference calls only: the benchmarked training
        step reads nothing back from the device).

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
        skip_padding=True,
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
        self.skip_padding = skip_padding
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
        # SelfAttention.call's checks: attend_rows, called below, makes none.
        self.attention.check_inputs(inputs, mask, attention_mask, training)
        batch, length, dim = ops.shape(inputs)[0], ops.shape(inputs)[1], inputs.shape[-1]
        # On rows [B·T, D] or [N, D]: a 2-D Dense is one MatMul (a 3-D one is a tensordot).
        rows = ops.reshape(inputs, (-1, dim))  # [B·T, D]
        positions = None
        if mask is not None and self.skip_padding:
            positions = zoo_ops.token_positions(mask)  # [N], or None under XLA
        if positions is not None:
            rows = ops.take(rows, positions, axis=0)  # [N, D]
        x = self.attention_norm(rows) if self.norm_first else rows
        x, weights = self.attention.attend_rows(x, batch, length, mask, attention_mask,
                                                positions=positions, training=training)
        x = rows + self.residual_dropout(x, training=training)
        if not self.norm_first:
            x = self.attention_norm(x)
        y = self.ff_norm(x) if self.norm_first else x
        y = x + self.residual_dropout(self.ff_output(self.ff_hidden(y)), training=training)
        if not self.norm_first:
            y = self.ff_norm(y)
        if positions is not None:
            y = ops.scatter(positions[:, None], y, (batch * length, dim))  # [B·T, D], padding 0
        elif mask is not None:
            y = y * ops.cast(ops.reshape(mask, (-1, 1)), y.dtype)  # [B·T, D], padding 0
        y = ops.reshape(y, (batch, length, dim))  # [B, T, D]
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
            skip_padding=self.skip_padding,
        )
        return config
