"""WordTokenizer: words ↔ ids over a fixed vocabulary, the text families' one design.

Every text family (the translators, the classifier, the captioner) reads and
writes words through it, with the same special tokens at the same ids:

    0 ""         padding (and "no more words")
    1 "[UNK]"    any word the vocabulary lacks
    "[START]", "[END]"   around a generated text (the pipelines build target
                         and caption vocabularies with them at ids 2 and 3)

Its ops are TensorFlow's (keras `TextVectorization`, `tf.strings`), as in
keras-hub's tokenizers: the same code runs eagerly, inside tf.data on any
Keras backend, and inside an exported SavedModel. Only the preprocessors
use it; the models take and return integer ids.
"""

import keras
import numpy as np
import tensorflow as tf
from keras.src.utils.backend_utils import TFGraphScope

PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"
SPECIAL_TOKENS = (PAD, UNK, START, END)


def as_tf_tensor(x, dtype=None):
    """The active backend's tensor (or a NumPy array) as TensorFlow's, cast
    to `dtype` if given; the inverse of keras' `convert_tf_tensor`, which
    has no public twin."""
    if not tf.is_tensor(x):
        x = np.asarray(keras.ops.convert_to_numpy(x))
    x = tf.convert_to_tensor(x)
    return x if dtype is None else tf.cast(x, dtype)


def with_start_end(texts):
    """Standardised strings → ``"[START] … [END]"``."""
    return tf.strings.join([START, texts, END], separator=" ")


class WordTokenizer:
    """Standardised text ↔ word ids (keras `TextVectorization`, split on
    whitespace).

    Args:
        vocabulary: token strings by id, ``""`` and ``"[UNK]"`` first.
        add_start_end: wrap each text in ``[START] … [END]`` (the vocabulary
            must have both).

    Example:

    >>> tokenizer = WordTokenizer(["", "[UNK]", "[START]", "[END]", "a", "dog"],
    ...                           add_start_end=True)
    >>> tokenizer(tf.constant(["a dog", "a cat"])).to_list()
    [[2, 4, 5, 3], [2, 4, 1, 3]]
    >>> tokenizer.detokenize(tf.constant([[4, 5, 3, 0]])).numpy()
    array([b'a dog'], dtype=object)
    """

    def __init__(self, vocabulary, add_start_end=False):
        vocabulary = [str(token) for token in vocabulary]
        if vocabulary[:2] != [PAD, UNK]:
            raise ValueError(f"`vocabulary` must start with {PAD!r} (padding) and {UNK!r}. "
                             f"Received: vocabulary starting {vocabulary[:4]}")
        if add_start_end and not {START, END} <= set(vocabulary):
            raise ValueError(f"A vocabulary of generated text must contain {START!r} and "
                             f"{END!r}. Received: vocabulary starting {vocabulary[:6]}")
        self.vocabulary = vocabulary
        self.add_start_end = add_start_end
        self.start_id = vocabulary.index(START) if START in vocabulary else None
        self.end_id = vocabulary.index(END) if END in vocabulary else None
        # Dense output (ragged=True is TensorFlow-backend only), 0-padded to
        # the longest text: no token is 0, so the padding marks the ends.
        self.lookup = keras.layers.TextVectorization(
            standardize=None, split="whitespace",
            vocabulary=vocabulary[2:])  # it adds "" and "[UNK]" itself
        self.lookup.build((None,))  # an export tracks only built layers
        self._tokens = tf.constant(vocabulary)

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def __call__(self, texts):
        """Standardised strings `[B]` → int32 ragged `[B, (n)]`, every word."""
        texts = tf.convert_to_tensor(texts, tf.string)
        if self.add_start_end:
            texts = with_start_end(texts)
        # Keras' preprocessing layers return the backend's tensors outside a
        # TensorFlow graph; in this scope they return TensorFlow's, on every
        # backend (keras' public API has no switch for it, hence keras.src).
        with TFGraphScope():
            ids = self.lookup(texts)  # [B, longest]
        return tf.RaggedTensor.from_tensor(tf.cast(ids, tf.int32), padding=0)  # [B, (n)]

    def dense(self, texts, length):
        """Standardised strings `[B]` → int32 `[B, length]`: truncated, 0-padded."""
        return self(texts).to_tensor(shape=[None, length])

    def tokens(self, ids):
        """Ids of any shape → their token strings (``""`` for padding)."""
        return tf.gather(self._tokens, as_tf_tensor(ids, tf.int32))

    def detokenize(self, ids):
        """Int `[B, T]` → strings `[B]`: the words before the first padding
        or ``[END]``, ``[START]`` left out, joined by single spaces."""
        ids = as_tf_tensor(ids, tf.int32)
        ends = ids == 0
        if self.end_id is not None:
            ends = tf.logical_or(ends, ids == self.end_id)  # [B, T]
        hidden = tf.cumsum(tf.cast(ends, tf.int32), axis=-1) > 0  # [B, T]: from the first end on
        if self.start_id is not None:
            hidden = tf.logical_or(hidden, ids == self.start_id)
        words = tf.ragged.boolean_mask(self.tokens(ids), tf.logical_not(hidden))  # [B, (n)]
        return tf.strings.reduce_join(words, axis=-1, separator=" ")
