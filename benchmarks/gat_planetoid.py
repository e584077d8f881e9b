"""GAT on a Planetoid dataset: accuracy over seeds and time per epoch, vs PyG.

    python -m benchmarks.gat_planetoid --dataset cora --seeds 10 \\
        --output benchmarks/results/gat_planetoid_cora.json \\
        [--baseline-python .venv-pyg/bin/python]

Our side runs exactly what `python -m pipelines.train gat_cora` runs (Keras
`fit`, full batch, early stopping with patience 100 on validation loss and
accuracy, the weights of the best epoch restored, then test accuracy).
ms per epoch = wall time of `fit` / epochs: one train step plus the
validation forward pass plus Keras' own per-epoch work. The first epoch's
tracing is excluded by timing from the second epoch on.

With `--baseline-python` (a Python with torch + torch_geometric, made by
`benchmarks/setup_pyg_baseline.sh`), PyG's GATConv with the same
hyperparameters trains on the very same arrays (written to an .npz) in the
same run, and the JSON gets the ratios. Writes FILE.json and FILE.md.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np

from pipelines import node_classification as task
from pipelines.configs import get_config
from pipelines.data.planetoid import load_planetoid


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch (epoch begin to epoch end, validation included)."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def run_ours(dataset, seeds, name="gat_cora"):
    config = get_config(name)
    config["dataset"] = dataset
    results = []
    for seed in range(seeds):
        timer = EpochTimer()
        start = time.perf_counter()
        model, graph, _, history = task.train(name, config, seed, verbose=0,
                                              extra_callbacks=[timer])
        total = time.perf_counter() - start
        metrics = task.evaluate(model, graph)
        ms = 1000 * float(np.mean(timer.times[1:]))  # epoch 0 includes tracing
        results.append(dict(seed=seed, test_accuracy=metrics["test_accuracy"],
                            val_accuracy=metrics["val_accuracy"], epochs=history.epochs_run,
                            ms_per_epoch=round(ms, 2), seconds=round(total, 1)))
        print(f"ours seed {seed}: test {metrics['test_accuracy']:.1f}  "
              f"epochs {history.epochs_run}  {ms:.1f} ms/epoch", flush=True)
    accuracies = [r["test_accuracy"] for r in results]
    return dict(
        framework=f"attention-zoo (keras {keras.__version__}, {keras.backend.backend()})",
        test_accuracy=accuracies,
        test_accuracy_mean=round(float(np.mean(accuracies)), 2),
        test_accuracy_std=round(float(np.std(accuracies)), 2),
        ms_per_epoch=round(float(np.mean([r["ms_per_epoch"] for r in results])), 2),
        total_seconds=round(sum(r["seconds"] for r in results), 1),
        per_seed=results,
    )


def run_baseline(python, dataset, seeds, threads):
    graph = load_planetoid(dataset)
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, f"{dataset}.npz")
        np.savez(data, node_features=graph.node_features, labels=graph.labels,
                 edges=graph.edges, train_index=graph.train_index,
                 val_index=graph.val_index, test_index=graph.test_index)
        output = os.path.join(folder, "pyg.json")
        script = os.path.join(os.path.dirname(__file__), "baselines", "pyg_gat.py")
        subprocess.run([python, script, "--data", data, "--seeds", str(seeds),
                        "--threads", str(threads), "--output", output], check=True)
        with open(output) as f:
            return json.load(f)


def markdown(report):
    ours, pyg = report["ours"], report.get("pyg")
    lines = [
        f"# GAT on {report['dataset']}: attention-zoo vs PyG",
        "",
        f"{report['date']}, {report['machine']}. Command: `{report['command']}`",
        "",
        "| | test accuracy (mean ± std, %) | seeds | ms / epoch | total s |",
        "|---|---|---|---|---|",
        f"| attention-zoo | {ours['test_accuracy_mean']:.2f} ± {ours['test_accuracy_std']:.2f} "
        f"| {report['seeds']} | {ours['ms_per_epoch']:.1f} | {ours['total_seconds']:.0f} |",
    ]
    if pyg:
        lines.append(
            f"| PyG {pyg['torch_geometric_version']} (torch {pyg['torch_version']}) "
            f"| {pyg['test_accuracy_mean']:.2f} ± {pyg['test_accuracy_std']:.2f} "
            f"| {report['seeds']} | {pyg['ms_per_epoch']:.1f} | {pyg['total_seconds']:.0f} |")
        lines += ["", f"Time per epoch, ours / PyG: **{report['ms_per_epoch_ratio_vs_pyg']:.2f}×**"]
    lines += ["", "Per seed (ours): " + ", ".join(f"{a:.1f}" for a in ours["test_accuracy"])]
    if pyg:
        lines += ["", "Per seed (PyG): " + ", ".join(f"{a:.1f}" for a in pyg["test_accuracy"])]
    lines += ["", "ms per epoch = one training step + the validation forward pass "
              "(+ Keras fit's per-epoch work on our side), first epoch excluded.", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="cora", choices=("cora", "citeseer", "pubmed"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--output", required=True, help="FILE.json (FILE.md is written too)")
    parser.add_argument("--baseline-python", help="python with torch + torch_geometric")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)

    ours = run_ours(args.dataset, args.seeds)
    report = dict(
        benchmark="gat_planetoid",
        dataset=args.dataset,
        seeds=args.seeds,
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                f"{platform.system()}, python {platform.python_version()}",
        command="python -m benchmarks.gat_planetoid " + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
        test_accuracy_mean=ours["test_accuracy_mean"],
        test_accuracy_std=ours["test_accuracy_std"],
        ms_per_epoch=ours["ms_per_epoch"],
        ours=ours,
    )
    if args.baseline_python:
        pyg = run_baseline(args.baseline_python, args.dataset, args.seeds, args.threads)
        report["pyg"] = pyg
        report["ms_per_epoch_ratio_vs_pyg"] = round(ours["ms_per_epoch"] / pyg["ms_per_epoch"], 3)
        report["accuracy_difference_vs_pyg"] = round(
            ours["test_accuracy_mean"] - pyg["test_accuracy_mean"], 2)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump(report, f, indent=2)
    with open(os.path.splitext(args.output)[0] + ".md", "w") as f:
        f.write(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
