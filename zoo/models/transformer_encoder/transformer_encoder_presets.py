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
):
    """A `TransformerEncoderClassifier` from flat keyword arguments (what
    presets and `zoo.load(..., **overrides)` pass). `vocabulary` and
    `class_names`: lists, or files with one string per line."""
    vocabulary = read_token_list("vocabulary", vocabulary)
    class_names = read_token_list("class_names", class_names)
    backbone = TransformerEncoderBackbone(
        len(vocabulary), max_length, num_layers=num_layers, num_heads=num_heads,
        hidden_dim=hidden_dim, ff_dim=ff_dim, dropout=dropout, merge=merge,
        norm_first=norm_first, position_encoding=position_encoding,
        name="transformer_encoder_backbone")
    return TransformerEncoderClassifier(
        backbone, vocabulary, class_names, standardize=standardize, dropout=dropout,
        return_attention=return_attention,
        name="transformer_encoder_classifier")


PRESETS = {
    "transformer_encoder_sst2": dict(
        builder=build_transformer_encoder_classifier,
        kwargs=dict(max_length=64, num_layers=2, num_heads=4, hidden_dim=128, ff_dim=512),
        # Both ship next to the weights (savedmodels/<name>/).
        assets=dict(vocabulary="vocabulary.txt", class_names="labels.txt"),
        task="text classification",
        paper="Vaswani et al., Attention Is All You Need, NeurIPS 2017 (encoder only)",
        dataset="SST-2 (train 67,349 phrases / dev 872 / test 1,821 sentences)",
        target="test accuracy >= 83.0 from scratch (Kim 2014 CNN-rand: 82.7)",
        command="python -m pipelines.train transformer_encoder_sst2",
    ),
}
