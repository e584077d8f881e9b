"""SubwordTokenizer: the character n-grams of each word (fastText's subwords)."""

import keras
import tensorflow as tf


def char_ngrams(words, lengths):
    """Words ragged `[..., (n)]` (or `[n]`) → the character n-grams of
    "<word>" for n in `lengths` = (min, max), ragged `[..., (n), (g)]`,
    by n then position: "<where>", n = 3 → <wh, whe, her, ere, re>."""
    bounded = tf.ragged.map_flat_values(lambda w: tf.strings.join(["<", w, ">"]), words)
    chars = tf.strings.unicode_split(bounded, "UTF-8")  # [..., (n), (c)]
    grams = [tf.strings.ngrams(chars, n, separator="") for n in range(lengths[0], lengths[1] + 1)]
    return tf.concat(grams, axis=-1)  # [..., (n), (g)]


def subword_vocabulary(words, lengths):
    """``["", n-grams...]``: every n-gram of `words` (a vocabulary's words),
    in order of first appearance; id 0 stands for none (padding, or an
    n-gram no training word has)."""
    grams = char_ngrams(tf.constant(list(words), tf.string), lengths).flat_values
    unique = tf.unique(grams).y.numpy()
    return [""] + [gram.decode("utf-8") for gram in unique]


class SubwordTokenizer:
    """Standardised strings `[B]` → the ids of each word's character
    n-grams, ragged `[B, (n), (g)]` (Bojanowski et al., 2017: a word unseen
    in training is still embedded from the n-grams it shares with seen
    words). Words are split on whitespace, as the `WordTokenizer` splits
    them, so the n-grams of word t belong to token t.

    Args:
        subwords: n-gram strings by id; ``subwords[0] == ""`` (none): an
            n-gram not in the list gets id 0.
        lengths: (min, max) n-gram length.
    """

    def __init__(self, subwords, lengths):
        if not subwords or subwords[0] != "":
            raise ValueError('`subwords` must start with "" (id 0: none). '
                             f"Received: subwords starting {list(subwords[:3])}")
        if lengths is None or len(lengths) != 2 or not 1 <= lengths[0] <= lengths[1]:
            raise ValueError("`subword_lengths` must be (min, max) with 1 <= min <= max. "
                             f"Received: subword_lengths={lengths}")
        self.lengths = tuple(int(n) for n in lengths)
        # Unknown n-grams → the one OOV index, 0; subwords[i] → i.
        self.lookup = keras.layers.StringLookup(vocabulary=list(subwords[1:]), num_oov_indices=1,
                                                mask_token=None)
        self.lookup.build((None,))  # an export tracks only built layers

    def __call__(self, texts):
        grams = char_ngrams(tf.strings.split(texts), self.lengths)  # [B, (n), (g)]
        return tf.cast(tf.ragged.map_flat_values(self.lookup, grams), tf.int32)
