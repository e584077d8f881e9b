"""gat_cora: 2-layer GAT on Cora, the paper's transductive setup.

Run:
    python -m pipelines.train gat_cora [--seed S] [--dataset citeseer] [--logdir DIR] [--set KEY=VALUE]

Training settings only; the architecture (8 heads × 8, dropout 0.6, ...) is
the preset in zoo/models/gat/gat_presets.py (`python -m zoo info gat_cora`).

Expected: Cora test accuracy about 83 (paper: 83.0 ± 0.7 over 100 runs);
the shipped weights' measured value is in savedmodels/gat_cora/metrics.json,
the 10-seed mean in benchmarks/results/gat_planetoid_cora.md. A run takes
about 600-1,000 epochs, under a minute on 2 CPU cores.

Adam's epsilon is the reference code's 1e-8. The runs below date from
before every weight had its own initializer (u and v started equal): Keras'
default 1e-7 gave a 10-seed mean of 83.39 ± 0.54, 1e-8 83.50 ± 0.50, the
same seeds. Reference-code details tried over seeds 0-9 and not kept: L2
on the biases too (83.24), glorot init of each head's attention vector
alone (83.08), an independent input-dropout mask per head, as the
reference's attn_head draws one (83.24 over seeds 0-7, and 3x slower on
the dense features).
"""

CONFIG = dict(
    task="node_classification",
    dataset="cora",
    learning_rate=0.005,
    max_epochs=100_000,  # The paper's cap; early stopping ends runs far sooner.
    patience=100,
    seed=0,
)
