"""Seq2SeqDecoder: an RNN that writes the translation, attending over the source."""

import keras
from keras import ops

from zoo._validation import assert_choice, assert_positive_int, assert_rate
from zoo.layers.attention import SCORES, Attention
from zoo.models.seq2seq.seq2seq_encoder import RNN_LAYERS, assert_cell


@keras.saving.register_keras_serializable(package="zoo")
class Seq2SeqDecoder(keras.layers.Layer):
    """The decoder of the lecture's translator, from the annotations h_i and
    the previous word y_{t-1}:

        h'_0  = tanh(W_s h_n)                        (per cell state)
        h'_t  = RNN(E y_{t-1}, h'_{t-1})
        α_ti  = softmax_i a(h_i, h'_t),   c_t = Σ_i α_ti h_i   (attention)
        c_t   = h_n                                            (without)
        o_t   = tanh(W_o [h'_t ; c_t])
        p(y_t | y_<t, x) = softmax(W_y dropout(o_t))

    (Luong et al., 2015: the attention reads the current state, so in
    training the RNN runs over the whole target at once and the attention
    is one batched product over all steps.) With ``use_attention=False``
    the context is the encoder's summary h_n at every step: the lecture's
    baseline, where c ≡ h_n encodes the whole input.

    Args:
        vocabulary_size: number of target token ids (0 is padding).
        embedding_dim: size of E y and of o_t.
        units: size of h'_t; must equal the encoder's `units`.
        cell: ``"gru"``, ``"lstm"`` or ``"simple_rnn"`` (as the encoder).
        score: the `zoo.layers.Attention` score a(h_i, h'_t).
        attention_units: hidden size of the additive or qkv score
            (default: `units`).
        use_attention: False for the baseline.
        dropout: on the embeddings and on o_t.

    Call arguments:
        annotations: `[B, S, units]`, the encoder's h_i.
        source_mask: bool `[B, S]`, True for real source tokens.
        summary: the encoder's summary, a list of `[B, units]` per state.
        tokens: int `[B, T]`, the target from ``[START]`` (0-padded).
        training: enables dropout.

    Returns:
        logits `[B, T, V]` of the next tokens and α `[B, T, S]` (zero
        without attention).
    """

    def __init__(self, vocabulary_size, embedding_dim=256, units=512, cell="gru",
                 score="additive", attention_units=None, use_attention=True, dropout=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("vocabulary_size", vocabulary_size),
                            ("embedding_dim", embedding_dim), ("units", units)):
            assert_positive_int(name, value)
        assert_positive_int("attention_units", attention_units, allow_none=True)
        assert_cell(cell)
        assert_choice("score", score, SCORES)
        assert_rate("dropout", dropout)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.score = score
        self.attention_units = attention_units
        self.use_attention = use_attention
        self.dropout = dropout
        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, dtype=policy,
                                                name="embedding")
        self.rnn = RNN_LAYERS[cell](units, return_sequences=True, dtype=policy, name="rnn")
        num_states = 2 if cell == "lstm" else 1
        self.bridges = [keras.layers.Dense(units, activation="tanh", dtype=policy,
                                           name=f"bridge_{i}") for i in range(num_states)]
        if use_attention:
            has_units = score in ("additive", "qkv")
            self.attention = Attention(score=score, units=(attention_units or units) if has_units
                                       else None, dtype=policy, name="attention")
        self.combine = keras.layers.Dense(embedding_dim, activation="tanh", dtype=policy,
                                          name="combine")
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=policy)
        self.output_logits = keras.layers.Dense(vocabulary_size, dtype=policy, name="logits")
        # The annotations arrive with the encoder's keras mask attached; the
        # source padding is read from `source_mask` instead (see compute_mask).
        self.supports_masking = True

    def build(self, annotations_shape, source_mask_shape=None, summary_shape=None,
              tokens_shape=None):
        # Built here, not on first call: `generate` first calls the layers
        # inside a loop, where variables must already exist.
        self.embedding.build((None, None))
        self.rnn.build((None, None, self.embedding_dim))
        for bridge in self.bridges:
            bridge.build((None, self.units))
        context_dim = self.units
        if self.use_attention:
            self.attention.build((None, None, self.units), annotations_shape)
            if self.score == "qkv":
                context_dim = self.attention_units or self.units
        self.combine.build((None, self.units + context_dim))
        self.output_logits.build((None, self.embedding_dim))

    def initial_state(self, summary):
        """h'_0 = tanh(W_s h_n), one `[B, units]` per cell state."""
        return [bridge(state) for bridge, state in zip(self.bridges, summary)]

    def project_annotations(self, annotations):
        """What the attention reads of h_i, computed once per sentence
        (`Attention.project_key`)."""
        return self.attention.project_key(annotations) if self.use_attention else annotations

    def _context(self, queries, annotations, source_mask, summary, projected=None,
                 training=None):
        """c `[B, T, D]` and α `[B, T, S]` for the decoder states `[B, T, units]`."""
        if not self.use_attention:
            steps = ops.shape(queries)[1]
            context = ops.repeat(summary[0][:, None], steps, axis=1)  # [B, units] -> [B, T, units]
            alpha = ops.zeros((ops.shape(queries)[0], steps, ops.shape(annotations)[1]), "float32")
            return context, alpha
        context, alpha = self.attention(
            queries, annotations, value_mask=source_mask, projected_key=projected,
            return_attention_scores=True, training=training)
        return context, ops.cast(alpha, "float32")

    def _logits(self, states, context, training=None):
        """W_y dropout(tanh(W_o [h'_t ; c_t]))."""
        combined = self.combine(ops.concatenate([states, context], axis=-1))
        return self.output_logits(self.dropout_layer(combined, training=training))

    def call(self, annotations, source_mask, summary, tokens, training=None):
        embedded = self.dropout_layer(self.embedding(tokens), training=training)  # [B, T, E]
        states = self.rnn(embedded, initial_state=self.initial_state(summary),
                          training=training)  # [B, T, units]
        context, alpha = self._context(states, annotations, source_mask, summary,
                                       training=training)
        return self._logits(states, context, training), alpha

    def step(self, annotations, source_mask, summary, projected, tokens, state):
        """One decoding step: (y_{t-1} int `[B]`, state) → logits `[B, V]`,
        α_t `[B, S]`, the new state (a list, as `initial_state`)."""
        output, state = self.rnn.cell(self.embedding(tokens), list(state))  # [B, units]
        context, alpha = self._context(output[:, None], annotations, source_mask, summary,
                                       projected)  # query [B, 1, units]
        return self._logits(output, context[:, 0]), alpha[:, 0], list(state)

    def compute_mask(self, *args, **kwargs):
        return None  # target padding is the loss's business (sample weights)

    def compute_output_spec(self, annotations, source_mask, summary, tokens, training=None):
        batch, steps = tokens.shape
        return (keras.KerasTensor((batch, steps, self.vocabulary_size), dtype=self.compute_dtype),
                keras.KerasTensor((batch, steps, annotations.shape[1]), dtype="float32"))

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim, "units": self.units, "cell": self.cell,
                "score": self.score, "attention_units": self.attention_units,
                "use_attention": self.use_attention, "dropout": self.dropout}
