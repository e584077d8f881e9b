"""TransformerEncoderPreprocessor: texts → the classifier's token and subword ids."""

import tensorflow as tf
from keras.src.utils.backend_utils import convert_tf_tensor

from zoo._validation import assert_choice, assert_positive_int
from zoo.models.transformer_encoder.subword_tokenizer import SubwordTokenizer
from zoo.models.word_tokenizer import WordTokenizer

# keras `TextVectorization`'s standardisations, written out as its own ops
# (lower case; its punctuation pattern) so that the word and the subword
# tokenizers split one standardised text.
STANDARDIZATIONS = ("lower_and_strip_punctuation", "lower")
STRIP_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def standardize(texts, standardization):
    """Strings `[B]` → lower-cased strings `[B]`, punctuation removed for
    ``"lower_and_strip_punctuation"`` (as keras' TextVectorization does)."""
    assert_choice("standardize", standardization, STANDARDIZATIONS)
    texts = tf.strings.lower(tf.convert_to_tensor(texts, tf.string))
    if standardization == "lower_and_strip_punctuation":
        texts = tf.strings.regex_replace(texts, STRIP_PUNCTUATION, "")
    return texts


class TransformerEncoderPreprocessor:
    """The classifier's strings → ids: `standardize`, a `WordTokenizer`, and
    with subwords a `SubwordTokenizer` over the same words.

    Args:
        vocabulary: token strings by id: ``""`` (padding), ``"[UNK]"``,
            then the words.
        max_length: T, the tokens the model reads (longer texts are cut).
        standardize: ``"lower_and_strip_punctuation"`` (for raw text) or
            ``"lower"`` (for pre-tokenised text such as SST-2's, where
            punctuation and clitics like "n't" are separate tokens).
        subwords: the character n-grams by id (``""`` first), or None.
        subword_lengths: (min, max) n-gram length of `subwords`.
        max_subwords: S, the n-grams kept per word (by length, then position).

    Example:

    >>> preprocessor = TransformerEncoderPreprocessor(["", "[UNK]", "good", "film"], 4)
    >>> keras.ops.convert_to_numpy(preprocessor(["Good film!"]))
    array([[2, 3, 0, 0]], dtype=int32)
    """

    def __init__(self, vocabulary, max_length, standardize=STANDARDIZATIONS[0], subwords=None,
                 subword_lengths=None, max_subwords=64):
        assert_positive_int("max_length", max_length)
        assert_choice("standardize", standardize, STANDARDIZATIONS)
        assert_positive_int("max_subwords", max_subwords)
        self.tokenizer = WordTokenizer(vocabulary)
        self.max_length = max_length
        self.standardize = standardize
        self.subword_tokenizer = (None if subwords is None
                                  else SubwordTokenizer(subwords, subword_lengths))
        self.max_subwords = max_subwords

    @property
    def lookup_layers(self):
        """The lookup tables an exported graph must track."""
        tokenizers = [self.tokenizer, self.subword_tokenizer]
        return [tokenizer.lookup for tokenizer in tokenizers if tokenizer is not None]

    def tokenize(self, texts):
        """Strings `[B]` → (the model's inputs, the texts' lengths `[B]`
        before truncation).

        The inputs: ``token_ids`` int32 `[B, max_length]`, truncated and
        0-padded (unknown words → 1); with subwords a dict of them and
        ``subword_ids`` `[B, max_length, max_subwords]`. TensorFlow's
        tensors inside a TensorFlow graph (tf.data, an export), the active
        backend's outside one (keras' `convert_tf_tensor`, as its
        TextVectorization returns them).
        """
        texts = standardize(texts, self.standardize)
        words = self.tokenizer(texts)  # ragged [B, (n)]
        lengths = convert_tf_tensor(tf.cast(words.row_lengths(), tf.int32))
        ids = convert_tf_tensor(words.to_tensor(shape=[None, self.max_length]))  # [B, T]
        if self.subword_tokenizer is None:
            return ids, lengths
        grams = self.subword_tokenizer(texts)  # ragged [B, (n), (g)]
        grams = grams.to_tensor(shape=(None, self.max_length, self.max_subwords))  # [B, T, S]
        return {"token_ids": ids, "subword_ids": convert_tf_tensor(grams)}, lengths

    def __call__(self, texts):
        """`tokenize`'s model inputs alone (eagerly, in tf.data and in a graph)."""
        return self.tokenize(texts)[0]
