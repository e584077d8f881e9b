"""Builder and presets of the transformer encoder family."""

from zoo._files import read_token_list
from zoo.models.transformer_encoder.transformer_encoder_backbone import TransformerEncoderBackbone
from zoo.models.transformer_encoder.transformer_encoder_classifier import TransformerEncoderClassifier


def build_transformer_encoder_classifier(
    vocabulary,
    class_names,
    max_length=64,
    num_layers=2,
    num_heads=4,
    hidden_dim=128,
    ff_dim=512,
    dropout=0.1,
    merge="concat",
    norm_first=False,
    position_encoding="learned",
    standardize="lower_and_strip_punctuation",
    return_attention=False,
    subwords=None,
    subword_lengths: tuple[int, int] | None = None,
    whole_word_dropout=0.0,
):
    """A `TransformerEncoderClassifier` from flat keyword arguments (what
    presets and `zoo.load(..., **overrides)` pass). `vocabulary`,
    `class_names` and `subwords`: lists, or files with one string per line.
    `subword_lengths` (min, max): also embed each word's character n-grams,
    `subwords` (see `subword_vocabulary`); None: words only."""
    vocabulary = read_token_list("vocabulary", vocabulary)
    class_names = read_token_list("class_names", class_names)
    if (subword_lengths is None) != (subwords is None):
        raise ValueError("`subwords` (the n-gram list) and `subword_lengths` go together: give "
                         f"both or neither. Received: subword_lengths={subword_lengths}, subwords="
                         f"{'None' if subwords is None else '...'}")
    if subwords is not None:
        subwords = read_token_list("subwords", subwords)
    backbone = TransformerEncoderBackbone(
        len(vocabulary), max_length, num_layers=num_layers, num_heads=num_heads,
        hidden_dim=hidden_dim, ff_dim=ff_dim, dropout=dropout, merge=merge,
        norm_first=norm_first, position_encoding=position_encoding,
        subword_vocabulary_size=None if subwords is None else len(subwords),
        whole_word_dropout=whole_word_dropout, name="transformer_encoder_backbone")
    return TransformerEncoderClassifier(
        backbone, vocabulary, class_names, standardize=standardize, dropout=dropout,
        return_attention=return_attention, subwords=subwords,
        subword_lengths=subword_lengths, name="transformer_encoder_classifier")


PRESETS = {
    "transformer_encoder_sst2": dict(
        builder=build_transformer_encoder_classifier,
        # max_length 64: the longest SST-2 sentence has 56 tokens; each word
        # is also read from its character 3- to 5-grams (fastText's subwords).
        kwargs=dict(max_length=64, num_layers=2, num_heads=4, hidden_dim=128, ff_dim=512,
                    dropout=0.1, merge="concat", norm_first=False, position_encoding="learned",
                    standardize="lower_and_strip_punctuation", subword_lengths=(3, 5),
                    whole_word_dropout=0.2),
        # Both ship next to the weights (savedmodels/<name>/).
        assets=dict(vocabulary="vocabulary.txt", class_names="labels.txt",
                    subwords="subwords.txt"),
        optional_assets=("subwords",),  # only a model with subword_lengths has it
        task="text classification",
        paper="Vaswani et al., Attention Is All You Need, NeurIPS 2017 (encoder only)",
        dataset="SST-2 (train 67,349 phrases / dev 872 / test 1,821 sentences)",
        target="test accuracy >= 83.0 from scratch (Kim 2014 CNN-rand: 82.7)",
        command="python -m pipelines.train transformer_encoder_sst2",
    ),
}
