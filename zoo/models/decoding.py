"""Beam search (greedy when the width is 1) for the zoo's attending decoders.

Written with keras.ops as one in-graph loop, so it runs inside a SavedModel's
serving function, under XLA and on every Keras backend; keras and keras-hub
offer samplers, but none that returns the chosen hypothesis' attention.
"""

from keras import ops

from zoo._validation import assert_positive_int

NEG = -1e9  # log-probability of a forbidden token (finite: no inf - inf = NaN)


def beam_search(step, state, batch_size, start_id, end_id, vocabulary_size, max_length,
                attention_size, beam_width=1, length_normalization=1.0):
    """The best of `beam_width` hypotheses per input, and its attention.

    Each of the B·K hypotheses advances one token per step; a finished one
    (it wrote `end_id`) only extends with padding (id 0) at no cost, and the
    K best of the K·V candidates of each input survive. The loop stops when
    every hypothesis is finished, or after `max_length` steps. The winner
    maximises

        log p(y) / length^`length_normalization`

    (0: no normalisation, 1: mean log-probability per token). Padding and
    `start_id` are never generated.

    Args:
        step: `(tokens int [B·K], state) -> (logits [B·K, V], attention
            [B·K, L], new state)`, one decoding step; `state` is a list of
            `[B·K, ...]` tensors.
        state: the initial state list; rows b·K … b·K + K − 1 belong to
            input b (e.g. `ops.repeat(x, K, axis=0)`).
        batch_size: B.
        start_id, end_id: the start and end token ids.
        vocabulary_size: V.
        max_length: T, the most steps; static, so shapes are too (TPU, XLA).
        attention_size: L.
        beam_width: K.
        length_normalization: the exponent above.

    Returns:
        dict with ``tokens`` int `[B, T]` (the end token included, 0 after
        it), ``attention`` `[B, T, L]` (zero after the end) and ``scores``
        `[B]` (the normalised log-probability).
    """
    assert_positive_int("max_length", max_length)
    assert_positive_int("beam_width", beam_width)
    k, vocabulary = beam_width, vocabulary_size
    # Only the first of the K identical start hypotheses is alive.
    scores = ops.tile(ops.convert_to_tensor([0.0] + [NEG] * (k - 1), "float32"), [batch_size])
    token_ids = ops.arange(vocabulary)
    pad_only = ops.where(token_ids == 0, 0.0, NEG)  # [V]: a finished hypothesis
    never = ops.logical_or(token_ids == 0, token_ids == start_id)  # never generated
    steps = ops.arange(max_length)

    def cond(t, tokens, state, scores, finished, lengths, out_tokens, out_attention):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, tokens, state, scores, finished, lengths, out_tokens, out_attention):
        logits, attention, state = step(tokens, state)
        log_p = ops.log_softmax(ops.where(never, NEG, ops.cast(logits, "float32")), axis=-1)
        log_p = ops.where(finished[:, None], pad_only, log_p)  # [B·K, V]
        candidates = ops.reshape(scores[:, None] + log_p, (-1, k * vocabulary))  # -> [B, K·V]
        top_scores, top_index = ops.top_k(candidates, k)  # [B, K]
        parent = top_index // vocabulary + ops.arange(batch_size)[:, None] * k  # [B, K] flat ids
        parent = ops.reshape(parent, (-1,))  # [B, K] -> [B·K]
        token = ops.reshape(top_index % vocabulary, (-1,))  # [B, K] -> [B·K]

        def pick(x):
            return ops.take(x, parent, axis=0)

        was_finished = pick(finished)
        alive = ops.cast(ops.logical_not(was_finished), "float32")
        here = ops.cast(steps == t, "float32")  # one-hot of step t: [T]
        out_tokens = pick(out_tokens) + ops.cast(here, "int32")[None] * token[:, None]
        attention = pick(ops.cast(attention, "float32")) * alive[:, None]  # [B·K, L]
        out_attention = pick(out_attention) + here[None, :, None] * attention[:, None]
        return (t + 1, token, [pick(s) for s in state], ops.reshape(top_scores, (-1,)),
                ops.logical_or(was_finished, token == end_id), pick(lengths) + alive,
                out_tokens, out_attention)

    carry = (
        ops.convert_to_tensor(0, "int32"),
        ops.full((batch_size * k,), start_id, "int32"),
        list(state),
        scores,
        ops.zeros((batch_size * k,), "bool"),
        ops.zeros((batch_size * k,), "float32"),
        ops.zeros((batch_size * k, max_length), "int32"),
        ops.zeros((batch_size * k, max_length, attention_size), "float32"),
    )
    *_, scores, _, lengths, out_tokens, out_attention = ops.while_loop(cond, body, carry)
    normalised = ops.reshape(scores / ops.maximum(lengths, 1.0) ** length_normalization,
                             (-1, k))  # [B·K] -> [B, K]
    best = ops.argmax(normalised, axis=-1) + ops.arange(batch_size) * k  # [B] flat ids
    return {
        "tokens": ops.take(out_tokens, best, axis=0),
        "attention": ops.take(out_attention, best, axis=0),
        "scores": ops.max(normalised, axis=-1),
    }
