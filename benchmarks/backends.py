"""Every entry's training on TensorFlow against JAX (jit), and JAX over 2 CPU
devices (keras.distribution.DataParallel) against 1, side by side.

    ZOO_DATA_DIR=../shared/data ZOO_PRETRAINED_DIR=../shared/weights python -m benchmarks.backends \\
        --output benchmarks/results/backends.json \\
        [--entries gat_cora ...] [--repeats 3] [--baseline-python .venv-pyg/bin/python]

Each measurement is a fresh process (a TensorFlow model's speed is bimodal
per process), running the entry's own `train()` exactly as `python -m
pipelines.train NAME --backend B [--distribution data_parallel]` does: on
TensorFlow the default runtime (length buckets, Keras' jit choice, none on
CPU), on JAX static shapes under jit, and with
`XLA_FLAGS=--xla_force_host_platform_device_count=2` DataParallel over two
CPU devices (the same 2 cores: it measures the data-parallel path's
overhead, not a speed-up). Per variant, the first of `--repeats` processes
trains the entry's metric budget and is evaluated; the others train its
timing budget. Speeds are the best and the median over the processes.

Budgets (`BUDGETS`): gat_cora trains to early stopping (its card's
setting: the issue's target, Cora test accuracy >= 83.0 on JAX with one
seed), with ms per epoch beside PyG's GATConv (`--baseline-python`, the
venv of `benchmarks/setup_pyg_baseline.sh`); transformer_encoder_sst2 one
epoch of its 3-epoch schedule, then dev and test accuracy; the captioner
3 epochs, then BLEU; the translators 300 steps for tokens/s only (an epoch
takes minutes here, a full training 30 minutes per backend), so their BLEU
is not measured by this benchmark.

Speed units: ms per epoch (gat_cora, one full-batch step plus validation;
the captioner, an epoch of cached-feature batches plus validation), and
real tokens per second of training for text (the tokens of the training
texts a step reads, padding not counted: mean per step = all training
tokens / steps per epoch), timed after the first epoch or the first 20
steps (compilation). Writes FILE.json and FILE.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BUDGETS = {
    # metric: what the first process trains and evaluates; timing: the other processes.
    "gat_cora": dict(metric=dict(epochs=None), timing=dict(epochs=100), unit="ms/epoch"),
    "transformer_encoder_sst2": dict(metric=dict(epochs=1), timing=dict(steps=300),
                                     unit="tokens/s"),
    "show_attend_tell_flickr8k": dict(metric=dict(epochs=3), timing=dict(epochs=3),
                                      unit="ms/epoch"),
    "seq2seq_attn_spa_eng": dict(metric=None, timing=dict(steps=300), unit="tokens/s"),
    "seq2seq_spa_eng": dict(metric=None, timing=dict(steps=300), unit="tokens/s"),
}
VARIANTS = {  # name: (KERAS_BACKEND, CPU devices)
    "tensorflow": ("tensorflow", 1),
    "jax": ("jax", 1),
    "jax_data_parallel_2": ("jax", 2),
}
WARMUP_STEPS = 20


# --- one measurement, in its own process --------------------------------------------

def _timers(budget):
    """Keras callbacks that time the training and end it at a steps budget."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Wall time of every epoch (its end syncs the metrics: the step is done)."""

        def __init__(self):
            super().__init__()
            self.epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(time.perf_counter() - self._start)

    class StepBudget(keras.callbacks.Callback):
        """Stops `fit` after `steps` steps; the seconds of steps WARMUP..steps."""

        def __init__(self, steps):
            super().__init__()
            self.steps, self.count, self.seconds = steps, 0, None

        def on_train_batch_end(self, batch, logs=None):
            self.count += 1
            if self.count in (WARMUP_STEPS, self.steps):
                float(logs["loss"])  # Waits for the step (JAX dispatches asynchronously).
                if self.count == WARMUP_STEPS:
                    self._start = time.perf_counter()
                else:
                    self.seconds = time.perf_counter() - self._start
                    self.model.stop_training = True

    return EpochTimer() if "epochs" in budget else StepBudget(budget["steps"])


def _tokens_per_step(task, model, data, config):
    """Mean real tokens a training step reads: all training tokens / steps per epoch."""
    import tensorflow as tf

    if task.__name__.endswith("text_classification"):
        from zoo.models.transformer_encoder.transformer_encoder_backbone import token_ids

        lengths = task.token_dataset(model, data.texts["train"], data.labels["train"]).map(
            lambda inputs, label: tf.shape(token_ids(inputs))[0])
        count = len(data.texts["train"])
    else:
        lengths = task.pair_dataset(model, data.sources["train"], data.targets["train"]).map(
            lambda source, target: tf.shape(source)[0] + tf.shape(target)[0] - 1)
        count = len(data.sources["train"])
    total = int(lengths.reduce(0, lambda a, b: a + b))
    return total / (count / config["batch_size"])


def measure(name, budget, evaluate):
    """Trains entry `name` on this process' backend for `budget`; returns
    its timing (and metrics if `evaluate`)."""
    import keras

    from pipelines import runtime as runtimes
    from pipelines import tasks
    from pipelines.configs import get_config

    config = get_config(name)
    task = tasks.task_for(config)
    on_jax = keras.backend.backend() == "jax"
    devices = len(keras.distribution.list_devices()) if on_jax else 1
    chosen = runtimes.make_runtime(
        distribution_name="data_parallel" if devices > 1 else "none")
    timer = _timers(budget)
    start = time.perf_counter()
    model, data, _, history = task.train(name, config, seed=0, epochs=budget.get("epochs"),
                                         verbose=0, extra_callbacks=[timer], runtime=chosen)
    result = dict(backend=keras.backend.backend(), devices=devices,
                  jax=__import__("jax").__version__ if on_jax else None,
                  seconds=round(time.perf_counter() - start, 1), epochs=history.epochs_run)
    if "epochs" in budget:
        times = timer.epochs[1:] or timer.epochs  # the first epoch compiles
        result["ms_per_epoch"] = round(1000 * statistics.median(times), 2)
    else:
        steps = timer.steps - WARMUP_STEPS
        result["tokens_per_second"] = round(
            _tokens_per_step(task, model, data, config) * steps / timer.seconds)
        result["ms_per_step"] = round(1000 * timer.seconds / steps, 2)
    if evaluate:
        keras.distribution.set_distribution(None)
        result["metrics"] = task.evaluate(model, data)
    return result


# --- the run: every entry, every variant, fresh processes ---------------------------

def _measure_in_process(name, variant, budget, evaluate):
    backend, devices = VARIANTS[variant]
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "result.json")
        command = [sys.executable, "-m", "benchmarks.backends", "--worker", name,
                   "--budget", json.dumps(budget), "--json-out", output]
        if evaluate:
            command.append("--evaluate")
        repository = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        subprocess.run(command, check=True, env=env, cwd=repository)
        with open(output) as f:
            return json.load(f)


def speed_key(unit):
    """The result field of a unit."""
    return {"ms/epoch": "ms_per_epoch", "tokens/s": "tokens_per_second"}[unit]


def summarize(runs, unit):
    """Best and median speed over the runs that measured `unit` (a metric
    run of another kind, e.g. a whole epoch where the unit is tokens/s of
    steps, is not among them), and the metrics of the run that has them."""
    key = speed_key(unit)
    speeds = [run[key] for run in runs if key in run]
    best = min(speeds) if key == "ms_per_epoch" else max(speeds)
    metrics = next((run["metrics"] for run in runs if "metrics" in run), None)
    return dict(best=best, median=statistics.median(speeds), unit=unit, processes=len(speeds),
                metrics=metrics, runs=runs)


def ratio(faster, slower, unit):
    """How many times faster `faster` is than `slower` (> 1: faster), by medians."""
    if unit == "ms/epoch":
        return round(slower["median"] / faster["median"], 3)
    return round(faster["median"] / slower["median"], 3)


def run_entry(name, repeats):
    """Every variant of entry `name`: its metric run (if it has a metric
    budget), then timing runs until `repeats` processes measured its speed."""
    budgets = BUDGETS[name]
    key = speed_key(budgets["unit"])
    variants = {}
    for variant in VARIANTS:
        runs = []
        if budgets["metric"] is not None:
            runs.append(_measure_in_process(name, variant, budgets["metric"], evaluate=True))
            print(f"{name} {variant} (metric): {runs[-1]}", flush=True)
        while sum(key in run for run in runs) < repeats:
            runs.append(_measure_in_process(name, variant, budgets["timing"], evaluate=False))
            print(f"{name} {variant} (timing): {runs[-1]}", flush=True)
        variants[variant] = summarize(runs, budgets["unit"])
    unit = budgets["unit"]
    return dict(
        budgets={k: v for k, v in budgets.items() if k != "unit"},
        variants=variants,
        jax_vs_tensorflow=ratio(variants["jax"], variants["tensorflow"], unit),
        data_parallel_2_vs_1=ratio(variants["jax_data_parallel_2"], variants["jax"], unit),
    )


def markdown(report):
    lines = [
        "# Training on TensorFlow vs JAX, and JAX DataParallel over 2 CPU devices vs 1",
        "",
        f"{report['date']}, {report['machine']}. Command: `{report['command']}`",
        "",
        f"Each cell: median (best) over {report['repeats']} fresh processes. Ratios of medians, "
        "> 1 when the first is faster. The two devices share the same 2 cores.",
        "",
        "| entry | unit | TensorFlow | JAX | JAX, DataParallel ×2 | JAX / TF | DP2 / 1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in report["entries"].items():
        cells = [f"{v['median']:,.1f} ({v['best']:,.1f})" for v in entry["variants"].values()]
        unit = next(iter(entry["variants"].values()))["unit"]
        lines.append(f"| {name} | {unit} | " + " | ".join(cells)
                     + f" | {entry['jax_vs_tensorflow']:.2f} | {entry['data_parallel_2_vs_1']:.2f} |")
    if "pyg" in report:
        pyg = report["pyg"]
        lines += ["", f"PyG {pyg['torch_geometric_version']} GATConv on Cora (same machine, same "
                  f"run): **{pyg['ms_per_epoch']:.1f} ms/epoch**, test accuracy "
                  f"{pyg['test_accuracy_mean']:.1f} (seed 0)."]
    lines += ["", "## Metrics after each entry's metric budget (seed 0)", ""]
    for name, entry in report["entries"].items():
        budget = entry["budgets"]["metric"]
        if budget is None:
            lines.append(f"- {name}: not measured here (a full training takes about 30 minutes "
                         "per backend on this machine; tokens/s only)")
            continue
        lines.append(f"- {name} ({'to early stopping' if budget['epochs'] is None else str(budget['epochs']) + ' epochs'}):")
        for variant, result in entry["variants"].items():
            lines.append(f"  - {variant}: " + ", ".join(
                f"{k}={v}" for k, v in result["metrics"].items()))
    if "gat_cora" in report["entries"]:
        accuracy = report["entries"]["gat_cora"]["variants"]["jax"]["metrics"]["test_accuracy"]
        lines += ["", f"Target: gat_cora on JAX >= 83.0 Cora test accuracy with one seed: "
                  f"**{accuracy:.1f}** ({'met' if accuracy >= 83.0 else 'NOT met'})."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", help="FILE.json (FILE.md is written too)")
    parser.add_argument("--entries", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per variant")
    parser.add_argument("--baseline-python", help="python with torch + torch_geometric")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # one measurement: entry name
    parser.add_argument("--budget", help=argparse.SUPPRESS)
    parser.add_argument("--evaluate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = measure(args.worker, json.loads(args.budget), args.evaluate)
        with open(args.json_out, "w") as f:
            json.dump(result, f)
        return result
    if not args.output:
        parser.error("--output is required")

    from benchmarks import report as report_lib

    report = dict(benchmark="backends", repeats=args.repeats, **report_lib.metadata(
        "benchmarks.backends", argv), versions=report_lib.versions())
    report["entries"] = {name: run_entry(name, args.repeats) for name in args.entries}
    if args.baseline_python and "gat_cora" in args.entries:
        from benchmarks.gat_planetoid import run_baseline

        report["pyg"] = run_baseline(args.baseline_python, "cora", 1, os.cpu_count())
        ours = report["entries"]["gat_cora"]["variants"]
        report["gat_ms_per_epoch_vs_pyg"] = {
            variant: round(result["median"] / report["pyg"]["ms_per_epoch"], 3)
            for variant, result in ours.items()}
    report_lib.write(args.output, report, markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
