"""ShowAttendTellDecoder: LSTM that attends over image regions while it writes."""

import keras
from keras import ops

from zoo._validation import assert_choice, assert_positive_int, assert_rate
from zoo.layers.attention import SCORES, Attention
from zoo.models.decoding import beam_search


def _scan(step, init, xs):
    """`ops.scan(step, init, xs)` (the outputs having the carry's structure,
    a flat tuple) in a form XLA can differentiate.

    Keras' TensorFlow scan is a `tf.while_loop` without
    `maximum_iterations`, and XLA (`jit_compile=True`, TPUs) cannot build
    the gradient of such a loop. This runs the same steps in a while loop
    bounded by the sequence length and writes step t's outputs into row t
    of `[T, ...]` buffers by a one-hot sum, which is exact (x + 0·y and
    0 + 1·y): the results, gradients included, are the bits of `ops.scan`.
    On JAX it is `ops.scan` itself (lax.scan), as JAX's while loop has no
    reverse-mode gradient.
    """
    if keras.backend.backend() == "jax":
        return ops.scan(step, init, xs)
    steps = ops.shape(xs)[0]
    positions = ops.arange(steps)

    def body(t, carry, outputs):
        carry, ys = step(carry, ops.take(xs, t, axis=0))
        here = positions == t  # [T]
        outputs = tuple(
            out + ops.reshape(ops.cast(here, out.dtype), (-1,) + (1,) * len(y.shape)) * y[None]
            for out, y in zip(outputs, ys))  # [T, ...] + [T, 1, ...] · [1, ...]
        return t + 1, tuple(carry), outputs

    outputs = tuple(ops.zeros((steps, *ops.shape(x)), x.dtype) for x in init)
    _, carry, outputs = ops.while_loop(
        lambda t, *_: t < steps, body, (ops.convert_to_tensor(0, "int32"), tuple(init), outputs),
        maximum_iterations=steps)
    return carry, outputs


@keras.saving.register_keras_serializable(package="zoo")
class ShowAttendTellDecoder(keras.layers.Layer):
    """The soft-attention caption decoder of Xu et al. (2015), §3.1.2.

    From the annotation vectors a_1..a_L of one image and the previous word
    y_{t-1}:

        h_0, c_0 = tanh(W_h mean_i a_i), tanh(W_c mean_i a_i)
        α_t      = softmax_i a(a_i, h_{t-1})       (score: additive, wᵀtanh(U a_i + V h))
        z_t      = β_t Σ_i α_ti a_i,   β_t = σ(w_β h_{t-1})      (the gating scalar)
        h_t, c_t = LSTM([E y_{t-1}; z_t], h_{t-1}, c_t-1)
        p(y_t)   = softmax(L_o dropout(E y_{t-1} + L_h h_t + L_z z_t))   (deep output)

    Training adds the doubly stochastic regulariser, which asks every
    region to receive about as much attention over the caption as any other:

        λ · mean_i (1 − Σ_t α_ti)²      (mean over regions and the batch)

    The paper sums over regions next to a per-caption summed log-likelihood
    and gives no λ; the mean over regions next to a per-token mean loss,
    with λ = 1, is what the widely used PyTorch re-implementation
    (sgrvinod/a-PyTorch-Tutorial-to-Image-Captioning, `alpha_c`) does.

    `use_attention=False` is the ablation without attention: z_t is the mean
    annotation at every step (α uniform, no gate, no regulariser).

    Args:
        vocabulary_size: number of token ids (id 0 is padding).
        embedding_dim: size of E y.
        units: LSTM size.
        attention_units: hidden size of the additive (or qkv) score.
        score: the `zoo.layers.Attention` score; ``"additive"`` as in the paper.
        use_attention: False for the mean-pooled ablation.
        dropout: on the deep output layer's input.
        attention_regularization: λ of the doubly stochastic regulariser.

    Call arguments:
        annotations: `[B, L, D]`.
        tokens: int `[B, T]`, the caption shifted right (starting with the
            start token, 0-padded); padding steps do not count in λ's sum.
        training: enables dropout.

    Returns:
        logits `[B, T, V]` for the next tokens, and α `[B, T, L]`.

    Example:

    >>> decoder = ShowAttendTellDecoder(vocabulary_size=50, units=32)
    >>> logits, alpha = decoder(np.zeros((2, 49, 16)), np.ones((2, 7), "int32"))
    >>> logits.shape, alpha.shape
    ((2, 7, 50), (2, 7, 49))
    """

    def __init__(self, vocabulary_size, embedding_dim=256, units=256, attention_units=128,
                 score="additive", use_attention=True, dropout=0.5,
                 attention_regularization=1.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("vocabulary_size", vocabulary_size), ("embedding_dim", embedding_dim),
                            ("units", units), ("attention_units", attention_units)):
            assert_positive_int(name, value)
        assert_choice("score", score, SCORES)
        assert_rate("dropout", dropout)
        if isinstance(attention_regularization, bool) or \
                not isinstance(attention_regularization, (int, float)) or attention_regularization < 0:
            raise ValueError("`attention_regularization` must be a float >= 0. "
                             f"Received: attention_regularization={attention_regularization!r}")
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.attention_units = attention_units
        self.score = score
        self.use_attention = use_attention
        self.dropout = dropout
        self.attention_regularization = float(attention_regularization)

        policy = self.dtype_policy
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, dtype=policy,
                                                name="embedding")
        self.init_h = keras.layers.Dense(units, activation="tanh", dtype=policy, name="init_h")
        self.init_c = keras.layers.Dense(units, activation="tanh", dtype=policy, name="init_c")
        if use_attention:
            self.attention = Attention(
                score=score, units=attention_units if score in ("additive", "qkv") else None,
                dtype=policy, name="attention")
            self.gate = keras.layers.Dense(1, activation="sigmoid", dtype=policy, name="gate")
        self.cell = keras.layers.LSTMCell(units, dtype=policy, name="lstm")
        self.output_hidden = keras.layers.Dense(embedding_dim, dtype=policy, name="output_hidden")
        self.output_context = keras.layers.Dense(embedding_dim, dtype=policy, name="output_context")
        self.output_dropout = keras.layers.Dropout(dropout, dtype=policy, name="output_dropout")
        self.output_logits = keras.layers.Dense(vocabulary_size, dtype=policy, name="output_logits")

    def build(self, annotations_shape, tokens_shape=None):
        # Built here, not on first call: the first call is inside a loop
        # (ops.scan), where variables must already exist.
        d = annotations_shape[-1]
        self.embedding.build((None, None))
        self.init_h.build((None, d))
        self.init_c.build((None, d))
        if self.use_attention:
            self.attention.build((None, 1, self.units), annotations_shape)
            self.gate.build((None, self.units))
        self.cell.build((None, self.embedding_dim + d))
        self.output_hidden.build((None, self.units))
        self.output_context.build((None, d))
        self.output_logits.build((None, self.embedding_dim))

    def initial_state(self, annotations):
        """[h_0, c_0] from the mean annotation, each `[B, units]`."""
        mean = ops.mean(annotations, axis=1)  # [B, L, D] -> [B, D]
        return [self.init_h(mean), self.init_c(mean)]

    def _attend(self, annotations, h, training=None):
        """z_t `[B, D]` and α_t `[B, L]` for the previous state h `[B, U]`."""
        if not self.use_attention:
            num_regions = ops.shape(annotations)[1]
            alpha = ops.ones(ops.shape(annotations)[:2], "float32") / ops.cast(num_regions, "float32")
            return ops.mean(annotations, axis=1), alpha
        context, alpha = self.attention(
            h[:, None, :], annotations, return_attention_scores=True, training=training
        )  # h [B, U] -> query [B, 1, U]; context [B, 1, D], α [B, 1, L]
        z = self.gate(h) * context[:, 0]  # β_t [B, 1] · [B, D]
        return z, ops.cast(alpha[:, 0], "float32")

    def _recur(self, annotations, embedded, state, training=None):
        """One step: (E y_{t-1} [B, E], [h, c]) → z_t, α_t, [h_t, c_t]."""
        z, alpha = self._attend(annotations, state[0], training)
        _, state = self.cell(ops.concatenate([embedded, z], axis=-1), list(state),
                             training=training)
        return z, alpha, list(state)

    def _logits(self, embedded, h, z, training=None):
        """Deep output layer: L_o dropout(E y + L_h h + L_z z)."""
        x = embedded + self.output_hidden(h) + self.output_context(z)
        return self.output_logits(self.output_dropout(x, training=training))

    def call(self, annotations, tokens, training=None):
        embedded = self.embedding(tokens)  # [B, T, E]

        # Keras' TensorFlow scan needs the per-step outputs to have the
        # carry's structure, so z_t and α_t ride along in the carry.
        def step(carry, embedded_t):
            z, alpha, state = self._recur(annotations, embedded_t, carry[2:], training)
            carry = (z, alpha, *state)
            return carry, carry

        state = self.initial_state(annotations)
        batch, num_regions = ops.shape(annotations)[0], ops.shape(annotations)[1]
        init = (ops.zeros_like(annotations[:, 0]), ops.zeros((batch, num_regions), "float32"),
                *state)
        _, (z, alpha, h, _) = _scan(
            step, init, ops.transpose(embedded, (1, 0, 2))
        )  # scans time: [T, B, E] -> z [T, B, D], α [T, B, L], h [T, B, U]
        h = ops.transpose(h, (1, 0, 2))  # [T, B, U] -> [B, T, U]
        z = ops.transpose(z, (1, 0, 2))  # [T, B, D] -> [B, T, D]
        alpha = ops.transpose(alpha, (1, 0, 2))  # [T, B, L] -> [B, T, L]
        if self.use_attention and self.attention_regularization and training:
            real = ops.cast(ops.not_equal(tokens, 0), "float32")[:, :, None]  # [B, T, 1]
            coverage = ops.sum(alpha * real, axis=1)  # Σ_t α_ti: [B, L]
            self.add_loss(self.attention_regularization * ops.mean(ops.square(1.0 - coverage)))
        return self._logits(embedded, h, z, training), alpha

    def compute_output_spec(self, annotations, tokens, training=None):
        batch, steps = tokens.shape[0], tokens.shape[1]
        return (
            keras.KerasTensor((batch, steps, self.vocabulary_size), dtype=self.compute_dtype),
            keras.KerasTensor((batch, steps, annotations.shape[1]), dtype="float32"),
        )

    def generate(self, annotations, start_id, end_id, max_length, beam_width=1,
                 length_normalization=1.0):
        """Beam search (greedy when `beam_width=1`) as one in-graph loop: see
        `zoo.models.decoding.beam_search`.

        Args:
            annotations: `[B, L, D]`.
            start_id, end_id: the start and end token ids.
            max_length: the most steps; static, so shapes are too (TPU, XLA).
            beam_width: K.
            length_normalization: the exponent of the length in the score.

        Returns:
            dict with ``tokens`` int `[B, max_length]` (the end token
            included, 0 after it), ``attention`` `[B, max_length, L]` (zero
            after the end) and ``scores`` `[B]` (the normalised log-prob).
        """
        assert_positive_int("beam_width", beam_width)
        if not self.built:  # Its variables must exist before the loop.
            self.build(annotations.shape)
        memory = ops.repeat(annotations, beam_width, axis=0)  # [B, L, D] -> [B·K, L, D]

        def step(tokens, state):
            embedded = self.embedding(tokens)
            z, alpha, state = self._recur(memory, embedded, state)
            return self._logits(embedded, state[0], z), alpha, state

        return beam_search(
            step, self.initial_state(memory), ops.shape(annotations)[0], start_id, end_id,
            self.vocabulary_size, max_length, annotations.shape[1], beam_width=beam_width,
            length_normalization=length_normalization)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "score": self.score,
            "use_attention": self.use_attention,
            "dropout": self.dropout,
            "attention_regularization": self.attention_regularization,
        }
