"""TokenAndPositionEmbedding: a learned embedding of each token and of its position."""

import math

import keras
from keras import ops

from zoo._validation import assert_choice, assert_positive_int

POSITION_ENCODINGS = ("learned", "sinusoidal")


@keras.saving.register_keras_serializable(package="zoo")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """x_t = E[w_t] + P[t]: token embedding plus position encoding.

    Self-attention is permutation-equivariant, so word order reaches the
    encoder only through P (Vaswani et al., 2017, §3.5): learned (as in
    BERT), or fixed sinusoids P[t, 2i] = sin(t / 10000^{2i/D}),
    P[t, 2i+1] = cos(t / 10000^{2i/D}), which need no training data at
    every position (SST-2's training phrases are much shorter than its test
    sentences, so learned rows for late positions would stay near random).

    Args:
        vocabulary_size: V, the number of token ids (0 is padding).
        max_length: the longest sequence (rows of P).
        embedding_dim: D.
        position_encoding: ``"learned"`` or ``"sinusoidal"``.
        embeddings_initializer: for E (and a learned P).

    Call arguments:
        token_ids: int `[B, T]` with T <= max_length.

    Returns:
        `[B, T, D]`.

    Example:

    >>> embed = TokenAndPositionEmbedding(100, max_length=16, embedding_dim=8)
    >>> embed(np.array([[5, 7, 0]])).shape
    (1, 3, 8)
    """

    def __init__(self, vocabulary_size, max_length, embedding_dim, position_encoding="learned",
                 embeddings_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        assert_positive_int("vocabulary_size", vocabulary_size)
        assert_positive_int("max_length", max_length)
        assert_positive_int("embedding_dim", embedding_dim)
        assert_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.embedding_dim = embedding_dim
        self.position_encoding = position_encoding
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, embeddings_initializer=self.embeddings_initializer,
            dtype=self.dtype_policy, name="token_embedding")
        self.position_embedding = None
        if position_encoding == "learned":
            self.position_embedding = keras.layers.Embedding(
                max_length, embedding_dim, embeddings_initializer=self.embeddings_initializer,
                dtype=self.dtype_policy, name="position_embedding")

    def build(self, token_ids_shape):
        self.token_embedding.build(token_ids_shape)
        if self.position_embedding is not None:
            self.position_embedding.build((None,))

    def _sinusoids(self, length):
        positions = ops.cast(ops.arange(length), "float32")[:, None]  # [T, 1]
        rates = ops.exp(ops.arange(0, self.embedding_dim, 2, dtype="float32")
                        * (-math.log(10000.0) / self.embedding_dim))  # [⌈D/2⌉]
        angles = positions * rates[None]  # [T, ⌈D/2⌉]
        table = ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1)  # [T, ⌈D/2⌉, 2]
        table = ops.reshape(table, (length, -1))[:, :self.embedding_dim]  # interleaved [T, D]
        return ops.cast(table, self.compute_dtype)

    def call(self, token_ids):
        length = ops.shape(token_ids)[1]
        if self.position_embedding is None:
            positions = self._sinusoids(length)  # [T, D]
        else:
            positions = self.position_embedding(ops.arange(length))  # [T, D]
        return self.token_embedding(token_ids) + positions[None]  # [B, T, D]

    def compute_output_shape(self, token_ids_shape):
        return tuple(token_ids_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            max_length=self.max_length,
            embedding_dim=self.embedding_dim,
            position_encoding=self.position_encoding,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
        )
        return config
