"""Builder and presets of the GAT family, as registered in the zoo."""

from zoo._validation import assert_positive_int, assert_rate
from zoo.models.gat.gat_backbone import GATBackbone
from zoo.models.gat.gat_node_classifier import GATNodeClassifier


def build_gat_node_classifier(
    num_features,
    num_classes,
    hidden_units=8,
    num_heads=8,
    num_layers=1,
    output_heads=1,
    dropout=0.6,
    l2=5e-4,
    normalize_features=True,
    return_attention=False,
):
    """A `GATNodeClassifier` from flat keyword arguments (what presets and
    `zoo.load(..., **overrides)` pass). Errors name these arguments."""
    sizes = dict(num_features=num_features, num_classes=num_classes, hidden_units=hidden_units,
                 num_heads=num_heads, num_layers=num_layers, output_heads=output_heads)
    for key, value in sizes.items():
        assert_positive_int(key, value)
    assert_rate("dropout", dropout)
    if isinstance(l2, bool) or not isinstance(l2, (int, float)) or l2 < 0:
        raise ValueError(f"`l2` must be a float >= 0. Received: l2={l2!r}")
    backbone = GATBackbone(
        num_features, hidden_units=hidden_units, num_heads=num_heads, num_layers=num_layers,
        dropout=dropout, l2=l2, normalize_features=normalize_features, name="gat_backbone",
    )
    return GATNodeClassifier(
        backbone, num_classes, output_heads=output_heads, dropout=dropout, l2=l2,
        return_attention=return_attention, name="gat_node_classifier",
    )


# The paper's transductive setup (Veličković et al., 2018, §3.3): 8 heads × 8
# features, ELU, one averaged output head, dropout 0.6, L2 5e-4.
PRESETS = {
    "gat_cora": dict(
        builder=build_gat_node_classifier,
        # Every architecture argument of the builder (the single place it is
        # declared); num_features and num_classes are Cora's, and training
        # takes them from its dataset (`data_kwargs`).
        kwargs=dict(num_features=1433, num_classes=7, hidden_units=8, num_heads=8, num_layers=1,
                    output_heads=1, dropout=0.6, l2=5e-4, normalize_features=True),
        data_kwargs=("num_features", "num_classes"),
        task="node classification (transductive)",
        paper="Veličković et al., Graph Attention Networks, ICLR 2018",
        dataset="Cora (Planetoid split: 140 train / 500 val / 1000 test)",
        target="test accuracy >= 83.0 (shipped weights), >= 83.5 mean of 10 seeds (paper 83.0 ± 0.7)",
        command="python -m pipelines.train gat_cora",
    ),
}
