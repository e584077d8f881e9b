"""ShowAttendTellPreprocessor: captions ↔ the captioner's token ids, in TensorFlow ops."""

import tensorflow as tf
from keras.src.utils.backend_utils import convert_tf_tensor

from zoo.models.word_tokenizer import WordTokenizer


def standardize_caption(text):
    """Lower-cases a caption and keeps only ``[a-z0-9]`` words separated by single spaces.

    Every character outside ``[a-z0-9 ]`` after ``tf.strings.lower`` (which
    lower-cases ASCII only) becomes a space, so punctuation splits words
    (``"dog's"`` -> ``"dog s"``) and a non-ASCII letter is dropped
    (``"café"`` -> ``"caf"``). A TensorFlow op: works inside ``tf.data`` and
    ``tf.function``.

    Args:
        text: string tensor (or str / list of str) of any shape.

    Returns:
        A string tensor of the same shape.

    Example:

    >>> standardize_caption("A dog, running!  Fast.").numpy()
    b'a dog running fast'
    """
    text = tf.strings.lower(tf.convert_to_tensor(text, dtype=tf.string))
    text = tf.strings.regex_replace(text, r"[^a-z0-9 ]", " ")
    text = tf.strings.regex_replace(text, r" +", " ")
    return tf.strings.strip(text)


class ShowAttendTellPreprocessor:
    """The captioner's captions ↔ ids: `standardize_caption`, then a
    `WordTokenizer` that wraps each caption in ``[START] … [END]``.

    Args:
        vocabulary: token strings by id: ``""``, ``"[UNK]"``, then the
            words, ``[START]`` and ``[END]`` among them.
        max_length: the tokens the decoder reads and writes; a caption
            becomes max_length + 1 ids (inputs from ``[START]``, targets to
            ``[END]``).

    Example:

    >>> preprocessor = ShowAttendTellPreprocessor(
    ...     ["", "[UNK]", "[START]", "[END]", "a", "dog"], max_length=4)
    >>> keras.ops.convert_to_numpy(preprocessor(["A dog!"]))
    array([[2, 4, 5, 3, 0]], dtype=int32)
    >>> preprocessor.captions([[4, 5, 3, 0]])
    ['a dog']
    """

    def __init__(self, vocabulary, max_length):
        self.tokenizer = WordTokenizer(vocabulary, add_start_end=True)
        self.max_length = max_length

    @property
    def lookup_layers(self):
        """The lookup table an exported graph must track."""
        return [self.tokenizer.lookup]

    def __call__(self, captions):
        """Captions `[B]` → int32 `[B, max_length + 1]`, 0-padded; a longer
        caption is cut, its ``[END]`` with it. TensorFlow's tensor inside a
        TensorFlow graph (tf.data), the active backend's outside one (keras'
        `convert_tf_tensor`, as its TextVectorization returns it)."""
        ids = self.tokenizer.dense(standardize_caption(captions), self.max_length + 1)
        return convert_tf_tensor(ids)

    def detokenize(self, ids):
        """Int `[B, T]` → captions `[B]`: the words up to ``[END]``."""
        return self.tokenizer.detokenize(ids)

    def captions(self, ids):
        """`detokenize` as a list of Python strings (eager calls)."""
        return [caption.decode("utf-8") for caption in self.detokenize(ids).numpy()]
