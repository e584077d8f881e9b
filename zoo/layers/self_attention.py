"""SelfAttention: multi-head attention of a sequence over itself."""

import keras
from keras import ops

from zoo import ops as zoo_ops
from zoo._initializers import clone_initializer
from zoo._validation import assert_finite, assert_tensor
from zoo.layers.multi_head_attention import MultiHeadAttention


def _side_by_side(initializer, widths):
    """Initialises a [D, Σ widths] kernel block by block, each block as its
    own [D, width] kernel: the stacked Q|K|V starts exactly like three
    separate projections (glorot of [D, 3D] would be √2 narrower)."""
    def initialize(shape, dtype=None):
        blocks = [clone_initializer(initializer, i)((shape[0], width), dtype=dtype)
                  for i, width in enumerate(widths)]
        return ops.concatenate(blocks, axis=-1)  # [D, Σ widths]

    return initialize


@keras.saving.register_keras_serializable(package="zoo")
class SelfAttention(MultiHeadAttention):
    """Self-attention: h_i and h'_t come from the same sequence.

        α^k_ti = softmax_i (K^k h_i)ᵀ (Q^k h_t),   c_t = O · merge_k Σ_i α^k_ti V^k h_i

    Takes the arguments of `MultiHeadAttention`; the call takes one
    sequence and its padding mask (picked up automatically from an
    `Embedding(mask_zero=True)`). Q, K and V project the same h, so they are
    one matmul with the stacked kernel [W_Q | W_K | W_V] (weights ``qkv``
    and ``output``), as in GPT-2's ``c_attn``: one GEMM instead of three.

    Call arguments:
        inputs: `[B, T, D]`.
        mask: bool `[B, T]`, True for real tokens.
        attention_mask: bool `[B, T, T]`. Both as in `MultiHeadAttention`:
            0/1 numbers are read as booleans, other float values refused,
            the batch must be B. NaN or inf inputs are refused on eager
            inference calls.
        use_causal_mask: position t attends only to positions <= t.
        return_attention_scores: also return `[B, H, T, T]`.
        training: enables dropout.

    Example:

    >>> sa = SelfAttention(num_heads=2, key_dim=8)
    >>> sa(np.zeros((2, 5, 16))).shape
    (2, 5, 16)
    """

    def build(self, inputs_shape):
        heads, dk, dv = self.num_heads, self.key_dim, self.value_dim
        widths = (heads * dk, heads * dk, heads * dv)
        self.qkv_dense = self._dense(sum(widths), "qkv", _side_by_side(self.kernel_initializer, widths))
        self.output_dense = self._dense(self.output_dim or inputs_shape[-1], "output", index=3)
        self.qkv_dense.build(inputs_shape)
        merged = heads * dv if self.merge == "concat" else dv
        self.output_dense.build(tuple(inputs_shape[:-1]) + (merged,))

    # The projections run on 2-D row matrices: a 2-D Dense is one MatMul,
    # where a 3-D one goes through tensordot's reshapes and shape ops.
    def _split_qkv(self, qkv, batch, length):
        """qkv [B·T, H·(2dk + dv)] -> q, k [B, H, T, dk] and v [B, H, T, dv]."""
        heads, dk, dv = self.num_heads, self.key_dim, self.value_dim
        if dk == dv:  # one reshape and one transpose for all three
            qkv = ops.reshape(qkv, (batch, length, 3, heads, dk))  # [B, T, 3, H, d]
            qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))  # [3, B, H, T, d]
            # unstack, not qkv[i]: a slice's gradient is a zero-filled
            # [3, B, H, T, d] tensor per slice; unstack's is one stack.
            return ops.unstack(qkv, 3, axis=0)
        q, k, v = ops.split(qkv, [heads * dk, 2 * heads * dk], axis=-1)
        q, k, v = (ops.reshape(x, (batch, length, -1)) for x in (q, k, v))  # [B, T, H·d]
        return self._split_heads(q, dk), self._split_heads(k, dk), self._split_heads(v, dv)

    def attend_rows(self, rows, batch, length, mask=None, attention_mask=None,
                    use_causal_mask=False, positions=None, training=None):
        """Self-attention of sequences given as rows; `call` without its checks.

        Args:
            rows: `[B·T, D]`, the sequences one row per position; or, with
                `positions`, `[N, D]`: only the tokens at those rows.
            batch, length: B and T.
            mask, attention_mask, use_causal_mask: as in `call`.
            positions: int32 `[N]`, the row (b·T + t) of each of `rows` in
                `[B·T, D]`. The projections then run on the N tokens alone;
                the other positions get zero keys and values, which `mask`
                must hide.
            training: enables dropout.

        Returns:
            `[B·T or N, output_dim]` in the layout of `rows`, and the weights
            `[B, H, T, T]`.
        """
        mask = zoo_ops.merge_masks(mask, mask, attention_mask, use_causal_mask,
                                   query_length=length, value_length=length)
        qkv = self.qkv_dense(rows)  # [B·T or N, H·(2dk + dv)]
        if positions is not None:
            qkv = ops.scatter(positions[:, None], qkv, (batch * length, qkv.shape[-1]))  # [B·T, ...]
        q, k, v = self._split_qkv(qkv, batch, length)
        context, weights = self._attend(q, k, v, mask, training)
        merged = self._merge_heads(context)  # [B, T, H·dv] or [B, T, dv]
        merged = ops.reshape(merged, (-1, merged.shape[-1]))  # [B·T, H·dv or dv]
        if positions is not None:
            merged = ops.take(merged, positions, axis=0)  # [N, H·dv or dv]
        return self.output_dense(merged), weights

    def call(
        self,
        inputs,
        mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        self.check_inputs(inputs, mask, attention_mask, training)
        batch, length = ops.shape(inputs)[0], ops.shape(inputs)[1]
        rows = ops.reshape(inputs, (-1, inputs.shape[-1]))  # [B·T, D]
        output, weights = self.attend_rows(rows, batch, length, mask, attention_mask, use_causal_mask,
                                           training=training)
        output = ops.reshape(output, (batch, length, output.shape[-1]))  # [B, T, output_dim]
        if return_attention_scores:
            return output, weights
        return output

    def check_inputs(self, inputs, mask=None, attention_mask=None, training=None):
        """Raises a clear error for inputs or masks that do not fit (static
        shapes and dtypes), and on eager inference calls for NaN or inf
        inputs and non-0/1 masks (a training step reads no values)."""
        shape = assert_tensor("inputs", inputs, ("B", "T", "D"), floating=True)
        built = self.qkv_dense.kernel.shape[0]
        if shape is not None and shape[-1] is not None and shape[-1] != built:
            raise ValueError(f"The last dimension of `inputs` must be {built}, the size this layer "
                             f"was built with (its first call). Received: inputs.shape={shape}")
        self._check_masks({"mask": mask, "attention_mask": attention_mask}, shape, shape)
        if not training:
            assert_finite("inputs", inputs)

    def compute_mask(self, inputs, mask=None):
        return mask
