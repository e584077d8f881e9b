"""GATBackbone: the hidden graph attention layers of a GAT."""

import keras

from zoo._validation import assert_integer_ids, concrete_value
from zoo.layers import GraphAttention
from zoo.models.gat.row_normalization import RowNormalization


def check_edges_dtype(inputs, training=None):
    """Refuses float edges before a functional model casts them to its
    int32 input (which would truncate 0.7 to 0); the layers check the rest.

    On eager inference calls, as the layers' value checks: Keras' own
    symbolic build (under tf.distribute) traces the model with placeholder
    dtypes of its choosing, and a training step must not read values back.
    """
    edges = inputs.get("edges") if isinstance(inputs, dict) else None
    if not training and edges is not None and concrete_value(edges) is not None:
        assert_integer_ids("edges", edges)


@keras.saving.register_keras_serializable(package="zoo")
class GATBackbone(keras.Model):
    """Input normalisation and the hidden GAT layers (Veličković et al., 2018).

        h⁰ = RowNorm(x)
        h^l = ELU(concat_k Σ_{i∈N(t)} Drop(α^{l,k}_ti) Drop(W^{l,k} Drop(h^{l-1})_i))

    for l = 1..L: dropout on the layer input, on the attention coefficients
    and on the projected features, all at `dropout` (as in the reference
    code).

    Inputs are a dict ``{"node_features": [N, F] float32 (raw),
    "edges": [E, 2] int32 (source, target)}``; outputs are a dict with
    ``"hidden"`` `[N, K·C]` and ``"attention"``, a list of `[E + N, K]`
    weights, one per layer.

    Args:
        num_features: F, the width of the raw node features.
        hidden_units: C, features per head.
        num_heads: K, heads per hidden layer (concatenated).
        num_layers: L, hidden GAT layers.
        dropout: on each layer's input, attention coefficients and
            projected features.
        l2: L2 penalty on W, u, v (the paper's weight decay 5e-4 is
            0.5·λ·Σw² in its code, so this is applied as λ/2·Σw²).
        normalize_features: row-normalise the raw features first.
    """

    def __init__(
        self,
        num_features,
        hidden_units=8,
        num_heads=8,
        num_layers=1,
        dropout=0.6,
        l2=5e-4,
        normalize_features=True,
        **kwargs,
    ):
        regularizer = keras.regularizers.L2(l2 / 2) if l2 else None
        features = keras.Input((num_features,), name="node_features")
        edges = keras.Input((2,), dtype="int32", name="edges")
        h = RowNormalization(name="row_normalization")(features) if normalize_features \
            else features
        attention = []
        for index in range(num_layers):
            h = keras.layers.Dropout(dropout, name=f"dropout_{index}")(h)
            h, alpha = GraphAttention(
                hidden_units, num_heads=num_heads, merge="concat", activation="elu",
                dropout=dropout, feature_dropout=dropout, kernel_regularizer=regularizer,
                name=f"gat_{index}",
            )(h, edges, return_attention_scores=True)
            attention.append(alpha)
        super().__init__(
            inputs={"node_features": features, "edges": edges},
            outputs={"hidden": h, "attention": attention},
            **kwargs,
        )
        self.num_features = num_features
        self.hidden_units = hidden_units
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.dropout = dropout
        self.l2 = l2
        self.normalize_features = normalize_features

    def call(self, inputs, training=None, mask=None):
        check_edges_dtype(inputs, training)
        return super().call(inputs, training=training, mask=mask)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "num_features": self.num_features,
            "hidden_units": self.hidden_units,
            "num_heads": self.num_heads,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "l2": self.l2,
            "normalize_features": self.normalize_features,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
