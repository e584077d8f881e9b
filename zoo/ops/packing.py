"""The rows of the real tokens of a padded batch, for computing on those alone."""

import keras
from keras import ops


def _shapes_may_depend_on_data():
    """False under XLA (jit_compile=True, TPU) and JAX, whose shapes are
    fixed when the program is compiled; True in TensorFlow graphs and eager
    code, and in PyTorch."""
    backend = keras.backend.backend()
    if backend == "torch":
        return True
    if backend != "tensorflow":
        return False
    # The TensorFlow backend's own question, so asked of TensorFlow, here
    # only: is this graph, or one it is nested in, compiled by XLA
    # (tf.function(jit_compile=True), TPU replication)? `tf.__internal__` is
    # the API TensorFlow exports for Keras; there is no public one.
    import tensorflow as tf

    return tf.__internal__.get_enclosing_xla_context() is None


def token_positions(mask):
    """Rows b·T + t of the real tokens of a padding mask, where shapes allow it.

    A layer that works on each position alone (a projection, a feed-forward
    network, a layer norm) can take the `[N, D]` real tokens,
    `ops.take(ops.reshape(x, (B·T, D)), positions, axis=0)`, instead of all
    `[B·T, D]` rows, and put them back with `ops.scatter`: with padding
    this skips the work on the padded positions.

    Args:
        mask: bool `[B, T]`, True for real tokens.

    Returns:
        int32 `[N]`, or None where a shape may not depend on the data (XLA,
        JAX): the caller then computes every position.
    """
    if not _shapes_may_depend_on_data():
        return None
    return ops.cast(ops.nonzero(ops.reshape(mask, (-1,)))[0], "int32")  # [N]


__all__ = ["token_positions"]
