"""GAT family: `GATBackbone`, `GATNodeClassifier`, presets."""

from zoo.models.gat.gat_backbone import GATBackbone
from zoo.models.gat.gat_node_classifier import GATNodeClassifier
from zoo.models.gat.gat_presets import PRESETS, build_gat_node_classifier
from zoo.models.gat.row_normalization import RowNormalization

__all__ = [
    "GATBackbone",
    "GATNodeClassifier",
    "PRESETS",
    "RowNormalization",
    "build_gat_node_classifier",
]
