"""GraphAttention: the graph attention layer (GAT) on an edge list."""

import keras
import numpy as np
from keras import ops

from zoo import ops as zoo_ops
from zoo._initializers import clone_initializer
from zoo._validation import (
    assert_choice,
    assert_finite_features,
    assert_integer_ids,
    assert_mask_values,
    assert_positive_int,
    assert_rate,
    assert_tensor,
    concrete_value,
    static_shape,
)

MERGES = ("concat", "mean")


@keras.saving.register_keras_serializable(package="zoo")
class GraphAttention(keras.layers.Layer):
    """Graph attention (Veličković et al., ICLR 2018), K heads.

    With W^k h the projected features and u^k, v^k the attention vectors of
    head k, for each target node t and its neighbours i ∈ N(t) (the sources
    of the edges into t, plus t itself when `add_self_loops`):

        a^k(h_i, h_t) = LeakyReLU(u^kᵀ W^k h_i + v^kᵀ W^k h_t)
        α^k_ti = exp(a^k_ti) / Σ_{j ∈ N(t)} exp(a^k_tj)
        c^k_t = Σ_{i ∈ N(t)} α^k_ti W^k h_i
        h'_t = σ(concat_k c^k_t)  (merge="concat")  or  σ(mean_k c^k_t)  (merge="mean")

    As in PyG's GATConv, aᵀ[W h_i ‖ W h_t] is computed as two per-node sums
    (u·Wh for every node as a source, v·Wh as a target) gathered onto the
    edges, so no [E, 2C] tensor is built; the softmax over N(t) is a segment
    softmax keyed by the target.

    Args:
        units: features per head C.
        num_heads: heads K.
        merge: ``"concat"`` → `[N, K·C]`; ``"mean"`` → `[N, C]`.
        activation: σ, applied after the merge (default none).
        dropout: dropout rate on the attention coefficients α in training.
        feature_dropout: dropout rate on the projected features W h_i that
            are aggregated (the GAT reference code drops them with its input
            rate too; PyG's GATConv does not).
        negative_slope: of the LeakyReLU.
        add_self_loops: add the N edges (t, t), so every node attends at
            least to itself (isolated nodes keep their own features). Self-loops
            already among `edges` are removed first, as PyG's GATConv does
            (`remove_self_loops` then `add_self_loops`), so each node attends
            to itself once: such an input edge keeps its row in the returned
            weights, with weight exactly 0 (and carries no message); the
            appended loop (t, t) carries the node's self-attention. Without
            `add_self_loops` the edges are used as given, loops included.
        use_bias: add a bias after the merge.
        kernel_initializer, kernel_regularizer: for W, u and v.

    Call arguments:
        node_features: `[N, F]`.
        edges: int `[E, 2]` of (source, target) pairs; messages flow from
            source to target. Float ids are refused (a cast would truncate
            0.7 to 0), also in traced graphs (by dtype). Self-loops among
            them: see `add_self_loops`.
        adjacency: alternative to `edges` for small graphs and TPUs: bool or
            0/1 `[N, N]` with adjacency[t, i] true when i → t (row = target);
            other values (edge weights) are refused, as for every mask.
        return_attention_scores: also return α (before dropout).
        training: enables dropout.

    Returns:
        `[N, K·C]` or `[N, C]`; with `return_attention_scores`, also α:
        `[E + N, K]` for `edges` (the input edges in order, then the N
        self-loops in node order; `[E, K]` without self-loops), or
        `[K, N, N]` for `adjacency` (row = target).

    NaN or inf node features, out-of-range ids and non-0/1 adjacency values
    are refused on eager inference calls (not `training`); shapes and the
    edges' dtype on every call.

    Example:

    >>> gat = GraphAttention(8, num_heads=4)
    >>> x = np.random.rand(5, 3).astype("float32")
    >>> edges = np.array([[0, 1], [1, 0], [2, 1]])
    >>> out, alpha = gat(x, edges, return_attention_scores=True)
    >>> out.shape, alpha.shape
    ((5, 32), (8, 4))
    """

    def __init__(
        self,
        units,
        num_heads=1,
        merge="concat",
        activation=None,
        dropout=0.0,
        negative_slope=0.2,
        add_self_loops=True,
        use_bias=True,
        feature_dropout=0.0,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        assert_positive_int("units", units)
        assert_positive_int("num_heads", num_heads)
        assert_choice("merge", merge, MERGES)
        assert_rate("dropout", dropout)
        assert_rate("feature_dropout", feature_dropout)
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)) \
                or negative_slope < 0:
            raise ValueError(
                f"`negative_slope` must be a float >= 0. Received: negative_slope={negative_slope!r}"
            )
        self.units = units
        self.num_heads = num_heads
        self.merge = merge
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.negative_slope = float(negative_slope)
        self.add_self_loops = add_self_loops
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.feature_dropout = feature_dropout
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.feature_dropout_layer = keras.layers.Dropout(feature_dropout, dtype=self.dtype_policy)

    def build(self, node_features_shape, edges_shape=None, adjacency_shape=None):
        heads, units = self.num_heads, self.units

        def weight(name, shape, initializer):
            return self.add_weight(
                name=name, shape=shape, initializer=initializer,
                regularizer=self.kernel_regularizer if name != "bias" else None,
            )

        self.kernel = weight("kernel", (node_features_shape[-1], heads * units),
                             clone_initializer(self.kernel_initializer, 0))  # W
        self.attention_source = weight("attention_source", (heads, units),
                                       clone_initializer(self.kernel_initializer, 1))  # u
        self.attention_target = weight("attention_target", (heads, units),
                                       clone_initializer(self.kernel_initializer, 2))  # v
        if self.use_bias:
            out = heads * units if self.merge == "concat" else units
            self.bias = weight("bias", (out,), "zeros")

    def _check_shapes(self, node_features, edges, adjacency):
        """Clear errors for bad shapes (static shapes: eager and traced calls)."""
        shape = assert_tensor("node_features", node_features, ("N", "F"))
        if shape is not None and shape[1] is not None and shape[1] != self.kernel.shape[0]:
            raise ValueError(
                f"`node_features` must have {self.kernel.shape[0]} features per node, the number "
                f"this layer was built with (its first call). Received: node_features.shape={shape}")
        num_nodes = None if shape is None else shape[0]
        if edges is not None:
            edges_shape = static_shape(edges)
            if edges_shape is not None and (len(edges_shape) != 2 or edges_shape[1] not in (None, 2)):
                raise ValueError(
                    "`edges` must be an int array of shape [E, 2] holding (source, target) "
                    f"pairs. Received: edges.shape={edges_shape}")
            assert_integer_ids("edges", edges)
        else:
            adjacency_shape = assert_tensor("adjacency", adjacency, ("N", "N"))
            if adjacency_shape is not None and any(
                    d is not None and num_nodes is not None and d != num_nodes for d in adjacency_shape):
                raise ValueError(
                    f"`adjacency` must be [N, N] for the N={num_nodes} nodes of node_features. "
                    f"Received: adjacency.shape={adjacency_shape}")

    def _check_inputs(self, node_features, edges):
        """Clear errors for bad values, when they are known (eager calls)."""
        features = concrete_value(node_features)
        assert_finite_features(features)
        values = None if edges is None else concrete_value(edges)
        if values is None:
            return
        num_nodes = features.shape[0] if features is not None else None
        if values.ndim != 2 or values.shape[-1] != 2:
            raise ValueError(
                "`edges` must be an int array of shape [E, 2] holding (source, target) "
                f"pairs. Received: edges.shape={values.shape}"
            )
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(
                f"`edges` must hold integer node ids. Received: edges.dtype={values.dtype}")
        if num_nodes is None:
            return
        if values.size and (values.min() < 0 or values.max() >= num_nodes):
            bad = values[(values < 0) | (values >= num_nodes)][0]
            raise ValueError(
                f"`edges` holds node id {bad}, outside [0, {num_nodes}) for the "
                f"{num_nodes} nodes of node_features."
            )

    def call(
        self,
        node_features,
        edges=None,
        return_attention_scores=False,
        training=None,
        *,
        adjacency=None,
    ):
        if (edges is None) == (adjacency is None):
            raise ValueError(
                "Pass exactly one of `edges` ([E, 2]) or `adjacency` ([N, N]). Received: "
                f"edges={'None' if edges is None else 'a tensor'}, "
                f"adjacency={'None' if adjacency is None else 'a tensor'}"
            )
        self._check_shapes(node_features, edges, adjacency)
        if not training:  # Eager inference only: a training step must not pay for it.
            self._check_inputs(node_features, edges)
            assert_mask_values("adjacency", adjacency)
        num_nodes = ops.shape(node_features)[0]
        h = ops.matmul(node_features, self.kernel)  # [N, K*C]
        h = ops.reshape(h, (-1, self.num_heads, self.units))  # [N, K, C]
        score_source = ops.sum(h * self.attention_source, axis=-1)  # [N, K]: u·Wh_i
        score_target = ops.sum(h * self.attention_target, axis=-1)  # [N, K]: v·Wh_t
        h = self.feature_dropout_layer(h, training=training)  # only the messages
        if edges is not None:
            context, alpha = self._propagate_edges(
                h, score_source, score_target, edges, num_nodes, training)
        else:
            context, alpha = self._propagate_dense(
                h, score_source, score_target, adjacency, num_nodes, training)
        if self.merge == "concat":
            out = ops.reshape(context, (-1, self.num_heads * self.units))  # [N, K*C]
        else:
            out = ops.mean(context, axis=1)  # [N, C]
        if self.use_bias:
            out = out + self.bias
        out = self.activation(out)
        if return_attention_scores:
            return out, alpha
        return out

    def _propagate_edges(self, h, score_source, score_target, edges, num_nodes, training):
        edges = ops.cast(edges, "int32")
        source, target = edges[:, 0], edges[:, 1]  # [E]
        keep = None
        if self.add_self_loops:
            # PyG's remove_self_loops without a data-dependent shape: the
            # input loops stay in place with weight 0, so the weights keep
            # the [E + N] layout (input edges in order, then the N loops).
            keep = ops.concatenate([ops.not_equal(source, target),
                                    ops.ones((num_nodes,), dtype="bool")], axis=0)  # [E + N]
            loops = ops.arange(num_nodes, dtype="int32")  # [N]
            source = ops.concatenate([source, loops], axis=0)  # [E + N]
            target = ops.concatenate([target, loops], axis=0)
        scores = ops.leaky_relu(
            ops.take(score_source, source, axis=0) + ops.take(score_target, target, axis=0),
            negative_slope=self.negative_slope,
        )  # [E', K]
        alpha = zoo_ops.segment_softmax(scores, target, num_nodes, mask=keep)  # [E', K]
        dropped = self.dropout_layer(alpha, training=training)
        messages = ops.take(h, source, axis=0) * ops.expand_dims(dropped, -1)  # [E', K, C]
        context = ops.segment_sum(messages, target, num_segments=num_nodes)  # [N, K, C]
        return context, alpha

    def _propagate_dense(self, h, score_source, score_target, adjacency, num_nodes, training):
        mask = ops.cast(adjacency, "bool")  # [N (target), N (source)]
        if self.add_self_loops:
            mask = ops.logical_or(mask, ops.cast(ops.eye(num_nodes), "bool"))
        scores = ops.leaky_relu(
            ops.expand_dims(ops.transpose(score_target), -1)  # [K, N, 1]
            + ops.expand_dims(ops.transpose(score_source), -2),  # [K, 1, N]
            negative_slope=self.negative_slope,
        )  # [K, N, N]
        alpha, dropped = zoo_ops.masked_softmax_dropout(
            scores, mask[None], self.dropout_layer, training)  # [K, N, N]
        context = ops.matmul(dropped, ops.transpose(h, (1, 0, 2)))  # [K, N, C]
        return ops.transpose(context, (1, 0, 2)), alpha  # [N, K, C]

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            num_heads=self.num_heads,
            merge=self.merge,
            activation=keras.activations.serialize(self.activation),
            dropout=self.dropout,
            negative_slope=self.negative_slope,
            add_self_loops=self.add_self_loops,
            use_bias=self.use_bias,
            feature_dropout=self.feature_dropout,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
        )
        return config
