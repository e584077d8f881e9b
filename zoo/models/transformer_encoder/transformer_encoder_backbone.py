"""TransformerEncoderBackbone: embeddings and a stack of self-attention blocks."""

import keras
from keras import ops

from zoo._validation import assert_positive_int, assert_rate
from zoo.layers import TransformerEncoderBlock
from zoo.models.transformer_encoder.token_and_position_embedding import TokenAndPositionEmbedding


def symbolic_inputs(subwords):
    """The symbolic inputs of a backbone and of its classifier: ``token_ids``
    int32 `[B, T]`, or with `subwords` a dict of it and ``subword_ids`` int32
    `[B, T, S]`."""
    token_ids = keras.Input((None,), dtype="int32", name="token_ids")
    if not subwords:
        return token_ids
    return {"token_ids": token_ids,
            "subword_ids": keras.Input((None, None), dtype="int32", name="subword_ids")}


def token_ids(inputs):
    """The token ids `[B, T]` of `symbolic_inputs` (or of a classifier's
    `tokenize` output, which has their structure)."""
    return inputs["token_ids"] if isinstance(inputs, dict) else inputs


def embedded_inputs(vocabulary_size, max_length, hidden_dim, dropout, position_encoding="learned",
                    subword_vocabulary_size=None, whole_word_dropout=0.0):
    """A backbone's `symbolic_inputs`, its padding mask `[B, T]` and
    h⁰ = Drop(embedding) `[B, T, D]` (shared with the benchmarks' baselines)."""
    inputs = symbolic_inputs(subword_vocabulary_size is not None)
    ids = token_ids(inputs)  # [B, T]
    embedded = (ids, inputs["subword_ids"]) if isinstance(inputs, dict) else (ids,)
    h = TokenAndPositionEmbedding(vocabulary_size, max_length, hidden_dim,
                                  position_encoding=position_encoding,
                                  subword_vocabulary_size=subword_vocabulary_size,
                                  whole_word_dropout=whole_word_dropout,
                                  name="embedding")(*embedded)
    h = keras.layers.Dropout(dropout, name="embedding_dropout")(h)
    return inputs, ops.not_equal(ids, 0), h


@keras.saving.register_keras_serializable(package="zoo")
class TransformerEncoderBackbone(keras.Model):
    """A transformer encoder over token ids (Vaswani et al., 2017).

        h⁰_t = Drop(E[w_t] + P[t])   (+ the word's n-grams, with subwords)
        h^l = TransformerEncoderBlock_l(h^{l-1}, mask),   l = 1..L

    where each block is self-attention (the lecture's h_i and h_t from one
    sequence, K heads merged by concat or mean) plus a feed-forward network,
    with residuals and layer norms; padding (token id 0) is masked out of
    every attention. With ``norm_first`` a final layer norm follows the stack.

    Input: ``token_ids`` int `[B, T]`, 0 = padding, T <= max_length; with
    subwords a dict of it and ``subword_ids`` int `[B, T, S]` (0 = none).
    Outputs (dict): ``sequence_output`` `[B, T, D]`, ``padding_mask`` bool
    `[B, T]`, ``attention``: one `[B, H, T, T]` per block.

    Args:
        vocabulary_size: V.
        max_length: the longest input (positions learned).
        num_layers: L blocks.
        num_heads: H heads per block.
        hidden_dim: D; each head has D / H query/key/value features.
        ff_dim: hidden size of each block's feed-forward network.
        dropout: on the embeddings, attention weights and residual branches.
        merge: ``"concat"`` (default) or ``"mean"`` of the heads.
        norm_first: pre-norm blocks instead of post-norm.
        position_encoding: ``"learned"`` or ``"sinusoidal"`` (see
            `TokenAndPositionEmbedding`).
        subword_vocabulary_size: embed each word's character n-grams too
            (see `TokenAndPositionEmbedding`); None: words only.
        whole_word_dropout: with subwords, the training probability that a
            word is embedded from its n-grams alone.

    Example:

    >>> backbone = TransformerEncoderBackbone(20000, max_length=64)
    >>> backbone(np.array([[12, 7, 0]]))["sequence_output"].shape
    (1, 3, 128)
    """

    def __init__(
        self,
        vocabulary_size,
        max_length,
        num_layers=2,
        num_heads=4,
        hidden_dim=128,
        ff_dim=512,
        dropout=0.1,
        merge="concat",
        norm_first=False,
        position_encoding="learned",
        subword_vocabulary_size=None,
        whole_word_dropout=0.0,
        **kwargs,
    ):
        for name, value in dict(num_layers=num_layers, num_heads=num_heads,
                                hidden_dim=hidden_dim, ff_dim=ff_dim).items():
            assert_positive_int(name, value)
        assert_rate("dropout", dropout)
        if hidden_dim % num_heads:
            raise ValueError("`hidden_dim` must be divisible by `num_heads`. "
                             f"Received: hidden_dim={hidden_dim}, num_heads={num_heads}")
        inputs, padding_mask, h = embedded_inputs(
            vocabulary_size, max_length, hidden_dim, dropout, position_encoding,
            subword_vocabulary_size, whole_word_dropout)
        attention = []
        for index in range(num_layers):
            h, weights = TransformerEncoderBlock(
                num_heads, hidden_dim // num_heads, ff_dim, dropout=dropout,
                norm_first=norm_first, merge=merge, name=f"block_{index}",
            )(h, mask=padding_mask, return_attention_scores=True)
            attention.append(weights)
        if norm_first:
            h = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(h)
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": h, "padding_mask": padding_mask, "attention": attention},
            **kwargs,
        )
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.merge = merge
        self.norm_first = norm_first
        self.position_encoding = position_encoding
        self.subword_vocabulary_size = subword_vocabulary_size
        self.whole_word_dropout = whole_word_dropout

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "max_length": self.max_length,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "merge": self.merge,
            "norm_first": self.norm_first,
            "position_encoding": self.position_encoding,
            "subword_vocabulary_size": self.subword_vocabulary_size,
            "whole_word_dropout": self.whole_word_dropout,
        }
