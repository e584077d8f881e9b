"""Seq2SeqEncoder: a bidirectional RNN over the source sentence."""

import keras
from keras import ops

from zoo._validation import assert_choice, assert_positive_int, assert_rate

# cell name -> keras recurrent layer. simple_rnn is the lecture's
# h_t = σ(U x_t + W h_{t-1}) (with σ = tanh).
RNN_LAYERS = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM,
              "simple_rnn": keras.layers.SimpleRNN}


def assert_cell(cell):
    assert_choice("cell", cell, tuple(RNN_LAYERS))


@keras.saving.register_keras_serializable(package="zoo")
class Seq2SeqEncoder(keras.layers.Layer):
    """The annotations h_i of the source words x_1..x_n:

        →h_i = RNN(E x_i, →h_{i-1}),   ←h_i = RNN(E x_i, ←h_{i+1}),
        h_i  = [→h_i ; ←h_i]                        (size `units`)

    and the summary h_n = [→h_n ; ←h_1] (per state of the cell: h, and c
    for an LSTM), from which the decoder starts. Padding (id 0) is skipped
    by both directions.

    Args:
        vocabulary_size: number of source token ids (0 is padding).
        embedding_dim: size of E x.
        units: size of h_i; each direction has `units / 2`.
        cell: ``"gru"``, ``"lstm"`` or ``"simple_rnn"``.
        dropout: on the embeddings.

    Call arguments:
        tokens: int `[B, T]`, 0-padded at the end.
        training: enables dropout.

    Returns:
        annotations `[B, T, units]` and the summary: a list with one
        `[B, units]` per cell state.

    Example:

    >>> encoder = Seq2SeqEncoder(vocabulary_size=50, units=8)
    >>> annotations, summary = encoder(np.ones((2, 5), "int32"))
    >>> annotations.shape, [s.shape for s in summary]
    ((2, 5, 8), [(2, 8)])
    """

    def __init__(self, vocabulary_size, embedding_dim=256, units=512, cell="gru", dropout=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("vocabulary_size", vocabulary_size),
                            ("embedding_dim", embedding_dim), ("units", units)):
            assert_positive_int(name, value)
        if units % 2:
            raise ValueError("`units` is split between the two directions, so it must be even. "
                             f"Received: units={units}")
        assert_cell(cell)
        assert_rate("dropout", dropout)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.dropout = dropout
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, dtype=policy,
                                                name="embedding")
        self.embedding_dropout = keras.layers.Dropout(dropout, dtype=policy)
        self.rnn = keras.layers.Bidirectional(
            RNN_LAYERS[cell](units // 2, return_sequences=True, return_state=True, dtype=policy),
            dtype=policy, name="bidirectional")

    def build(self, tokens_shape):
        self.embedding.build(tokens_shape)
        self.rnn.build((*tokens_shape, self.embedding_dim))

    def call(self, tokens, training=None):
        mask = ops.not_equal(tokens, 0)  # [B, T]
        x = self.embedding_dropout(self.embedding(tokens), training=training)
        annotations, *states = self.rnn(x, mask=mask, training=training)
        # states: the forward direction's (h[, c]), then the backward one's.
        half = len(states) // 2
        summary = [ops.concatenate([f, b], axis=-1)  # [B, units/2] ×2 -> [B, units]
                   for f, b in zip(states[:half], states[half:])]
        return annotations, summary

    def compute_output_spec(self, tokens, training=None):
        batch, steps = tokens.shape
        num_states = 2 if self.cell == "lstm" else 1
        return (keras.KerasTensor((batch, steps, self.units), dtype=self.compute_dtype),
                # Distinct tensors: `[t] * n` would make the graph pass h as c too.
                [keras.KerasTensor((batch, self.units), dtype=self.compute_dtype)
                 for _ in range(num_states)])

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim, "units": self.units, "cell": self.cell,
                "dropout": self.dropout}
