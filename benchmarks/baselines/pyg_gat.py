"""PyTorch Geometric GAT baseline for the ``gat_cora`` benchmark.

Trains the GAT of Velickovic et al. 2018 (the paper's Cora setup, the same as
PyG's ``examples/gat.py``) on a graph stored in an ``.npz`` file written by our
own benchmark, so that our Keras GAT and PyG see identical data, and writes
test accuracy and time per epoch to a JSON file.

Model: row-normalised features -> dropout 0.6 -> GATConv(F, 8, heads=8,
dropout=0.6) -> ELU -> dropout 0.6 -> GATConv(64, C, heads=1, concat=False,
dropout=0.6).  Adam, lr 0.005, weight decay 5e-4, full batch, cross-entropy
over the training nodes.  Early stopping follows the original GAT code:
patience on validation loss AND accuracy, restoring the weights of the last
epoch that improved (or tied) both.

This script is standalone: it runs with the python of the separate baseline
environment made by ``benchmarks/setup_pyg_baseline.sh`` and imports neither
attention-zoo, TensorFlow nor Keras.

Usage::

    bash benchmarks/setup_pyg_baseline.sh            # once: creates .venv-pyg
    .venv-pyg/bin/python benchmarks/baselines/pyg_gat.py \\
        --data cora.npz --seeds 10 --max-epochs 100000 --patience 100 \\
        --threads 2 --output pyg_gat.json

The ``.npz`` holds ``node_features`` float32 [N, F] (raw, un-normalised),
``labels`` int [N], ``edges`` int [E, 2] (source, target; both directions, no
self-loops; GATConv adds self-loops itself), and ``train_index``,
``val_index``, ``test_index`` int arrays.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torch_geometric
from torch_geometric.nn import GATConv


class GAT(torch.nn.Module):
    """Two-layer GAT with the paper's Cora hyperparameters."""

    def __init__(self, in_channels: int, num_classes: int, hidden: int = 8,
                 heads: int = 8, dropout: float = 0.6) -> None:
        super().__init__()
        self.dropout = dropout
        self.conv1 = GATConv(in_channels, hidden, heads=heads, dropout=dropout)
        self.conv2 = GATConv(hidden * heads, num_classes, heads=1,
                             concat=False, dropout=dropout)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        x = F.dropout(x, p=self.dropout, training=self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, p=self.dropout, training=self.training)
        return self.conv2(x, edge_index)


def row_normalise(x: np.ndarray) -> np.ndarray:
    """Divide each row by its sum; rows summing to zero stay zero."""
    x = np.asarray(x, dtype=np.float32)
    sums = x.sum(axis=1, keepdims=True)
    safe = np.where(sums == 0, 1.0, sums).astype(np.float32)
    return np.where(sums == 0, 0.0, x / safe).astype(np.float32)


def load_data(path: str) -> dict:
    with np.load(path) as d:
        features = row_normalise(d["node_features"])
        labels = np.asarray(d["labels"])
        if labels.ndim == 2:  # tolerate one-hot labels
            labels = labels.argmax(axis=1)
        edges = np.asarray(d["edges"], dtype=np.int64).reshape(-1, 2)
        data = {
            "x": torch.from_numpy(features),
            "y": torch.from_numpy(labels.astype(np.int64)),
            "edge_index": torch.from_numpy(np.ascontiguousarray(edges.T)),
            "train": torch.from_numpy(np.asarray(d["train_index"], dtype=np.int64)),
            "val": torch.from_numpy(np.asarray(d["val_index"], dtype=np.int64)),
            "test": torch.from_numpy(np.asarray(d["test_index"], dtype=np.int64)),
        }
    data["num_classes"] = int(data["y"].max().item()) + 1
    return data


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    correct = int((logits.argmax(dim=-1) == y).sum().item())
    return 100.0 * correct / max(int(y.numel()), 1)


def run_seed(data: dict, seed: int, max_epochs: int, patience: int) -> dict:
    torch.manual_seed(seed)
    np.random.seed(seed)

    x, y, edge_index = data["x"], data["y"], data["edge_index"]
    train, val, test = data["train"], data["val"], data["test"]
    model = GAT(x.size(1), data["num_classes"])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=5e-4)

    best_acc, best_loss = 0.0, float("inf")
    best_state = copy.deepcopy(model.state_dict())
    best_val_acc = 0.0
    wait = 0
    epoch_seconds = 0.0
    epochs = 0

    for _ in range(max_epochs):
        start = time.perf_counter()
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        loss = F.cross_entropy(out[train], y[train])
        loss.backward()
        optimizer.step()

        model.eval()
        with torch.no_grad():
            out = model(x, edge_index)
            val_loss = float(F.cross_entropy(out[val], y[val]).item())
            val_acc = accuracy(out[val], y[val])
        if epochs > 0:  # Like the Keras side: the first epoch (warm-up) is not timed.
            epoch_seconds += time.perf_counter() - start
        epochs += 1

        # Early stopping exactly as in the original GAT code (execute_cora.py).
        if val_acc >= best_acc or val_loss <= best_loss:
            if val_acc >= best_acc and val_loss <= best_loss:
                best_state = copy.deepcopy(model.state_dict())
                best_val_acc = val_acc
            best_acc = max(best_acc, val_acc)
            best_loss = min(best_loss, val_loss)
            wait = 0
        else:
            wait += 1
            if wait == patience:
                break

    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        out = model(x, edge_index)
        test_acc = accuracy(out[test], y[test])
    return {
        "test_accuracy": test_acc,
        "val_accuracy": best_val_acc,
        "epochs": epochs,
        "ms_per_epoch": 1000.0 * epoch_seconds / max(epochs - 1, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="input .npz file")
    parser.add_argument("--seeds", type=int, default=10,
                        help="number of seeds: runs seeds 0..N-1")
    parser.add_argument("--max-epochs", type=int, default=100000)
    parser.add_argument("--patience", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2,
                        help="torch intra-op threads")
    parser.add_argument("--output", required=True, help="output .json file")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError:  # already set / parallel work already started
        pass

    total_start = time.perf_counter()
    data = load_data(args.data)
    runs = [run_seed(data, s, args.max_epochs, args.patience)
            for s in range(args.seeds)]
    total_seconds = time.perf_counter() - total_start

    test_acc = [r["test_accuracy"] for r in runs]
    ms = [r["ms_per_epoch"] for r in runs]
    result = {
        "framework": "pyg",
        "torch_version": torch.__version__,
        "torch_geometric_version": torch_geometric.__version__,
        "seeds": list(range(args.seeds)),
        "test_accuracy": test_acc,
        "test_accuracy_mean": float(np.mean(test_acc)),
        "test_accuracy_std": float(np.std(test_acc)),
        "val_accuracy": [r["val_accuracy"] for r in runs],
        "epochs": [r["epochs"] for r in runs],
        "ms_per_epoch": float(np.mean(ms)),
        "ms_per_epoch_per_seed": ms,
        "total_seconds": total_seconds,
        "config": {
            "data": args.data,
            "max_epochs": args.max_epochs,
            "patience": args.patience,
            "threads": args.threads,
            "num_nodes": int(data["x"].size(0)),
            "num_features": int(data["x"].size(1)),
            "num_classes": data["num_classes"],
            "num_edges": int(data["edge_index"].size(1)),
        },
    }
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    print(f"pyg GAT (torch {torch.__version__}, PyG {torch_geometric.__version__}): "
          f"test acc {result['test_accuracy_mean']:.2f} ± "
          f"{result['test_accuracy_std']:.2f} over {args.seeds} seed(s), "
          f"{result['ms_per_epoch']:.2f} ms/epoch, "
          f"epochs {result['epochs']}, {total_seconds:.1f} s total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
