"""Attention: one query sequence attends over one value sequence."""

import keras
from keras import ops

from zoo import ops as zoo_ops
from zoo._initializers import clone_initializer
from zoo._validation import (
    assert_choice,
    assert_finite,
    assert_mask,
    assert_mask_values,
    assert_positive_int,
    assert_rate,
    assert_same_size,
    assert_tensor,
)

SCORES = ("dot", "scaled_dot", "bilinear", "additive", "qkv")


@keras.saving.register_keras_serializable(package="zoo")
class Attention(keras.layers.Layer):
    """Attention of the lecture, with a selectable score function.

    For every query h'_t (e.g. a decoder state) and the values h_i (e.g. the
    encoder states):

        α_ti = softmax_i a(h_i, h'_t),        c_t = Σ_i α_ti v_i

    with the score a(h_i, h'_t) one of

    - ``"dot"``:        h_iᵀ h'_t                      (needs Dq == Dk)
    - ``"scaled_dot"``: h_iᵀ h'_t / sqrt(D)            (needs Dq == Dk)
    - ``"bilinear"``:   h_iᵀ W h'_t                    (W: Dk × Dq)
    - ``"additive"``:   wᵀ tanh(U h_i + V h'_t)        (own U, V, w; `units`)
    - ``"qkv"``:        (K h_i)ᵀ (Q h'_t), and c_t = Σ_i α_ti V h_i
      (`units` = the projected size; ``share_key_value=True`` makes V ≡ K).

    For every score but ``"qkv"`` the context is a weighted sum of the raw
    values v_i, so its size is Dv. Normalisation is the softmax (the
    lecture's exp-dot), computed in float32.

    Args:
        score: one of ``"dot"``, ``"scaled_dot"``, ``"bilinear"``,
            ``"additive"``, ``"qkv"``.
        units: hidden size of the additive score, or the projected size of
            qkv. Defaults to the query's last dimension.
        dropout: dropout rate on the attention weights during training.
        share_key_value: qkv only: use the key projection for the values too.
        kernel_initializer, kernel_regularizer: for the score's weights.

    Call arguments:
        query: `[B, Tq, Dq]`.
        value: `[B, Tv, Dv]`.
        key: `[B, Tv, Dk]`, defaults to `value`.
        query_mask: bool `[B, Tq]`; a masked query gets all-zero weights.
        value_mask: bool `[B, Tv]`; masked values get weight exactly 0.
            Masks are boolean, True = may attend (0/1 numbers read the
            same); a float mask holding anything else (an additive 0/-inf
            mask, 0.5) is refused, and so is a float mask in a traced graph,
            whose values cannot be checked (cast it to bool). A mask's batch
            must be B (it is never broadcast).
        return_attention_scores: also return the weights `[B, Tq, Tv]`.
        training: enables dropout.
        projected_key: `project_key(key)`, when already computed (then
            `key` is not read).

    Returns:
        context `[B, Tq, Dv]` (``units`` for qkv), and the weights if asked.

    NaN and inf: an eager inference call (not `training`) refuses them in
    query, value and key with a ValueError naming the entry, as
    `GraphAttention` does; fit's compiled steps and exported graphs read no
    values (a NaN there shows up in the loss). float16: the dot scores are
    computed in float32 (`zoo.ops.dot_scores`); the bilinear product W h'_t
    and the additive score stay in the layer's dtype.

    Example:

    >>> layer = Attention(score="additive", units=16)
    >>> context, weights = layer(
    ...     np.zeros((2, 3, 8)), np.zeros((2, 5, 4)), return_attention_scores=True)
    >>> context.shape, weights.shape
    ((2, 3, 4), (2, 3, 5))
    """

    def __init__(
        self,
        score="dot",
        units=None,
        dropout=0.0,
        share_key_value=False,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        assert_choice("score", score, SCORES)
        assert_positive_int("units", units, allow_none=True)
        assert_rate("dropout", dropout)
        if share_key_value and score != "qkv":
            raise ValueError(
                "`share_key_value=True` is only meaningful with score='qkv' "
                f"(keys and values share the K projection). Received: score={score!r}"
            )
        if units is not None and score in ("dot", "scaled_dot", "bilinear"):
            raise ValueError(
                f"`units` is used only by score='additive' or 'qkv'; score={score!r} "
                f"has no hidden size. Received: units={units!r}"
            )
        self.score = score
        self.units = units
        self.dropout = dropout
        self.share_key_value = share_key_value
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.supports_masking = True  # The output keeps the query's mask.

    def _kernel(self, name, shape, index):
        """A weight with its own copy of the kernel initializer (`index`)."""
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=clone_initializer(self.kernel_initializer, index),
            regularizer=self.kernel_regularizer,
        )

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        dq, dk, dv = query_shape[-1], key_shape[-1], value_shape[-1]
        units = self.units or dq
        if self.score in ("dot", "scaled_dot") and dq != dk:
            raise ValueError(
                f"score={self.score!r} compares query and key directly, so their last "
                f"dimensions must match. Received: query dim={dq}, key dim={dk}. "
                "Use score='bilinear' or score='qkv' for vectors of different sizes."
            )
        if self.score == "bilinear":
            self.kernel = self._kernel("kernel", (dq, dk), 0)  # Wᵀ
        elif self.score == "additive":
            self.query_kernel = self._kernel("query_kernel", (dq, units), 0)  # V
            self.key_kernel = self._kernel("key_kernel", (dk, units), 1)  # U
            self.score_vector = self._kernel("score_vector", (units, 1), 2)  # w
        elif self.score == "qkv":
            if self.share_key_value and dk != dv:
                raise ValueError(
                    "share_key_value=True applies K to the values too, so key and value "
                    f"dims must match. Received: key dim={dk}, value dim={dv}."
                )
            self.query_kernel = self._kernel("query_kernel", (dq, units), 0)  # Q
            self.key_kernel = self._kernel("key_kernel", (dk, units), 1)  # K
            if not self.share_key_value:
                self.value_kernel = self._kernel("value_kernel", (dv, units), 2)  # V

    def project_key(self, key):
        """What the score reads of the keys `[B, Tv, Dk]`: U h_i (additive),
        K h_i (qkv), h_i itself otherwise.

        A decoder attends over the same keys at every step: it computes this
        once and passes it to `call` as `projected_key`.
        """
        if self.score in ("additive", "qkv"):
            return ops.matmul(key, self.key_kernel)  # [B, Tv, units]
        return key

    def _scores(self, query, projected_key):
        if self.score == "dot":
            return zoo_ops.dot_scores(query, projected_key)
        if self.score == "scaled_dot":
            return zoo_ops.scaled_dot_scores(query, projected_key)
        if self.score == "bilinear":
            return zoo_ops.bilinear_scores(query, projected_key, self.kernel)
        if self.score == "additive":
            return zoo_ops.additive_scores(
                ops.matmul(query, self.query_kernel), projected_key,
                ops.squeeze(self.score_vector, -1),
            )
        # qkv
        return zoo_ops.dot_scores(ops.matmul(query, self.query_kernel), projected_key)

    def _check_inputs(self, query, value, key, query_mask, value_mask, projected_key):
        """Shape and dtype errors that name the argument (static shapes only)."""
        q = assert_tensor("query", query, ("B", "Tq", "Dq"), floating=True)
        v = assert_tensor("value", value, ("B", "Tv", "Dv"), floating=True)
        if projected_key is not None:
            k = assert_tensor("projected_key", projected_key, ("B", "Tv", "D"), floating=True)
            key_name = "projected_key"
        elif key is not None:
            k = assert_tensor("key", key, ("B", "Tv", "Dk"), floating=True)
            key_name = "key"
        else:
            k, key_name = v, "value"
        if q is None or v is None or k is None:
            for name, mask in (("query_mask", query_mask), ("value_mask", value_mask)):
                assert_mask_values(name, mask)
            return  # unknown rank: nothing to compare
        assert_same_size("The batch sizes of `query`, `value` and `key`",
                         {"query.shape[0]": q[0], "value.shape[0]": v[0], f"{key_name}.shape[0]": k[0]})
        if key_name != "value":
            assert_same_size("The lengths Tv of `key` and `value`",
                             {"value.shape[1]": v[1], f"{key_name}.shape[1]": k[1]})
        for name, mask, expected in (("query_mask", query_mask, q[:2]),
                                     ("value_mask", value_mask, v[:2])):
            sequence = name.split("_")[0]
            assert_mask(name, mask, ("B", "Tq" if sequence == "query" else "Tv"), expected,
                        message=f"`{name}` must have the shape {expected} of the first two "
                                f"dimensions of `{sequence}`.")
        # The features the score's weights were built for (dot scores compare q and k directly).
        if self.score in ("dot", "scaled_dot"):
            if key_name != "projected_key":
                assert_same_size(f"score={self.score!r} compares query and key directly, so their "
                                 "last dimensions", {"query dim": q[-1], f"{key_name} dim": k[-1]})
            return
        expected = {"query": (self.kernel if self.score == "bilinear" else self.query_kernel).shape[0]}
        if key_name != "projected_key":
            expected[key_name] = (self.kernel.shape[1] if self.score == "bilinear"
                                  else self.key_kernel.shape[0])
        if self.score == "qkv" and key_name != "value":
            expected["value"] = (self.key_kernel if self.share_key_value else self.value_kernel).shape[0]
        for name, size in expected.items():
            shape = {"query": q, "value": v}.get(name, k)
            if shape[-1] is not None and shape[-1] != size:
                raise ValueError(
                    f"The last dimension of `{name}` must be {size}, the size this layer was built "
                    f"with (its first call). Received: {name}.shape={shape}")

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        return_attention_scores=False,
        training=None,
        projected_key=None,
    ):
        self._check_inputs(query, value, key, query_mask, value_mask, projected_key)
        if not training:  # Eager inference only: a training step must not wait on the host.
            for name, x in (("query", query), ("value", value), ("key", key),
                            ("projected_key", projected_key)):
                assert_finite(name, x)
        if projected_key is None:
            projected_key = self.project_key(value if key is None else key)
        scores = self._scores(query, projected_key)  # [B, Tq, Tv]
        mask = zoo_ops.merge_masks(query_mask, value_mask)  # [B, Tq, Tv] or None
        weights, dropped = zoo_ops.masked_softmax_dropout(  # float32 scores of float16 inputs
            scores, mask, self.dropout_layer, training, dtype=query.dtype)
        if self.score == "qkv":
            value = ops.matmul(
                value, self.key_kernel if self.share_key_value else self.value_kernel
            )  # [B, Tv, units]
        context = ops.matmul(dropped, value)
        if return_attention_scores:
            return context, weights
        return context

    def get_config(self):
        config = super().get_config()
        config.update(
            score=self.score,
            units=self.units,
            dropout=self.dropout,
            share_key_value=self.share_key_value,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config
