"""MultiHeadAttention: K attention heads merged by concatenation or mean."""

import keras
from keras import ops

from zoo import ops as zoo_ops
from zoo._initializers import clone_initializer
from zoo._validation import (
    assert_choice,
    assert_finite,
    assert_mask,
    assert_positive_int,
    assert_rate,
    assert_same_size,
    assert_tensor,
)

SCORES = ("dot", "scaled_dot")
MERGES = ("concat", "mean")


@keras.saving.register_keras_serializable(package="zoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with the lecture's two ways of merging heads.

    Head k scores a^k(h_i, h'_t) = (K^k h_i)ᵀ (Q^k h'_t) = h_iᵀ W^k h'_t, a
    bilinear form with W^k = K^kᵀ Q^k of rank ≤ key_dim (optionally scaled
    by 1/sqrt(key_dim)); then

        α^k_ti = softmax_i a^k(h_i, h'_t),   c^k_t = Σ_i α^k_ti V^k h_i
        c_t = O · concat_k c^k_t     (merge="concat", Vaswani et al.)
        c_t = O · mean_k c^k_t       (merge="mean", the lecture's averaging)

    where O projects to `output_dim` (default: the query's size).

    Args:
        num_heads: number of heads K.
        key_dim: size of each head's query/key projection.
        value_dim: size of each head's value projection (default key_dim).
        score: ``"scaled_dot"`` (default) or ``"dot"``.
        merge: ``"concat"`` (default) or ``"mean"``.
        output_dim: size of the output projection (default: query dim).
        dropout: dropout rate on the attention weights during training.
        use_bias: biases in the projections.
        kernel_initializer, kernel_regularizer: for all projections.

    Call arguments:
        query `[B, Tq, Dq]`, value `[B, Tv, Dv]`, key `[B, Tv, Dk]` (default
        value); query_mask `[B, Tq]`, value_mask `[B, Tv]`, key_mask
        `[B, Tv]`, attention_mask `[B, Tq, Tv]` (bool, True = may attend;
        0/1 numbers read the same, any other float value is refused, as is a
        float mask in a traced graph; the batch must be B, only
        attention_mask's Tq and Tv may be 1); use_causal_mask;
        return_attention_scores; training.

    NaN and inf in query, value or key: refused on eager inference calls
    (not `training`), with the entry named; not checked in fit's compiled
    steps or exports. float16: the scores QKᵀ are computed in float32
    (`zoo.ops.dot_scores`), so they do not overflow before the softmax.

    Returns:
        `[B, Tq, output_dim]`, and the weights `[B, H, Tq, Tv]` if asked.

    Example:

    >>> mha = MultiHeadAttention(num_heads=4, key_dim=8, merge="mean")
    >>> out, w = mha(np.zeros((2, 5, 16)), np.zeros((2, 7, 16)),
    ...              return_attention_scores=True)
    >>> out.shape, w.shape
    ((2, 5, 16), (2, 4, 5, 7))
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        score="scaled_dot",
        merge="concat",
        output_dim=None,
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        assert_positive_int("num_heads", num_heads)
        assert_positive_int("key_dim", key_dim)
        assert_positive_int("value_dim", value_dim, allow_none=True)
        assert_positive_int("output_dim", output_dim, allow_none=True)
        assert_choice("score", score, SCORES)
        assert_choice("merge", merge, MERGES)
        assert_rate("dropout", dropout)
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim or key_dim
        self.score = score
        self.merge = merge
        self.output_dim = output_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.supports_masking = True  # The output keeps the query's mask.

    def _dense(self, units, name, kernel_initializer=None, index=0):
        """A projection; `index` gives it its own copy of the kernel initializer."""
        return keras.layers.Dense(
            units,
            use_bias=self.use_bias,
            kernel_initializer=(kernel_initializer
                                or clone_initializer(self.kernel_initializer, index)),
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        heads = self.num_heads
        self.query_dense = self._dense(heads * self.key_dim, "query", index=0)
        self.key_dense = self._dense(heads * self.key_dim, "key", index=1)
        self.value_dense = self._dense(heads * self.value_dim, "value", index=2)
        self.output_dense = self._dense(self.output_dim or query_shape[-1], "output", index=3)
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        merged = heads * self.value_dim if self.merge == "concat" else self.value_dim
        self.output_dense.build(tuple(query_shape[:-1]) + (merged,))

    def _split_heads(self, x, head_dim):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        x = ops.reshape(x, (batch, length, self.num_heads, head_dim))  # [B, T, H, d]
        return ops.transpose(x, (0, 2, 1, 3))  # [B, H, T, d]

    def _attend(self, query, key, value, mask, training):
        """Heads in, heads out: [B, H, Tq, dk], [B, H, Tv, dk|dv] -> [B, H, Tq, dv]."""
        if self.score == "scaled_dot":
            scores = zoo_ops.scaled_dot_scores(query, key)  # [B, H, Tq, Tv]
        else:
            scores = zoo_ops.dot_scores(query, key)
        if mask is not None:
            mask = ops.expand_dims(mask, 1)  # [B, 1, Tq, Tv]
        weights, dropped = zoo_ops.masked_softmax_dropout(  # float32 scores of float16 inputs
            scores, mask, self.dropout_layer, training, dtype=value.dtype)
        return ops.matmul(dropped, value), weights

    def _merge_heads(self, context):
        if self.merge == "mean":
            return ops.mean(context, axis=1)  # [B, Tq, dv]
        batch, length = ops.shape(context)[0], ops.shape(context)[2]
        context = ops.transpose(context, (0, 2, 1, 3))  # [B, Tq, H, dv]
        return ops.reshape(context, (batch, length, self.num_heads * self.value_dim))

    def _check_masks(self, masks, query_shape, value_shape):
        """`masks`: name -> mask; each must fit [B, Tq] (query_mask),
        [B, Tv] (value_mask, key_mask) or [B, Tq, Tv] (attention_mask)."""
        batch, tq = (query_shape or (None, None))[:2]
        tv = (value_shape or (None, None))[1]
        layouts = {"query_mask": (("B", "Tq"), (batch, tq)),
                   "value_mask": (("B", "Tv"), (batch, tv)), "key_mask": (("B", "Tv"), (batch, tv)),
                   "mask": (("B", "T"), (batch, tq)),
                   "attention_mask": (("B", "Tq", "Tv"), (batch, tq, tv))}
        for name, mask in masks.items():
            layout, expected = layouts[name]
            # Only attention_mask's Tq and Tv may be 1 (broadcast); never a batch.
            assert_mask(name, mask, layout, expected, broadcast=name == "attention_mask")

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
    ):
        q = assert_tensor("query", query, ("B", "Tq", "Dq"), floating=True)
        v = assert_tensor("value", value, ("B", "Tv", "Dv"), floating=True)
        k = v if key is None else assert_tensor("key", key, ("B", "Tv", "Dk"), floating=True)
        if q is not None and v is not None and k is not None:
            assert_same_size("The batch sizes of `query`, `value` and `key`",
                             {"query.shape[0]": q[0], "value.shape[0]": v[0], "key.shape[0]": k[0]})
            assert_same_size("The lengths Tv of `key` and `value`",
                             {"value.shape[1]": v[1], "key.shape[1]": k[1]})
        self._check_masks({"query_mask": query_mask, "value_mask": value_mask, "key_mask": key_mask,
                           "attention_mask": attention_mask}, q, v)
        if not training:  # Eager inference only: a training step must not wait on the host.
            for name, x in (("query", query), ("value", value), ("key", key)):
                assert_finite(name, x)
        key = value if key is None else key
        if key_mask is not None:
            value_mask = key_mask if value_mask is None else ops.logical_and(value_mask, key_mask)
        mask = zoo_ops.merge_masks(
            query_mask,
            value_mask,
            attention_mask,
            use_causal_mask,
            query_length=ops.shape(query)[1],
            value_length=ops.shape(value)[1],
        )
        q = self._split_heads(self.query_dense(query), self.key_dim)  # [B, H, Tq, dk]
        k = self._split_heads(self.key_dense(key), self.key_dim)  # [B, H, Tv, dk]
        v = self._split_heads(self.value_dense(value), self.value_dim)  # [B, H, Tv, dv]
        context, weights = self._attend(q, k, v, mask, training)
        output = self.output_dense(self._merge_heads(context))  # [B, Tq, output_dim]
        if return_attention_scores:
            return output, weights
        return output

    def get_config(self):
        config = super().get_config()
        config.update(
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.value_dim,
            score=self.score,
            merge=self.merge,
            output_dim=self.output_dim,
            dropout=self.dropout,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config
