"""In-graph checks of the exported `serving_default` inputs: what the Python
API refuses, the SavedModel refuses too.

TF Serving does not hold a request to the signature's declared shapes, so
every check here reads the tensors at run time (`tf.debugging` asserts,
which a SavedModel keeps: a function runs all of them before it returns):
a failed one is the request's error status (INVALID_ARGUMENT) with the
message below. The signatures declare these inputs with an unknown shape
(`tf.TensorSpec(None, ...)`) for the same reason: a static shape would let
TensorFlow fold the checks away.

Control dependencies do not order an assert before the ops after it (the
graph optimiser may run them first), so the checked tensor is also made
harmless: reshaped, or its bad ids replaced, so that no later op (a
reshape, a gather) can fail first with a raw message of its own.
"""

import tensorflow as tf


def _after(checks, tensor):
    """`tensor`, computed only once `checks` have passed (so that no later op
    fails first with a message of its own)."""
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def batch_of_strings(name, strings, utf8=True):
    """A string tensor `[B]`, checked: rank 1 (one text is `[text]`, not a
    scalar; a 2-D batch is flattened by the caller) and, with `utf8`, valid
    UTF-8 in every item (as `zoo._validation.text_list` requires)."""
    checks = [tf.debugging.Assert(
        tf.equal(tf.rank(strings), 1),
        [f"`{name}` must be a 1-D batch of strings [B] (one item is a batch of 1). Received a "
         "tensor of shape:", tf.shape(strings)])]
    if utf8:
        # Valid UTF-8 comes back unchanged from a transcode that replaces what is not.
        valid = tf.equal(tf.strings.unicode_transcode(
            tf.reshape(strings, [-1]), "UTF-8", "UTF-8", errors="replace"), tf.reshape(strings, [-1]))
        checks.append(tf.debugging.Assert(
            tf.reduce_all(valid),
            [f"`{name}` must hold UTF-8 text; not UTF-8: the items at", tf.where(~valid)[:, 0]],
            summarize=16))
    return tf.reshape(_after(checks, strings), [-1])  # [B]: a scalar or 2-D batch cannot fail later


def graph(node_features, edges):
    """(node_features, edges) `[N, F]` float32 and `[E, 2]` int32, checked as
    `GraphAttention` checks an eager call: edges of shape [E, 2] (PyG's
    edge_index [2, E] is the transpose), node ids in [0, N), finite features."""
    padded = tf.concat([tf.shape(edges), [0, 0]], axis=0)  # rank 0 or 1: no dimension 1 to read
    shape_ok = tf.logical_and(tf.equal(tf.rank(edges), 2), tf.equal(padded[1], 2))
    checks = [tf.debugging.Assert(
        shape_ok, ["`edges` must be [E, 2]: one (source, target) pair per row (a PyG edge_index "
                   "[2, E] is its transpose). Received a tensor of shape:", tf.shape(edges)])]
    edges = tf.cond(shape_ok, lambda: tf.reshape(edges, [-1, 2]),  # [E, 2], statically too
                    lambda: tf.zeros([0, 2], edges.dtype))
    num_nodes = tf.shape(node_features, out_type=edges.dtype)[0]
    inside = tf.logical_and(edges >= 0, edges < num_nodes)
    checks = [
        tf.debugging.Assert(tf.reduce_all(inside), [
            "`edges` holds node ids outside [0, N) for the N nodes of node_features. N and the "
            "ids:", num_nodes, tf.boolean_mask(edges, ~inside)], summarize=16),
        tf.debugging.assert_all_finite(
            node_features, "`node_features` must be finite (no NaN or inf); replace missing values "
                           "before the graph layer"),
    ]
    edges = tf.where(inside, edges, tf.zeros_like(edges))  # no gather outside the graph
    return _after(checks, node_features), _after(checks, edges)
