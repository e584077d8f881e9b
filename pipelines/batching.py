"""Evaluation batches of one static shape: the examples padded with copies
of weight 0 until the batch size divides them.

Under `Runtime.static_shapes` (JAX, TPUs) every batch, evaluation's too,
has one shape: XLA compiles one program per input shape, a TPU needs every
dimension known, and keras.distribution splits each batch over the devices
and processes, which must divide it (Keras' multi-process sharding also
needs the batch size known, `drop_remainder=True`). tf.data has no
"pad the last batch" option, hence this.
"""

import numpy as np


def full_batches(columns, batch_size):
    """`columns` (parallel sequences, one item per example, e.g. texts and
    labels) with copies of the first example appended until `batch_size`
    divides their length n, and the example weights:

        n' = n + (-n mod batch_size),  w_j = 1 for j < n, 0 for n <= j < n'

    A copy of a real example, not an empty one: an empty text would leave
    every attention key masked, whose NaN would survive a weight of 0.
    With the weights as sample weights the copies count in no weighted
    metric (`weighted_metrics`, a loss reduced by "mean_with_sample_weight");
    predictions are cut back to the first n rows.

    Returns:
        (padded columns as lists, weights float32 `[n']`).
    """
    count = len(columns[0])
    if count == 0 or any(len(column) != count for column in columns):
        raise ValueError(f"The columns must have one item per example, and at least one. "
                         f"Received lengths {[len(column) for column in columns]}.")
    pad = -count % batch_size
    padded = [list(column) + [column[0]] * pad for column in columns]
    weights = np.concatenate([np.ones(count, "float32"), np.zeros(pad, "float32")])
    return padded, weights
