"""Seq2SeqTranslator: sentences in, translations and their alignments out."""

import warnings

import keras
import numpy as np
from keras import ops
from keras.src.utils.backend_utils import convert_tf_tensor

from zoo._validation import assert_positive_int, text_list
from zoo.models.decoding import beam_search
from zoo.models.seq2seq.seq2seq_preprocessor import Seq2SeqPreprocessor


@keras.saving.register_keras_serializable(package="zoo")
class Seq2SeqTranslator(keras.Model):
    """The lecture's encoder–decoder translator, with or without attention.

        h_1..h_n, h_n-summary = Seq2SeqEncoder(x)
        p(y_t | y_<t, x)       = Seq2SeqDecoder(h, y_<t)

    The model's own call is the teacher-forced training graph;
    `generate` decodes token ids (greedy or beam search, in-graph) and
    `translate` goes from strings to strings. The model holds both
    vocabularies and its `preprocessor` (a `Seq2SeqPreprocessor`, as a
    keras-hub task holds one): strings become ids and ids strings there, in
    TensorFlow ops that tf.data and an exported SavedModel run, while the
    model computes on the active backend.

    Inputs (dict): ``source_tokens`` int `[B, S]` (0-padded), ``target_tokens``
    int `[B, T]` (the target from ``[START]``, 0-padded).
    Outputs (dict): ``logits`` `[B, T, V]` of the next tokens, ``attention``
    `[B, T, S]`.

    Args:
        encoder: a `Seq2SeqEncoder`.
        decoder: a `Seq2SeqDecoder`.
        source_vocabulary, target_vocabulary: token strings by id (``""``,
            ``"[UNK]"``, then words; the target's has ``[START]``, ``[END]``).
        max_source_length: longer sources are truncated (`translate` warns).
        max_target_length: the most tokens `generate` writes (with [END]).

    Example:

    >>> model = zoo.load("seq2seq_attn_spa_eng")
    >>> model.translate(["¿Dónde está la biblioteca?"])
    ["where's the library?"]
    """

    def __init__(self, encoder, decoder, source_vocabulary, target_vocabulary,
                 max_source_length=48, max_target_length=50, **kwargs):
        assert_positive_int("max_source_length", max_source_length)
        assert_positive_int("max_target_length", max_target_length)
        source_vocabulary = [str(token) for token in source_vocabulary]
        target_vocabulary = [str(token) for token in target_vocabulary]
        for name, vocabulary, layer in (("source_vocabulary", source_vocabulary, encoder),
                                        ("target_vocabulary", target_vocabulary, decoder)):
            if len(vocabulary) != layer.vocabulary_size:
                raise ValueError(f"`{name}` has {len(vocabulary)} tokens but the {layer.name} "
                                 f"embeds vocabulary_size={layer.vocabulary_size}.")
        # Built first: it checks the vocabularies (padding, [UNK], [START], [END]).
        preprocessor = Seq2SeqPreprocessor(source_vocabulary, target_vocabulary,
                                           max_source_length, max_target_length)
        if encoder.units != decoder.units:
            raise ValueError("The decoder attends over the encoder's annotations, so their "
                             f"`units` must match. Received: encoder units={encoder.units}, "
                             f"decoder units={decoder.units}")
        source = keras.Input((None,), dtype="int32", name="source_tokens")
        target = keras.Input((None,), dtype="int32", name="target_tokens")
        annotations, summary = encoder(source)
        logits, attention = decoder(annotations, ops.not_equal(source, 0), summary, target)
        super().__init__(inputs={"source_tokens": source, "target_tokens": target},
                         outputs={"logits": logits, "attention": attention}, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.source_vocabulary = source_vocabulary
        self.target_vocabulary = target_vocabulary
        self.max_source_length = max_source_length
        self.max_target_length = max_target_length
        self.start_id = preprocessor.target_tokenizer.start_id
        self.end_id = preprocessor.target_tokenizer.end_id
        # Set through __dict__, outside keras' attribute tracking, so the
        # lookup tables are not part of the weights file (the vocabularies
        # ship as assets); built here, eagerly, because a table first made
        # inside a tf.data or tf.function graph could not be used outside it.
        self.__dict__["preprocessor"] = preprocessor

    def generate(self, source_tokens, beam_width=1, max_length=None, length_normalization=1.0):
        """Token ids, attention and scores of the best translation per source.

        Args:
            source_tokens: int `[B, S]`, 0-padded.
            beam_width: K; 1 is greedy decoding.
            max_length: the most tokens (default: max_target_length).
            length_normalization: see `zoo.models.decoding.beam_search`.

        Returns:
            dict with ``tokens`` int `[B, T]` (with [END], 0 after it),
            ``attention`` `[B, T, S]` and ``scores`` `[B]`.
        """
        assert_positive_int("beam_width", beam_width)
        assert_positive_int("max_length", max_length, allow_none=True)
        annotations, summary = self.encoder(source_tokens, training=False)

        def repeat(x):  # [B, ...] -> [B·K, ...], each row K times
            return ops.repeat(x, beam_width, axis=0)

        annotations = repeat(annotations)
        source_mask = repeat(ops.not_equal(source_tokens, 0))
        summary = [repeat(s) for s in summary]
        projected = self.decoder.project_annotations(annotations)

        def step(tokens, state):
            return self.decoder.step(annotations, source_mask, summary, projected, tokens, state)

        return beam_search(
            step, self.decoder.initial_state(summary), ops.shape(source_tokens)[0],
            self.start_id, self.end_id, self.decoder.vocabulary_size,
            max_length or self.max_target_length, ops.shape(source_tokens)[1],
            beam_width=beam_width, length_normalization=length_normalization)

    def translate_strings(self, texts, beam_width=1, max_length=None):
        """The in-graph translation of strings `[B]` (the export serves it).

        On the TensorFlow backend it is one graph: tokenising, decoding and
        detokenising. On JAX and PyTorch it runs eagerly: the preprocessor
        tokenises on the host, the backend decodes, the preprocessor
        detokenises.

        Returns:
            dict of TensorFlow tensors: ``translation`` string `[B]` (empty
            for an empty source), ``attention`` `[B, T_out, T_in]` (T_out:
            the longest translation, with its [END]; T_in: the longest
            source; rows sum to 1 over the real source tokens), the ids read
            and written, ``source_tokens`` `[B, T_in]` and ``target_tokens``
            `[B, T_out]`, and ``source_lengths`` int32 `[B]` (before
            truncation). See `Seq2SeqPreprocessor.translations`.
        """
        source, lengths = self.preprocessor.source_ids(texts)
        result = self.generate(convert_tf_tensor(source), beam_width=beam_width, max_length=max_length)
        return self.preprocessor.translations(result, source, lengths)

    def translate(self, texts, beam_width=1, return_attention=False, max_length=None):
        """Translations of a list of strings.

        Returns:
            A list of B strings; with `return_attention`, also a list of B
            dicts: ``source`` (the n words the model read, ``[UNK]`` for
            unknown ones), ``target`` (the m tokens written, [END] included)
            and ``attention`` (`[m, n]`, each row summing to 1).
        """
        texts = text_list(texts)
        if not texts:
            return ([], []) if return_attention else []
        result = {k: v.numpy() for k, v in
                  self.translate_strings(texts, beam_width, max_length).items()}
        too_long = result["source_lengths"] > self.max_source_length
        if np.any(too_long):
            warnings.warn(f"{int(np.sum(too_long))} of the texts have more than "
                          f"max_source_length={self.max_source_length} tokens; "
                          "they are truncated.", stacklevel=2)
        translations = [t.decode("utf-8") for t in result["translation"]]
        if not return_attention:
            return translations
        alignments = []
        for source, target, attention in zip(result["source_tokens"], result["target_tokens"],
                                             result["attention"]):
            n, m = np.count_nonzero(source), np.count_nonzero(target)
            alignments.append({
                "source": [self.source_vocabulary[j] for j in source[:n]],
                "target": [self.target_vocabulary[j] for j in target[:m]],
                "attention": attention[:m, :n],
            })
        return translations, alignments

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "source_vocabulary": self.source_vocabulary,
            "target_vocabulary": self.target_vocabulary,
            "max_source_length": self.max_source_length,
            "max_target_length": self.max_target_length,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)
