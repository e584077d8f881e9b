"""Attention layers of the lecture, all registered for Keras serialisation."""

from zoo.layers.attention import Attention
from zoo.layers.graph_attention import GraphAttention
from zoo.layers.multi_head_attention import MultiHeadAttention
from zoo.layers.self_attention import SelfAttention
from zoo.layers.transformer_encoder_block import TransformerEncoderBlock

__all__ = [
    "Attention",
    "GraphAttention",
    "MultiHeadAttention",
    "SelfAttention",
    "TransformerEncoderBlock",
]
