"""Issue 2's done-when: a .keras model mixing every layer reloads exactly."""

import keras
import numpy as np

from tests import layer_checks
from zoo.layers import Attention, GraphAttention, MultiHeadAttention, SelfAttention, TransformerEncoderBlock

# predict() wants one first dimension for every input: 2 sentences, and a
# graph of 2 nodes with 2 edges.
T, D, N = 5, 8, 2


def test_model_mixing_all_layers_round_trips(tmp_path):
    tokens = keras.Input((T,), dtype="int32", name="tokens")
    nodes = keras.Input((D,), name="node_features")
    edges = keras.Input((2,), dtype="int32", name="edges")
    x = keras.layers.Embedding(30, D, mask_zero=True)(tokens)
    x = TransformerEncoderBlock(num_heads=2, key_dim=4, ff_dim=16, norm_first=True)(x)
    x = SelfAttention(num_heads=2, key_dim=4, merge="mean")(x)
    x = MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    summary = keras.layers.Dense(D)(keras.layers.GlobalAveragePooling1D()(x))  # [B, D]
    scores = {}
    for score in ("dot", "scaled_dot", "bilinear", "additive", "qkv"):
        context = Attention(score=score)(x, x)  # [B, T, D]
        scores[score] = keras.layers.GlobalAveragePooling1D()(context)
    graph = GraphAttention(3, num_heads=2, activation="elu")(nodes, edges)  # [N, 6]
    model = keras.Model(
        {"tokens": tokens, "node_features": nodes, "edges": edges},
        {"summary": summary, "graph": graph, **scores},
    )
    rng = np.random.default_rng(0)
    inputs = {
        "tokens": np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], "int32"),
        "node_features": rng.normal(size=(N, D)).astype("float32"),
        "edges": np.array([[0, 1], [1, 0]], "int32"),
    }
    layer_checks.assert_round_trip(model, inputs, tmp_path)
