"""TokenAndPositionEmbedding: a learned embedding of each token and of its position."""

import math

import keras
from keras import ops

from zoo._initializers import clone_initializer
from zoo._validation import assert_choice, assert_positive_int, assert_rate

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

    With subwords (fastText, Bojanowski et al., 2017), each word also adds
    its character n-grams g ∈ G_t (ids `[B, T, S]`, 0 = none):

        x_t = k_t E[w_t] + Σ_{g ∈ G_t} Z[g] / sqrt(|G_t|) + P[t]

    where k_t = 0 for the unknown word (id 1), so a word unseen in training
    is read from the n-grams it shares with seen words, and, in training,
    k_t = 0 with probability `whole_word_dropout` for known words too: the
    n-grams must learn to stand alone. (SST-2: 55 % of the test sentences
    have a word that no training phrase has.)

    Args:
        vocabulary_size: V, the number of token ids (0 is padding).
        max_length: the longest sequence (rows of P).
        embedding_dim: D.
        position_encoding: ``"learned"`` or ``"sinusoidal"``.
        embeddings_initializer: for E (and a learned P, and Z).
        subword_vocabulary_size: rows of Z (id 0 = none), or None: no subwords.
        whole_word_dropout: the training probability of k_t = 0 above.
        seed: of that dropout.

    Call arguments:
        token_ids: int `[B, T]` with T <= max_length.
        subword_ids: int `[B, T, S]` (with `subword_vocabulary_size`).
        training: enables `whole_word_dropout`.

    Returns:
        `[B, T, D]`.

    Example:

    >>> embed = TokenAndPositionEmbedding(100, max_length=16, embedding_dim=8)
    >>> embed(np.array([[5, 7, 0]])).shape
    (1, 3, 8)
    """

    def __init__(self, vocabulary_size, max_length, embedding_dim, position_encoding="learned",
                 embeddings_initializer="glorot_uniform", subword_vocabulary_size=None,
                 whole_word_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        assert_positive_int("vocabulary_size", vocabulary_size)
        assert_positive_int("max_length", max_length)
        assert_positive_int("embedding_dim", embedding_dim)
        assert_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
        assert_positive_int("subword_vocabulary_size", subword_vocabulary_size, allow_none=True)
        assert_rate("whole_word_dropout", whole_word_dropout)
        self.subword_vocabulary_size = subword_vocabulary_size
        self.whole_word_dropout = whole_word_dropout
        self.seed = seed
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.embedding_dim = embedding_dim
        self.position_encoding = position_encoding
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim,
            embeddings_initializer=clone_initializer(self.embeddings_initializer, 0),
            dtype=self.dtype_policy, name="token_embedding")
        self.position_embedding = None
        if position_encoding == "learned":
            self.position_embedding = keras.layers.Embedding(
                max_length, embedding_dim,
                embeddings_initializer=clone_initializer(self.embeddings_initializer, 1),
                dtype=self.dtype_policy, name="position_embedding")
        self.subword_embedding = None
        if subword_vocabulary_size is not None:
            self.subword_embedding = keras.layers.Embedding(
                subword_vocabulary_size, embedding_dim,
                embeddings_initializer=clone_initializer(self.embeddings_initializer, 2),
                dtype=self.dtype_policy, name="subword_embedding")
        if whole_word_dropout:
            self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, token_ids_shape, subword_ids_shape=None):
        self.token_embedding.build(token_ids_shape)
        if self.position_embedding is not None:
            self.position_embedding.build((None,))
        if self.subword_embedding is not None:
            self.subword_embedding.build((None,))

    def _sinusoids(self, length):
        positions = ops.cast(ops.arange(length), "float32")[:, None]  # [T, 1]
        rates = ops.exp(ops.arange(0, self.embedding_dim, 2, dtype="float32")
                        * (-math.log(10000.0) / self.embedding_dim))  # [⌈D/2⌉]
        angles = positions * rates[None]  # [T, ⌈D/2⌉]
        table = ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1)  # [T, ⌈D/2⌉, 2]
        table = ops.reshape(table, (length, -1))[:, :self.embedding_dim]  # interleaved [T, D]
        return ops.cast(table, self.compute_dtype)

    def _add_subwords(self, words, token_ids, subword_ids, training):
        """k_t E[w_t] + Σ_g Z[g] / sqrt(|G_t|), `[B, T, D]`."""
        keep = ops.not_equal(token_ids, 1)  # [B, T]: not the unknown word
        if training and self.whole_word_dropout:
            drop = keras.random.uniform(ops.shape(token_ids), seed=self.seed_generator)
            keep = ops.logical_and(keep, drop >= self.whole_word_dropout)
        present = ops.cast(ops.not_equal(subword_ids, 0), self.compute_dtype)  # [B, T, S]
        scale = ops.rsqrt(ops.maximum(ops.sum(present, axis=-1), 1.0))  # [B, T]
        # Z[0] is not used: the mask keeps its gradient at 0.
        subwords = ops.einsum("btsd,bts->btd", self.subword_embedding(subword_ids), present)
        return (words * ops.cast(keep, words.dtype)[..., None]
                + subwords * scale[..., None])  # [B, T, D]

    def call(self, token_ids, subword_ids=None, training=None):
        if (subword_ids is None) != (self.subword_embedding is None):
            raise ValueError("`subword_ids` must be given exactly when the layer has "
                             f"subword_vocabulary_size (here {self.subword_vocabulary_size}).")
        length = ops.shape(token_ids)[1]
        if self.position_embedding is None:
            positions = self._sinusoids(length)  # [T, D]
        else:
            positions = self.position_embedding(ops.arange(length))  # [T, D]
        x = self.token_embedding(token_ids)  # [B, T, D]
        if subword_ids is not None:
            x = self._add_subwords(x, token_ids, subword_ids, training)
        return x + positions[None]  # [B, T, D]

    def compute_output_shape(self, token_ids_shape, subword_ids_shape=None):
        return tuple(token_ids_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocabulary_size=self.vocabulary_size,
            max_length=self.max_length,
            embedding_dim=self.embedding_dim,
            position_encoding=self.position_encoding,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
            subword_vocabulary_size=self.subword_vocabulary_size,
            whole_word_dropout=self.whole_word_dropout,
            seed=self.seed,
        )
        return config
