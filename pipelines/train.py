"""Trains a zoo entry: `python -m pipelines.train NAME [options]`.

Writes the weights and a metrics card to `--output-dir` (default
`default_output_dir`: `$ZOO_WEIGHTS_DIR/NAME` if that is set, else
`runs/NAME` in a checkout or the user cache's `runs/NAME` when installed;
never the shipped weights, which only `--output-dir savedmodels/NAME`
re-creates), TensorBoard logs to `--logdir`, and a resumable backup: run
the same command again after an interruption and training continues where
it stopped. Both folders are checked writable and locked against a second
run before the first epoch, the outputs are written all at once at the
end, and the backup is deleted only then (`pipelines.run_output`). `--backend`
picks TensorFlow or JAX (`pipelines.backends`; `auto`: JAX on a TPU VM).
`--strategy` (TensorFlow) or `--distribution` (JAX), `--mixed-precision`
and `--jit-compile` choose the devices, the compute dtype and XLA
(`pipelines.runtime`). On JAX, `--coordinator-address`, `--num-processes`
and `--process-id` join several processes (`keras.distribution.initialize`);
each reads its shard of the input, and only process 0 writes the weights,
the card and TensorBoard; process I keeps its backup (which the same
command resumes from) in LOGDIR/process-I, removed when it is done. If the
loss becomes NaN, training stops with an error and writes nothing; the
last good backup is kept.

    XLA_FLAGS=--xla_force_host_platform_device_count=2 python -m pipelines.train \
        gat_cora --backend jax --distribution data_parallel

`--set KEY=VALUE` (repeatable) overrides any architecture kwarg of the
entry's preset or training setting of its config (`pipelines.settings`;
`python -m pipelines.train NAME --help` lists them), e.g.

    python -m pipelines.train transformer_encoder_sst2 --set max_length=256 --set batch_size=32

The card records the resolved settings, and `zoo.load(NAME, weights=DIR)`
rebuilds that architecture from it. The backup is tied to them too: a
resume with other settings is refused (`--restart` starts fresh).
"""

import argparse
import contextlib
import os
import shlex
import shutil
import sys
from pathlib import Path

# TensorFlow's C++ start-up lines (oneDNN, CPU features, cuInit) bury the
# training's own output; level 2 still shows its errors. Set before
# TensorFlow is imported; a value the user set is kept.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pipelines import backends  # noqa: E402  (imports no keras)

if __name__ == "__main__":
    # --backend picks KERAS_BACKEND, which Keras reads once, on import.
    backends.select(sys.argv[1:])

import keras  # noqa: E402

import zoo  # noqa: E402
from pipelines import callbacks as zoo_callbacks  # noqa: E402
from pipelines import cards, run_output, runtime, settings, tasks  # noqa: E402
from pipelines.configs import get_config  # noqa: E402
from zoo._files import cache_root  # noqa: E402
from zoo.registry import is_development_install  # noqa: E402

def _positive_int(text):
    """argparse type: 0 or fewer epochs would save untrained weights over the shipped ones."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def _non_negative_int(text):
    """argparse type of --process-id."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be an integer 0 or greater. Received: {text!r}")
    return int(text)


def _settings_help(argv):
    """The --set keys of the entry named in `argv`, for --help (else how to list them)."""
    names = [a for a in (sys.argv[1:] if argv is None else argv) if a in zoo.list_models()]
    if names:
        return settings.describe(names[0])
    return ("--set keys: `python -m pipelines.train NAME --help` or `python -m zoo info NAME` "
            "lists those of entry NAME with their defaults.")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pipelines.train", description=__doc__,
                                     epilog=_settings_help(argv),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="zoo entry, e.g. gat_cora (see `zoo.list_models()`)")
    parser.add_argument("--epochs", type=_positive_int, help="cap on epochs (default: the config's)")
    parser.add_argument("--seed", type=int, help="random seed (default: the config's)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override an architecture kwarg of the preset "
                        "or a training setting of the config (repeatable; Python or JSON "
                        "literals, e.g. max_length=256, learning_rate=3e-4; keys below)")
    parser.add_argument("--restart", action="store_true",
                        help="delete the run's backup and start fresh (without it a backup of "
                        "the same settings resumes, and one of other settings is refused)")
    parser.add_argument("--dataset", help="train the same architecture on another dataset "
                        "(node classification: cora, citeseer, pubmed)")
    files = parser.add_argument_group(
        "your own data (text classification)",
        "TSV files with a header row; labels integers or strings (the mapping is saved "
        "with the model as labels.txt)")
    files.add_argument("--train-file", help="train on this TSV file instead of the entry's dataset")
    files.add_argument("--validation-file", help="picks the best epoch (needed with --train-file)")
    files.add_argument("--test-file", help="reported in the metrics card (optional)")
    files.add_argument("--label-column", default="label", help="name or 0-based index (default: label)")
    files.add_argument("--text-column", default="sentence", help="name or 0-based index (default: sentence)")
    parser.add_argument("--pairs", help="translation: train on this pair file (one "
                        "'target<TAB>source' pair per line, the manythings.org format) instead of "
                        "Tatoeba spa-eng; split by line index as Tatoeba is")
    parser.add_argument("--logdir", help="TensorBoard folder (default: runs/NAME/logs)")
    parser.add_argument("--output-dir", help="weights + metrics card (default: $ZOO_WEIGHTS_DIR/RUN "
                        "if set, else runs/RUN, or the user cache's runs/RUN when installed; RUN "
                        "is NAME, or NAME-DATASET for another dataset). --output-dir "
                        "savedmodels/NAME re-creates the shipped weights")
    parser.add_argument("--data-dir", help="dataset folder (default: $ZOO_DATA_DIR or the cache)")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="Keras progress: 0 silent, 1 bar, 2 one line per epoch")
    devices = parser.add_argument_group("backend, devices and precision")
    devices.add_argument("--backend", default=backends.default(), choices=backends.BACKENDS,
                         help="the Keras backend: auto picks JAX when a TPU is attached and "
                         "TensorFlow cannot use it, else TensorFlow (default: $KERAS_BACKEND if "
                         "set, else auto)")
    devices.add_argument("--strategy", default="auto", choices=runtime.STRATEGIES,
                         help="TensorFlow: auto (default): a TPU if attached, else every GPU "
                         "(MirroredStrategy), else the CPU; mirrored: every GPU, or every "
                         "logical CPU device")
    devices.add_argument("--distribution", default="auto", choices=runtime.DISTRIBUTIONS,
                         help="JAX: data_parallel: keras.distribution.DataParallel over every "
                         "device (TPU cores, GPUs, or the CPU devices of XLA_FLAGS="
                         "--xla_force_host_platform_device_count=N); none: one device; auto "
                         "(default): data_parallel when there is more than one device")
    devices.add_argument("--mixed-precision", choices=runtime.PRECISIONS,
                         help="compute in bfloat16 (TPU, recent CPUs) or float16 (GPU, with loss "
                         "scaling); variables and saved weights stay float32 (default: float32)")
    devices.add_argument("--jit-compile", action="store_true",
                         help="compile the training step with XLA (default: Keras' \"auto\": "
                         "XLA on a GPU without a distribution strategy, else none; JAX "
                         "always compiles)")
    processes = parser.add_argument_group(
        "several processes (JAX)", "each process runs the same command with its own "
        "--process-id; without these flags JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES and "
        "JAX_PROCESS_ID are read")
    processes.add_argument("--coordinator-address", metavar="HOST:PORT",
                           help="where process 0 listens")
    processes.add_argument("--num-processes", type=_positive_int, help="how many processes")
    processes.add_argument("--process-id", type=_non_negative_int, help="0 .. N-1; 0 writes")
    return parser.parse_args(argv)


def _column(value):
    return int(value) if value.isdigit() else value


def _use_files(config, args):
    """Points a text classification config at the user's TSV files."""
    if config["task"] != "text_classification":
        raise SystemExit(f"--train-file is for text classification entries; {args.name} is "
                         f"{config['task']}.")
    if not args.validation_file:
        raise SystemExit("--train-file needs --validation-file (it picks the best epoch).")
    config.update(dataset="tsv", label_column=_column(args.label_column),
                  text_column=_column(args.text_column),
                  files={"train": args.train_file, "validation": args.validation_file,
                         "test": args.test_file})


def resolve_settings(name, config, assignments):
    """Applies `--set` to the config: (config, model_kwargs, overrides), the
    training settings with their overrides, the architecture overrides of
    the preset (for the task's `train`), and every override (for the card)."""
    try:
        model_kwargs, training = settings.parse_overrides(name, assignments)
    except ValueError as error:
        raise SystemExit(f"python -m pipelines.train: {error}") from error
    return {**config, **training}, model_kwargs, {**model_kwargs, **training}


def run_settings(name, config, model_kwargs, seed, args):
    """Everything that makes the run's result, what its backup is tied to:
    seed, epochs, data, training settings and architecture."""
    return {"name": name, "seed": seed, "epochs": args.epochs, "dataset": config["dataset"],
            "training": config, "architecture": settings.architecture(name, model_kwargs),
            "mixed_precision": args.mixed_precision, "backend": keras.backend.backend()}


def main(argv=None):
    args = parse_args(argv)
    config = get_config(args.name)
    try:
        task = tasks.task_for(config)
    except ValueError as error:
        raise SystemExit(f"python -m pipelines.train: {error}") from error
    default_dataset = config["dataset"]
    if args.dataset:
        config["dataset"] = args.dataset.lower()
    if args.train_file:
        _use_files(config, args)
    if args.pairs:
        if config["task"] != "translation":
            raise SystemExit(f"--pairs is for translation entries; {args.name} is {config['task']}.")
        config.update(dataset="pairs", pairs_file=args.pairs)
    config, model_kwargs, overrides = resolve_settings(args.name, config, args.overrides)
    seed = config["seed"] if args.seed is None else args.seed
    config["seed"] = seed
    run = args.name if config["dataset"] == default_dataset else f"{args.name}-{config['dataset']}"
    output_dir = args.output_dir or default_output_dir(run)
    logdir = args.logdir or os.path.join(runs_root(), run, "logs")
    try:
        chosen = choose_runtime(args)
    except ValueError as error:  # Another backend active, no TPU or GPU where one was asked for.
        raise SystemExit(f"python -m pipelines.train: {error}") from error
    if chosen.process_index:
        # Not process 0: the same program (every process runs every step and
        # every callback, or their computations would differ), with a logdir
        # of its own for its backup, which the same command resumes from; it
        # is removed at the end, and nothing else is written.
        logdir = os.path.join(logdir, f"process-{chosen.process_index}")
    backup_dir = os.path.join(logdir, "backup")
    # Before training: both folders writable and not in use by another run,
    # a backup of another run refused, a resume announced.
    folders = {Path(logdir).absolute(): "--logdir"}
    if not chosen.process_index:
        folders[Path(output_dir).absolute()] = "--output-dir"
    for folder, flag in folders.items():
        run_output.check_writable(folder, flag)
    try:
        with contextlib.ExitStack() as locks:
            for folder, flag in folders.items():
                locks.enter_context(run_output.FolderLock(folder, flag))
            settings.check_backup(backup_dir, run_settings(args.name, config, model_kwargs, seed, args),
                                  restart=args.restart)
            metrics = _train_and_write(args, argv, task, run, config, seed, model_kwargs,
                                       overrides, chosen, output_dir, logdir, backup_dir)
    except BaseException:
        settings.discard_unused_backup(backup_dir)
        raise
    print(f"{run}: " + ", ".join(f"{k}={v}" for k, v in metrics.items()))
    if chosen.process_index:
        print(f"process {chosen.process_index}: done; process 0 writes the weights and card")
        return metrics
    print(f"weights and metrics card: {output_dir}")
    print(f"use them: zoo.load({args.name!r}, weights={str(output_dir)!r}), or set "
          f"ZOO_WEIGHTS_DIR={Path(output_dir).parent} for zoo.load({args.name!r}), "
          f"pipelines.evaluate and pipelines.export")
    return metrics


def _train_and_write(args, argv, task, run, config, seed, model_kwargs, overrides, chosen,
                     output_dir, logdir, backup_dir):
    """Trains, evaluates, then writes the weights, assets and card all at
    once (`run_output.staged_output`); the backup is deleted only then."""
    chief = not chosen.process_index
    try:
        model, data, builder_kwargs, history = task.train(
            args.name, config, seed, logdir=logdir, backup_dir=backup_dir, epochs=args.epochs,
            verbose=args.verbose, data_dir=args.data_dir, runtime=chosen,
            model_kwargs=model_kwargs)
    except zoo_callbacks.NonFiniteLossError as error:
        kept = (f"the backup of the last good epoch is kept in {backup_dir} (the same command "
                "resumes from it; delete it to start over)"
                if os.path.exists(os.path.join(backup_dir, "training_metadata.json"))
                else "no epoch had been backed up yet")
        raise SystemExit(f"{run}: training stopped: {error}. Nothing was written to "
                         f"{output_dir}; {kept}. Try a lower learning rate, or float32 if "
                         "mixed precision was on.") from error
    metrics = task.evaluate(model, data)  # On every process: each runs every computation.
    metrics.update(epochs=history.epochs_run, best_epoch=history.best_epoch)
    if chosen.distribution is not None:
        # What follows runs on process 0 alone: models it builds to save
        # (an uncompiled copy) must live on its own devices, not on the mesh
        # of every process.
        keras.distribution.set_distribution(None)
    if not chief:
        shutil.rmtree(logdir, ignore_errors=True)
        return metrics
    command = "python -m pipelines.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    # The resolved training settings and the overrides; builder_kwargs: the architecture.
    extra = {"dataset": config["dataset"], "training": config, "overrides": overrides}
    if summary := chosen.summary():  # None for the default: such cards stay as they were.
        extra["runtime"] = summary
    try:
        with run_output.staged_output(output_dir) as staging:
            tasks.save(model, staging, args.name)
            cards.write_card(staging, args.name, command, seed, metrics,
                             builder_kwargs=builder_kwargs, extra=extra)
    except OSError as error:
        raise SystemExit(f"{run}: trained, but writing to {output_dir} failed ({error}). The "
                         f"backup in {backup_dir} is kept: free the space or fix the folder, then "
                         "the same command resumes from it and writes again.") from error
    shutil.rmtree(backup_dir, ignore_errors=True)
    return metrics


def choose_runtime(args):
    """The `Runtime` of the flags, on the backend `--backend` chose: checks
    that it is the active one, joins the other processes if any (before
    any JAX computation), then picks the devices."""
    backends.check_active(args.backend, keras.backend.backend())
    runtime.initialize_processes(args.coordinator_address, args.num_processes, args.process_id)
    return runtime.make_runtime(args.strategy, args.mixed_precision, args.jit_compile,
                                args.distribution)


def runs_root():
    """Where training writes by default: `runs/` in the current folder for a
    checkout, the user cache's `runs/` for an installed package (whose
    current folder may be anywhere)."""
    return "runs" if is_development_install() else str(cache_root() / "runs")


def default_output_dir(run):
    """`--output-dir`'s default: `$ZOO_WEIGHTS_DIR/RUN` (the user's own weights
    folder, where zoo.load reads first), else `runs_root()/RUN`. Never the
    shipped weights: re-creating those takes `--output-dir savedmodels/NAME`."""
    own = os.environ.get("ZOO_WEIGHTS_DIR")
    return os.path.join(own, run) if own else os.path.join(runs_root(), run)


if __name__ == "__main__":
    main()
