"""Seq2SeqTokenizer: sentences ↔ token ids of one language, in TensorFlow ops.

TensorFlow ops (tensorflow-text and keras' `TextVectorization`), so the same
code runs eagerly, inside tf.data and inside an exported SavedModel, which
then needs only tensorflow and tensorflow_text to load.
"""

import keras
import tensorflow as tf
from keras.src.utils.backend_utils import TFGraphScope

PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"

# A punctuation mark becomes its own token; apostrophes stay inside words
# ("don't", "it's" are single tokens, as the references write them).
_PUNCTUATION = r"([^\p{L}\p{N}\s'])"
# ... except inside numbers: "5.5", "7:30", "1,000" (RE2 has no lookaround,
# so they are split, then joined again).
_SPLIT_NUMBER = r"(\p{N}) ([.,:]) (\p{N})"
# Detokenising: no space before closing marks, none after opening ones.
_CLOSING = r" ([.,!?;:%)\]}»])"
_OPENING = r"([¿¡(\[{«]) "


def standardize(texts):
    """Strings `[B]` → standardised strings `[B]`.

    Unicode NFKC normalisation with case folding (tensorflow-text's
    `case_fold_utf8`: "¿Dónde ESTÁ?" → "¿dónde está?"), typographic
    apostrophes made ASCII, punctuation split off, whitespace collapsed:
    "¿Dónde está?" → "¿ dónde está ?"; "it's 5.5%" → "it's 5.5 %".
    """
    import tensorflow_text as tf_text  # only the text models need it

    texts = tf_text.case_fold_utf8(texts)
    texts = tf.strings.regex_replace(texts, "[’‘`]", "'")
    texts = tf.strings.regex_replace(texts, _PUNCTUATION, r" \1 ")
    texts = tf.strings.regex_replace(texts, _SPLIT_NUMBER, r"\1\2\3")
    texts = tf.strings.regex_replace(texts, r"\s+", " ")
    return tf.strings.strip(texts)


def with_start_end(texts):
    """Standardised strings `[B]` → ``"[START] … [END]"``."""
    return tf.strings.join([START, texts, END], separator=" ")


class Seq2SeqTokenizer:
    """Words ↔ ids over a fixed vocabulary (keras `TextVectorization`).

    Args:
        vocabulary: token strings by id: ``""`` (padding), ``"[UNK]"``, then
            the words (and ``"[START]"``, ``"[END]"`` for a target language).
        sequence_length: the static length of `__call__`'s output.
        add_start_end: wrap every sentence in ``[START] … [END]``.

    Example:

    >>> tokenizer = Seq2SeqTokenizer(["", "[UNK]", "hola", "?", "¿"], 4)
    >>> tokenizer(tf.constant(["¿Hola?"])).numpy()
    array([[4, 2, 3, 0]], dtype=int32)
    """

    def __init__(self, vocabulary, sequence_length, add_start_end=False):
        vocabulary = [str(token) for token in vocabulary]
        if vocabulary[:2] != [PAD, UNK]:
            raise ValueError(f"`vocabulary` must start with {PAD!r} (padding) and {UNK!r}. "
                             f"Received: vocabulary starting {vocabulary[:4]}")
        if add_start_end and not {START, END} <= set(vocabulary):
            raise ValueError(f"A target `vocabulary` must contain {START!r} and {END!r}. "
                             f"Received: vocabulary starting {vocabulary[:6]}")
        self.vocabulary = vocabulary
        self.sequence_length = sequence_length
        self.add_start_end = add_start_end
        # Dense output (ragged=True is TensorFlow-backend only), 0-padded to
        # the longest sentence: no token is 0, so the padding marks the ends.
        self.lookup = keras.layers.TextVectorization(
            standardize=None, split="whitespace",
            vocabulary=vocabulary[2:])  # it adds "" and "[UNK]" itself
        self.lookup.build((None,))  # an export tracks only built layers
        self._words = tf.constant(vocabulary)
        # Padding (0) ends a sentence; so does [END] where the vocabulary has it.
        self._end_id = vocabulary.index(END) if END in vocabulary else 0
        self._start_id = vocabulary.index(START) if START in vocabulary else 0

    def ragged(self, texts):
        """Strings `[B]` → int32 ragged `[B, (n)]`, every token (no truncation)."""
        texts = standardize(tf.convert_to_tensor(texts, tf.string))
        if self.add_start_end:
            texts = with_start_end(texts)
        # Keras' preprocessing layers return the backend's tensors outside a
        # TensorFlow graph; in this scope they return TensorFlow's, on every
        # backend (keras' public API has no switch for it, hence keras.src).
        with TFGraphScope():
            ids = self.lookup(texts)  # [B, longest]
        return tf.RaggedTensor.from_tensor(tf.cast(ids, tf.int32), padding=0)  # [B, (n)]

    def __call__(self, texts):
        """Strings `[B]` → int32 `[B, sequence_length]`: truncated, 0-padded.
        Unknown words are 1 (``[UNK]``)."""
        return self.ragged(texts).to_tensor(shape=[None, self.sequence_length])

    def detokenize(self, ids):
        """Int `[B, T]` → strings `[B]`: the words after ``[START]`` up to the
        first padding or ``[END]``, joined by spaces, no space before "." or
        after "¿"."""
        ids = tf.cast(ids, tf.int32)
        ends = tf.logical_or(ids == 0, ids == self._end_id)  # [B, T]
        after_end = tf.cumsum(tf.cast(ends, tf.int32), axis=-1) > 0  # [B, T]
        hidden = tf.logical_or(after_end, ids == self._start_id)
        words = tf.where(hidden, "", tf.gather(self._words, ids))
        texts = tf.strings.reduce_join(words, axis=-1, separator=" ")  # "a b  " (trailing blanks)
        texts = tf.strings.strip(tf.strings.regex_replace(texts, r"\s+", " "))
        texts = tf.strings.regex_replace(texts, _CLOSING, r"\1")
        return tf.strings.regex_replace(texts, _OPENING, r"\1")
