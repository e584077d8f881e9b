"""Trains a zoo entry: `python -m pipelines.train NAME [options]`.

Writes the weights and a metrics card to `--output-dir` (default
`savedmodels/NAME/`, where `zoo.load(NAME)` reads them), TensorBoard logs to
`--logdir`, and a resumable backup: run the same command again after an
interruption and training continues where it stopped. `--strategy`,
`--mixed-precision` and `--jit-compile` choose the devices, the compute
dtype and XLA (`pipelines.runtime`). If the loss becomes NaN, training
stops with an error and writes nothing; the last good backup is kept.
"""

import argparse
import importlib
import os
import shlex
import sys

import zoo
from pipelines import callbacks as zoo_callbacks
from pipelines import cards, runtime
from pipelines.configs import get_config

# config["task"] -> the module with train(), evaluate(), evaluation_data(), save(), serving() and warmup_inputs().
TASKS = {"node_classification": "pipelines.node_classification",
         "captioning": "pipelines.captioning",
         "text_classification": "pipelines.text_classification",
         "translation": "pipelines.translation"}


def task_module(config):
    """The pipelines module of `config["task"]` (train, evaluate, save, serving, warmup_inputs)."""
    return importlib.import_module(TASKS[config["task"]])


def _positive_int(text):
    """argparse type: 0 or fewer epochs would save untrained weights over the shipped ones."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m pipelines.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="zoo entry, e.g. gat_cora (see `zoo.list_models()`)")
    parser.add_argument("--epochs", type=_positive_int, help="cap on epochs (default: the config's)")
    parser.add_argument("--seed", type=int, help="random seed (default: the config's)")
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
    parser.add_argument("--output-dir", help="weights + metrics card "
                        "(default: savedmodels/NAME, or runs/NAME-DATASET for another dataset)")
    parser.add_argument("--data-dir", help="dataset folder (default: $ZOO_DATA_DIR or the cache)")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2),
                        help="Keras progress: 0 silent, 1 bar, 2 one line per epoch")
    devices = parser.add_argument_group("devices and precision")
    devices.add_argument("--strategy", default="auto", choices=runtime.STRATEGIES,
                         help="auto (default): a TPU if attached, else every GPU "
                         "(MirroredStrategy), else the CPU; mirrored: every GPU, or every "
                         "logical CPU device")
    devices.add_argument("--mixed-precision", choices=runtime.PRECISIONS,
                         help="compute in bfloat16 (TPU, recent CPUs) or float16 (GPU, with loss "
                         "scaling); variables and saved weights stay float32 (default: float32)")
    devices.add_argument("--jit-compile", action="store_true",
                         help="compile the training step with XLA (default: Keras' \"auto\": "
                         "XLA on a GPU without a distribution strategy, else none)")
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


def main(argv=None):
    args = parse_args(argv)
    config = get_config(args.name)
    if config["task"] not in TASKS:
        raise SystemExit(f"Training for task {config['task']!r} is not implemented yet.")
    task = task_module(config)
    default_dataset = config["dataset"]
    if args.dataset:
        config["dataset"] = args.dataset.lower()
    if args.train_file:
        _use_files(config, args)
    if args.pairs:
        if config["task"] != "translation":
            raise SystemExit(f"--pairs is for translation entries; {args.name} is {config['task']}.")
        config.update(dataset="pairs", pairs_file=args.pairs)
    seed = config["seed"] if args.seed is None else args.seed
    run = args.name if config["dataset"] == default_dataset else f"{args.name}-{config['dataset']}"
    # The entry's own dataset re-creates the shipped weights where zoo.load
    # reads them (savedmodels/NAME, or $ZOO_WEIGHTS_DIR/NAME).
    output_dir = args.output_dir or (
        zoo.info(args.name)["weights_dir"] if run == args.name
        else os.path.join("runs", run))
    logdir = args.logdir or os.path.join("runs", run, "logs")
    backup_dir = os.path.join(logdir, "backup")
    try:
        chosen = runtime.make_runtime(args.strategy, args.mixed_precision, args.jit_compile)
    except ValueError as error:  # No TPU or GPU where one was asked for.
        raise SystemExit(f"python -m pipelines.train: {error}") from error

    try:
        model, data, builder_kwargs, history = task.train(
            args.name, config, seed, logdir=logdir, backup_dir=backup_dir, epochs=args.epochs,
            verbose=args.verbose, data_dir=args.data_dir, runtime=chosen)
    except zoo_callbacks.NonFiniteLossError as error:
        kept = (f"the backup of the last good epoch is kept in {backup_dir} (the same command "
                "resumes from it; delete it to start over)"
                if os.path.exists(os.path.join(backup_dir, "training_metadata.json"))
                else "no epoch had been backed up yet")
        raise SystemExit(f"{run}: training stopped: {error}. Nothing was written to "
                         f"{output_dir}; {kept}. Try a lower learning rate, or float32 if "
                         "mixed precision was on.") from error
    metrics = task.evaluate(model, data)
    metrics.update(epochs=history.epochs_run, best_epoch=history.best_epoch)
    task.save(model, output_dir)
    command = "python -m pipelines.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    extra = {"dataset": config["dataset"]}
    if summary := chosen.summary():  # None for the default: such cards stay as they were.
        extra["runtime"] = summary
    cards.write_card(output_dir, args.name, command, seed, metrics,
                     builder_kwargs=builder_kwargs, extra=extra)
    print(f"{run}: " + ", ".join(f"{k}={v}" for k, v in metrics.items()))
    print(f"weights and metrics card: {output_dir}")
    return metrics


if __name__ == "__main__":
    main()
