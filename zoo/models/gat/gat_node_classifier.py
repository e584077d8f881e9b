"""GATNodeClassifier: a GAT backbone and an averaged-heads output layer."""

import keras

from zoo.layers import GraphAttention
from zoo.models.gat.gat_backbone import check_edges_dtype


@keras.saving.register_keras_serializable(package="zoo")
class GATNodeClassifier(keras.Model):
    """Node classification with a GAT (Veličković et al., 2018, transductive).

        logits_t = mean_k Σ_{i∈N(t)} Drop(α^k_ti) Drop(W^k Drop(h_i)),   h = GATBackbone(x, edges)

    The output layer averages its heads (the paper's ``σ(mean_k c^k_t)``,
    with σ the softmax inside the loss).

    Args:
        backbone: a `GATBackbone`.
        num_classes: C.
        output_heads: heads of the output layer (averaged).
        dropout: on the output layer's input, attention coefficients and
            projected features.
        l2: L2 penalty on the output layer's W, u, v (as in the backbone).
        return_attention: output a dict ``{"logits", "probabilities",
            "attention"}`` (attention: one `[E + N, K]` per layer) instead of
            the logits `[N, C]`.

    The whole graph is one input: `model(inputs)` and `model.predict(inputs)`
    (with the inputs a dict of arrays) both run the full graph at once;
    `fit`, `evaluate` and `predict` on a dataset take one whole graph per
    element (Keras' batching would split the nodes from the edges).

    Example:

    >>> backbone = GATBackbone(num_features=1433)
    >>> model = GATNodeClassifier(backbone, num_classes=7)
    >>> logits = model({"node_features": x, "edges": edges})  # [N, 7]
    >>> logits = model.predict({"node_features": x, "edges": edges})  # the same, as NumPy
    """

    def __init__(
        self,
        backbone,
        num_classes,
        output_heads=1,
        dropout=0.6,
        l2=5e-4,
        return_attention=False,
        **kwargs,
    ):
        inputs = {
            "node_features": keras.Input((backbone.num_features,), name="node_features"),
            "edges": keras.Input((2,), dtype="int32", name="edges"),
        }
        encoded = backbone(inputs)
        h = keras.layers.Dropout(dropout, name="output_dropout")(encoded["hidden"])
        logits, alpha = GraphAttention(
            num_classes, num_heads=output_heads, merge="mean", dropout=dropout,
            feature_dropout=dropout,
            kernel_regularizer=keras.regularizers.L2(l2 / 2) if l2 else None,
            name="gat_output",
        )(h, inputs["edges"], return_attention_scores=True)
        if return_attention:
            outputs = {
                "logits": logits,
                "probabilities": keras.layers.Softmax(name="probabilities")(logits),
                "attention": list(encoded["attention"]) + [alpha],
            }
        else:
            outputs = logits
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.num_classes = num_classes
        self.output_heads = output_heads
        self.dropout = dropout
        self.l2 = l2
        self.return_attention = return_attention

    def call(self, inputs, training=None, mask=None):
        check_edges_dtype(inputs, training)
        return super().call(inputs, training=training, mask=mask)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Full-graph inference: `x` a dict ``{"node_features", "edges"}`` of
        arrays is one graph (N nodes, E edges: Keras' `predict` would try to
        batch both along their first axis, which differ); the outputs come
        back as NumPy. A dataset is passed on to `keras.Model.predict`."""
        if isinstance(x, dict):
            outputs = self(x, training=False)
            return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)
        return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps,
                               callbacks=callbacks)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "output_heads": self.output_heads,
            "dropout": self.dropout,
            "l2": self.l2,
            "return_attention": self.return_attention,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
