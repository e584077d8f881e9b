"""TF-GNN interop: a homogeneous `tfgnn.GraphTensor` -> the inputs of our GAT.

    inputs = graph_tensor_to_inputs(graph)  # {"node_features", "edges"}
    logits = zoo.load("gat_cora")(inputs)

tensorflow-gnn runs only on Keras 2 (`TF_USE_LEGACY_KERAS=1` with tf_keras
installed), so this module never imports it: it reads the GraphTensor's
public attributes (`node_sets`, `edge_sets`, `adjacency.source/target`),
which works in any process where the user built one. Setting that variable
is the user's choice; nothing here sets it.
"""

import tensorflow as tf


def _only(pieces, kind, name):
    """The piece called `name`, or the only one when `name` is None."""
    names = sorted(pieces.keys())
    if name is None:
        if len(names) != 1:
            raise ValueError(f"The GraphTensor has {kind}s {names}; pass `{kind}=` to choose one.")
        name = names[0]
    if name not in pieces:
        raise ValueError(f"`{kind}` must be one of the GraphTensor's {kind}s {names}. "
                         f"Received: {kind}={name!r}")
    return name, pieces[name]


def graph_tensor_to_inputs(graph, node_set=None, edge_set=None, feature="hidden_state"):
    """The `{"node_features": [N, F] float32, "edges": [E, 2] int32}` dict our
    GAT takes, from a homogeneous TF-GNN GraphTensor.

    Node ids are the node set's indices (all components of a scalar
    GraphTensor, numbered consecutively, as TF-GNN does); edge i goes from
    `adjacency.source[i]` to `adjacency.target[i]` (messages flow source ->
    target, as in `GraphAttention`). Self-loops are dropped, because the GAT
    layers add one per node.

    Args:
        graph: a scalar `tfgnn.GraphTensor` (merge a batch first with
            `graph.merge_batch_to_components()`).
        node_set: the node set to read (default: the only one).
        edge_set: the edge set to read (default: the only one); both its ends
            must be `node_set`.
        feature: the node feature holding the `[N, F]` features.

    Returns:
        A dict of eager tensors (or symbolic ones inside a tf.function).
    """
    if not hasattr(graph, "node_sets") or not hasattr(graph, "edge_sets"):
        raise TypeError(f"`graph` must be a tfgnn.GraphTensor. Received: {type(graph).__name__}")
    if graph.rank != 0:
        raise ValueError("`graph` must be a scalar GraphTensor (rank 0); call "
                         f"`graph.merge_batch_to_components()` first. Received: rank {graph.rank}")
    node_name, nodes = _only(graph.node_sets, "node_set", node_set)
    edge_name, edges = _only(graph.edge_sets, "edge_set", edge_set)
    adjacency = edges.adjacency
    ends = (adjacency.source_name, adjacency.target_name)
    if ends != (node_name, node_name):
        raise ValueError(f"Edge set {edge_name!r} goes from {ends[0]!r} to {ends[1]!r}; a "
                         f"homogeneous graph needs both ends in node set {node_name!r}.")
    if feature not in nodes.features:
        raise ValueError(f"`feature` must be one of node set {node_name!r}'s features "
                         f"{sorted(nodes.features.keys())}. Received: feature={feature!r}")
    features = tf.cast(nodes.features[feature], tf.float32)
    if features.shape.rank != 2:
        raise ValueError(f"Feature {feature!r} must be [N, F]. Received shape {features.shape}")
    pairs = tf.stack([adjacency.source, adjacency.target], axis=1)  # [E, 2]
    pairs = tf.boolean_mask(pairs, pairs[:, 0] != pairs[:, 1])  # [E', 2] without self-loops
    return {"node_features": features, "edges": tf.cast(pairs, tf.int32)}
