"""RowNormalization: the GAT paper's feature preprocessing, inside the model."""

import keras
from keras import ops

from zoo._validation import assert_finite_features, concrete_value


@keras.saving.register_keras_serializable(package="zoo")
class RowNormalization(keras.layers.Layer):
    """Divides each row by its sum: x̂_v = x_v / Σ_f x_vf (zero rows stay 0).

    The GAT and GCN reference code preprocess bag-of-words features this way;
    doing it in the model means users and exports feed the raw features.

    Example:

    >>> RowNormalization()(np.array([[1.0, 3.0], [0.0, 0.0]]))
    [[0.25, 0.75], [0.0, 0.0]]
    """

    def call(self, inputs, training=None):
        if not training:  # eager inference: a NaN would spread over its row before the GAT layer checks
            assert_finite_features(concrete_value(inputs))
        total = ops.sum(inputs, axis=-1, keepdims=True)  # [N, 1]
        return inputs / ops.where(total == 0, ops.ones_like(total), total)
