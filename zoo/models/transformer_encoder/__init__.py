"""Transformer encoder family: `TokenAndPositionEmbedding`, `MaskedMeanPooling`,
`TransformerEncoderBackbone`, `TransformerEncoderClassifier`,
`TransformerEncoderPreprocessor`, presets."""

from zoo.models.transformer_encoder.masked_mean_pooling import MaskedMeanPooling
from zoo.models.transformer_encoder.token_and_position_embedding import TokenAndPositionEmbedding
from zoo.models.transformer_encoder.transformer_encoder_backbone import TransformerEncoderBackbone
from zoo.models.transformer_encoder.transformer_encoder_classifier import TransformerEncoderClassifier
from zoo.models.transformer_encoder.transformer_encoder_preprocessor import (
    TransformerEncoderPreprocessor,
)
from zoo.models.transformer_encoder.transformer_encoder_presets import (
    PRESETS,
    build_transformer_encoder_classifier,
)

__all__ = [
    "MaskedMeanPooling",
    "PRESETS",
    "TokenAndPositionEmbedding",
    "TransformerEncoderBackbone",
    "TransformerEncoderClassifier",
    "TransformerEncoderPreprocessor",
    "build_transformer_encoder_classifier",
]
