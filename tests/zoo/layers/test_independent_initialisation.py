"""Every fresh weight draws its own values (issue 19 item 3).

A Keras 3 random initializer draws from a fixed seed, so one instance given to
several weights repeats itself: equal weights where the shapes match, and where
they differ, the smaller one is a scaled copy of the start of the larger one.
Both are checked here for every layer and for every entry's fresh model.
"""

import itertools

import keras
import numpy as np
import pytest

import zoo
from zoo.layers import (Attention, GraphAttention, MultiHeadAttention, SelfAttention,
                        TransformerEncoderBlock)
from zoo.models.transformer_encoder.token_and_position_embedding import (
    TokenAndPositionEmbedding)


def _random_weights(layer_or_model):
    """name -> values of every weight that an initializer drew at random."""
    weights = {}
    for w in layer_or_model.weights:
        values = keras.ops.convert_to_numpy(w).astype("float64")
        if values.size > 1 and np.std(values) > 0:  # not zeros, ones or constants
            weights[w.path] = values
    return weights


def assert_independent(layer_or_model, min_length=64):
    """No two random weights are equal, nor is one a scaled copy of the
    start of another (the same seed drawn for another shape: correlation 1),
    compared over their first `min_length` values or more. Two independent
    draws of n values correlate by about 1/sqrt(n): 0.5 is 4 standard
    deviations away at n = 64 (at n = 16 JAX's draws for seeds 8 and 9
    reach -0.54), and a model of many weights needs a longer prefix still."""
    weights = _random_weights(layer_or_model)
    assert len(weights) >= 2, f"fewer than two random weights: {sorted(weights)}"
    for (name_a, a), (name_b, b) in itertools.combinations(weights.items(), 2):
        if a.shape == b.shape:
            assert not np.array_equal(a, b), f"{name_a} == {name_b} when fresh"
        length = min(a.size, b.size)
        prefix_a, prefix_b = a.reshape(-1)[:length], b.reshape(-1)[:length]
        if length < min_length or prefix_a.std() == 0 or prefix_b.std() == 0:
            continue  # too short to tell, or a constant run (an LSTM's bias starts with zeros)
        correlation = float(np.corrcoef(prefix_a, prefix_b)[0, 1])
        assert abs(correlation) < 0.5, (
            f"{name_a} and {name_b} start from the same random stream "
            f"(correlation {correlation:.3f} over their first {length} values)")


def _built(layer, *inputs):
    layer(*inputs)
    return layer


X = np.random.RandomState(0).rand(2, 5, 16).astype("float32")
NODES = np.random.RandomState(1).rand(6, 16).astype("float32")
EDGES = np.array([[0, 1], [1, 2], [2, 0], [3, 4]], "int32")

# Every layer with more than one random weight (bilinear Attention has one).
LAYERS = {
    "attention_additive": lambda **kw: _built(Attention("additive", units=16, **kw), X, X),
    "attention_qkv": lambda **kw: _built(Attention("qkv", units=16, **kw), X, X),
    "attention_qkv_shared": lambda **kw: _built(
        Attention("qkv", units=16, share_key_value=True, **kw), X, X),
    "multi_head_attention": lambda **kw: _built(MultiHeadAttention(2, 8, **kw), X, X),
    "self_attention": lambda **kw: _built(SelfAttention(2, 8, **kw), X),
    "graph_attention": lambda **kw: _built(GraphAttention(8, num_heads=2, **kw), NODES, EDGES),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_fresh_weights_of_a_layer_are_independent(name):
    assert_independent(LAYERS[name]())


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_seeded_initializer_stays_reproducible_and_independent(name):
    seeded = lambda: keras.initializers.GlorotUniform(seed=7)  # noqa: E731
    first = LAYERS[name](kernel_initializer=seeded())
    assert_independent(first)
    again = LAYERS[name](kernel_initializer=seeded())
    for a, b in zip(first.weights, again.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_transformer_encoder_block_weights_are_independent():
    assert_independent(_built(TransformerEncoderBlock(2, 8, ff_dim=16), X))


def test_token_and_position_embedding_weights_are_independent():
    embedding = TokenAndPositionEmbedding(
        50, max_length=8, embedding_dim=16, subword_vocabulary_size=30)
    embedding(np.array([[3, 4, 0]]), np.array([[[1, 2], [3, 0], [0, 0]]]))
    assert_independent(embedding)


@pytest.mark.parametrize("name", zoo.list_models())
def test_fresh_weights_of_every_entry_are_independent(name):
    """The issue's example: a fresh gat_cora had attention_source == attention_target."""
    assert_independent(zoo.load(name, weights=None), min_length=256)


def test_the_check_catches_a_shared_initializer():
    """assert_independent fails on what the layers did before: one instance, several weights."""
    shared = keras.initializers.GlorotUniform()
    layer = keras.layers.Layer()
    layer.add_weight(shape=(8, 4), initializer=shared, name="a")
    layer.add_weight(shape=(8, 4), initializer=shared, name="b")
    with pytest.raises(AssertionError, match="when fresh"):
        assert_independent(layer)
    prefix = keras.layers.Layer()
    prefix.add_weight(shape=(30, 16), initializer=shared, name="large")
    prefix.add_weight(shape=(8, 16), initializer=shared, name="small")
    with pytest.raises(AssertionError, match="same random stream"):
        assert_independent(prefix)
