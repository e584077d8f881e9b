"""Seq2SeqPreprocessor: sentences ↔ the translator's token ids, in TensorFlow ops.

TensorFlow ops (tensorflow-text and the shared `WordTokenizer`), so the same
code runs eagerly, inside tf.data on any backend, and inside an exported
SavedModel, which then needs only tensorflow and tensorflow_text to load.
"""

import tensorflow as tf

from zoo.models.word_tokenizer import WordTokenizer, as_tf_tensor

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

    texts = tf_text.case_fold_utf8(tf.convert_to_tensor(texts, tf.string))
    texts = tf.strings.regex_replace(texts, "[’‘`]", "'")
    texts = tf.strings.regex_replace(texts, _PUNCTUATION, r" \1 ")
    texts = tf.strings.regex_replace(texts, _SPLIT_NUMBER, r"\1\2\3")
    texts = tf.strings.regex_replace(texts, r"\s+", " ")
    return tf.strings.strip(texts)


class Seq2SeqPreprocessor:
    """The translator's strings ↔ ids: `standardize`, then a `WordTokenizer`
    per language (the target's wraps each sentence in ``[START] … [END]``).
    Its outputs are TensorFlow's tensors: `pair` feeds tf.data, and
    `source_ids` feeds `translations` as well as the model (which
    `Seq2SeqTranslator.translate_strings` converts it for).

    Args:
        source_vocabulary, target_vocabulary: token strings by id (``""``,
            ``"[UNK]"``, then words; the target's has ``[START]``, ``[END]``).
        max_source_length: the source tokens the model reads.
        max_target_length: the tokens the model writes, with ``[END]``.

    Example:

    >>> preprocessor = Seq2SeqPreprocessor(
    ...     ["", "[UNK]", "hola", "?", "¿"],
    ...     ["", "[UNK]", "[START]", "[END]", "hello", "?"], 4, 4)
    >>> preprocessor.source_ids(tf.constant(["¿Hola?"]))[0].numpy()
    array([[4, 2, 3]], dtype=int32)
    >>> preprocessor.detokenize(tf.constant([[4, 5, 3, 0]])).numpy()
    array([b'hello?'], dtype=object)
    """

    def __init__(self, source_vocabulary, target_vocabulary, max_source_length,
                 max_target_length):
        self.source_tokenizer = WordTokenizer(source_vocabulary)
        self.target_tokenizer = WordTokenizer(target_vocabulary, add_start_end=True)
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length

    @property
    def lookup_layers(self):
        """The lookup tables an exported graph must track."""
        return [self.source_tokenizer.lookup, self.target_tokenizer.lookup]

    def pair(self, source, target):
        """One training pair, scalar strings → (source ids `[n]`, target ids
        ``[START] … [END]`` `[m]`), cut to the model's lengths (tf.data)."""
        source = self.source_tokenizer(standardize(source[None]))[0]
        target = self.target_tokenizer(standardize(target[None]))[0]
        return source[:self.max_source_length], target[:self.max_target_length + 1]

    def source_ids(self, texts):
        """Strings `[B]` → int32 ids `[B, S]` and the lengths `[B]` (before
        truncation). S is the longest of the batch (at least 1, at most
        max_source_length): short batches decode faster."""
        ragged = self.source_tokenizer(standardize(texts))
        lengths = tf.cast(ragged.row_lengths(), tf.int32)
        width = tf.clip_by_value(tf.reduce_max(tf.concat([lengths, [1]], 0)), 1,
                                 self.max_source_length)
        return ragged.to_tensor(shape=[None, self.max_source_length])[:, :width], lengths

    def detokenize(self, ids):
        """Target ids `[B, T]` → sentences `[B]`: the words up to ``[END]``,
        with no space before "." or after "¿"."""
        texts = self.target_tokenizer.detokenize(ids)
        texts = tf.strings.regex_replace(texts, _CLOSING, r"\1")
        return tf.strings.regex_replace(texts, _OPENING, r"\1")

    def translations(self, generated, source, lengths):
        """`Seq2SeqTranslator.generate`'s output (any backend) for the
        sources `source_ids` gave → TensorFlow's strings and alignments.

        Returns:
            dict with ``translation`` string `[B]` (empty for an empty
            source), ``attention`` `[B, T_out, T_in]` (T_out: the longest
            translation, with its [END]), ``source_tokens`` `[B, T_in]`,
            ``target_tokens`` `[B, T_out]` and ``source_lengths`` `[B]`.
        """
        # An empty source translates to an empty string.
        tokens = tf.where(lengths[:, None] > 0, as_tf_tensor(generated["tokens"], tf.int32), 0)
        written = tf.reduce_sum(tf.cast(tokens != 0, tf.int32), axis=1)  # [B]
        longest = tf.reduce_max(tf.concat([written, [1]], 0))
        return {
            "translation": self.detokenize(tokens),
            "attention": as_tf_tensor(generated["attention"])[:, :longest],
            "source_tokens": source,
            "target_tokens": tokens[:, :longest],
            "source_lengths": lengths,
        }
