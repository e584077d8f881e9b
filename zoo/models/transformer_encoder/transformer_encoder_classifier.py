"""TransformerEncoderClassifier: a pooled transformer encoder with a softmax head."""

import warnings

import keras
import numpy as np
from keras import ops

from zoo._validation import assert_rate, text_list
from zoo.models.transformer_encoder.masked_mean_pooling import MaskedMeanPooling
from zoo.models.transformer_encoder.transformer_encoder_backbone import symbolic_inputs, token_ids
from zoo.models.transformer_encoder.transformer_encoder_preprocessor import (
    STANDARDIZATIONS,
    TransformerEncoderPreprocessor,
)


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderClassifier(keras.Model):
    """Text classification with a self-attention encoder.

        h = TransformerEncoderBackbone(w),   z = Σ_t m_t h_t / Σ_t m_t,
        logits = W Drop(z) + b,   p(y | w) = softmax(logits)

    with m the padding mask (masked mean pooling). The model holds its
    class names and its `preprocessor` (a `TransformerEncoderPreprocessor`,
    as a keras-hub task holds one: lower case, punctuation stripped or
    kept, split on whitespace, keras' `TextVectorization`), so `classify`
    goes from raw strings to labels; the same preprocessor serves training
    (in tf.data), `classify` and the exported SavedModel.

    Input: ``token_ids`` int `[B, T]` (0 = padding; see the preprocessor);
    with subwords a dict of it and ``subword_ids`` int `[B, T, S]`.
    Output: the logits `[B, C]`, or with ``return_attention`` a dict
    ``{"logits", "probabilities", "attention"}`` (attention: one
    `[B, H, T, T]` per block).

    Args:
        backbone: a `TransformerEncoderBackbone`.
        vocabulary: token strings by id: ``""`` (padding), ``"[UNK]"``,
            then the words; its length is the backbone's vocabulary size.
        class_names: the C label strings by class id.
        standardize: ``"lower_and_strip_punctuation"`` (default; for raw
            text) or ``"lower"`` (for pre-tokenised text such as SST-2's,
            where punctuation and clitics like "n't" are separate tokens).
        dropout: before the output layer.
        return_attention: output the dict above instead of the logits.
        subwords: for a backbone with subwords, the character n-grams by id
            (``""`` first, see `SubwordTokenizer`); None otherwise.
        subword_lengths: (min, max) n-gram length of `subwords` (with them).
        max_subwords: S, the n-grams kept per word (in order of length,
            then position).

    Example:

    >>> model = zoo.load("transformer_encoder_sst2")
    >>> model.classify(["a gorgeous , witty film"])["labels"]
    ['positive']
    """

    def __init__(self, backbone, vocabulary, class_names, standardize=STANDARDIZATIONS[0],
                 dropout=0.1, return_attention=False, subwords=None, subword_lengths=None,
                 max_subwords=64, **kwargs):
        vocabulary = [str(token) for token in vocabulary]
        class_names = [str(name) for name in class_names]
        if len(vocabulary) != backbone.vocabulary_size:
            raise ValueError(f"`vocabulary` has {len(vocabulary)} tokens but the backbone embeds "
                             f"vocabulary_size={backbone.vocabulary_size}.")
        if len(class_names) < 2 or len(set(class_names)) != len(class_names):
            raise ValueError("`class_names` must be at least 2 distinct labels. "
                             f"Received: class_names={class_names}")
        assert_rate("dropout", dropout)
        expected = backbone.subword_vocabulary_size
        if (subwords is None) != (expected is None) or (
                subwords is not None and len(subwords) != expected):
            raise ValueError(f"`subwords` must be given exactly when the backbone embeds subwords, "
                             f"with its subword_vocabulary_size={expected} entries. Received: "
                             f"{'None' if subwords is None else f'{len(subwords)} subwords'}")
        # It checks the vocabulary, the standardisation and the n-gram lengths.
        preprocessor = TransformerEncoderPreprocessor(
            vocabulary, backbone.max_length, standardize, subwords, subword_lengths, max_subwords)
        inputs = symbolic_inputs(subwords is not None)
        encoded = backbone(inputs)
        pooled = MaskedMeanPooling(name="pooling")(encoded["sequence_output"],
                                                   mask=encoded["padding_mask"])
        pooled = keras.layers.Dropout(dropout, name="output_dropout")(pooled)
        logits = keras.layers.Dense(len(class_names), name="logits")(pooled)
        if return_attention:
            outputs = {
                "logits": logits,
                "probabilities": keras.layers.Softmax(name="probabilities")(logits),
                "attention": list(encoded["attention"]),
            }
        else:
            outputs = logits
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.vocabulary = vocabulary
        self.class_names = class_names
        self.standardize = standardize
        self.dropout = dropout
        self.return_attention = return_attention
        self.subwords = None if subwords is None else [str(gram) for gram in subwords]
        self.subword_lengths = None if subword_lengths is None else tuple(subword_lengths)
        self.max_subwords = max_subwords
        # Set through __dict__, outside keras' attribute tracking, so the
        # lookup tables are not part of the weights file (the vocabulary
        # ships as its own asset); built here, eagerly, because a table first
        # made inside a tf.data or tf.function graph could not be used outside it.
        self.__dict__["preprocessor"] = preprocessor

    @property
    def max_length(self):
        return self.backbone.max_length

    def classify(self, texts, return_attention=False):
        """Labels of raw strings.

        Returns:
            A dict: ``labels`` (B class names), ``probabilities`` `[B, C]`;
            with `return_attention` also ``tokens`` (B lists of the words
            the model saw, ``[UNK]`` for unknown ones) and ``attention`` (B
            arrays `[H, n, n]`: the last block's self-attention over those n
            words).
        """
        texts = text_list(texts)
        inputs, lengths = self.preprocessor.tokenize(texts)
        lengths = ops.convert_to_numpy(lengths)
        if np.any(lengths > self.max_length):
            warnings.warn(f"{int(np.sum(lengths > self.max_length))} of the texts have more than "
                          f"max_length={self.max_length} tokens; they are truncated.", stacklevel=2)
        ids = token_ids(inputs)  # [B, max_length]
        outputs = self(inputs, training=False)
        logits = outputs["logits"] if self.return_attention else outputs
        probabilities = ops.convert_to_numpy(ops.softmax(logits))
        result = {"labels": [self.class_names[i] for i in probabilities.argmax(-1)],
                  "probabilities": probabilities}
        if return_attention:
            encoded = outputs if self.return_attention else self.backbone(inputs, training=False)
            weights = ops.convert_to_numpy(encoded["attention"][-1])  # [B, H, T, T]
            ids = ops.convert_to_numpy(ids)
            counts = np.minimum(lengths, self.max_length)
            result["tokens"] = [[self.vocabulary[i] for i in row[:n]] for row, n in zip(ids, counts)]
            result["attention"] = [w[:, :n, :n] for w, n in zip(weights, counts)]
        return result

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "vocabulary": self.vocabulary,
            "class_names": self.class_names,
            "standardize": self.standardize,
            "dropout": self.dropout,
            "return_attention": self.return_attention,
            "subwords": self.subwords,
            "subword_lengths": self.subword_lengths and list(self.subword_lengths),
            "max_subwords": self.max_subwords,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
