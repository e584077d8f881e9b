"""SST-2 accuracy: the zoo's transformer encoder vs the same classifier with
keras' MultiHeadAttention blocks vs keras-hub's TransformerEncoder blocks.

    python -m benchmarks.transformer_sst2 --seeds 3 \\
        --output benchmarks/results/transformer_sst2.json \\
        [--keras-hub-python .venv-hub/bin/python] [--variants zoo keras_mha keras_hub] \\
        [--data-dir D] [--verbose 2]

Trains three classifiers of the same architecture and size, the same way, on
SST-2 (67,349 training phrases), and reports dev (872) and test (1,821
sentences) accuracy of the epoch with the best dev accuracy, as mean ± std
over `--seeds` (seeds 0..N-1), with each run's training time:

  zoo        the entry `transformer_encoder_sst2`, trained by
             `pipelines.text_classification.train` exactly as
             `python -m pipelines.train transformer_encoder_sst2` trains it.
  keras_mha  the same `TransformerEncoderClassifier` (tokenizer, masked mean
             pooling, dropout, Dense head) over a `BaselineBackbone` whose
             blocks are `transformer_throughput.KerasMHABlock`: the zoo block
             written with `keras.layers.MultiHeadAttention` (query and key
             padding masked, as in zoo).
  keras_hub  the same with `keras_hub.layers.TransformerEncoder` blocks (it
             masks only the keys: padded positions attend to real tokens, but
             no real token attends to them and pooling skips them).

"Trained the same way" means the same `pipelines.text_classification.fit`:
the same data pipeline (the classifier's own tokenizer, length-bucketed
batches, [UNK] word dropout), AdamW with the same warm-up + cosine schedule
and weight decay, the same epochs cap and early stopping on dev accuracy
(best weights restored), and `keras.utils.set_random_seed(seed)` before
building, as `train` does. Everything is read from the entry at run time:
its training settings from its config (`pipelines.configs.get_config`), its
architecture (layers, heads, widths, dropout, norm_first, position encoding,
max_length) from its preset (`zoo.info(NAME)["kwargs"]`, the benchmark's
``config["model"]``, which `zoo.load` builds), so the three always match the
entry. Their trainable parameter counts are asserted equal before training.
With the zoo's weights copied in, the three give the same logits (keras_mha:
tests/benchmarks/test_transformer_sst2.py; keras_hub: checked by hand in its
venv, post- and pre-norm); they differ only in initialisation, each
block keeping its library's own, which is part of what is compared: zoo's
Q, K and V are one Glorot-uniform `[D, 3D]` kernel, keras' MHA (keras-hub's
too) has three `[D, H, D/H]` kernels with Glorot limits of a `[D, D]`
matrix, √2 wider than zoo's.

Training time is the seconds of `fit` (every epoch and its dev evaluation,
until early stopping), measured by a callback, the same for all variants.

keras_hub is not installed in the main environment: with `--keras-hub-python`
(the Python of `benchmarks/setup_keras_hub_baseline.sh`'s venv) that variant
runs in a subprocess `python -m benchmarks.transformer_sst2 --variants
keras_hub --json-out F` with the repository root as working directory, so it
trains with this module and the source tree's `zoo` and `pipelines`.

Writes FILE.json (config, per-seed metrics, means and stds, parameters, the
Kim (2014) CNN-rand anchor, date, machine, command) and FILE.md.
"""

import argparse
import functools
import json
import os
import time

# Quiet TensorFlow's C++ start-up banner; must be set before TF is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from benchmarks import report as report_io  # noqa: E402
from benchmarks.transformer_throughput import LAYER_NORM_EPSILON, KerasMHABlock  # noqa: E402
from pipelines import text_classification as task  # noqa: E402
from pipelines.configs import get_config  # noqa: E402
from zoo.models.transformer_encoder import TransformerEncoderClassifier  # noqa: E402
from zoo.models.transformer_encoder.transformer_encoder_backbone import embedded_inputs  # noqa: E402

NAME = "transformer_encoder_sst2"
VARIANTS = ("zoo", "keras_mha", "keras_hub")
KIM_2014 = dict(
    test_accuracy=82.7,
    citation="Kim, Convolutional Neural Networks for Sentence Classification, EMNLP 2014, "
             "Table 2: CNN-rand (random word vectors, trained from scratch) on SST-2",
)


# --- models ------------------------------------------------------------------

def count_parameters(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def zoo_classifier(config, vocabulary, subwords, class_names):
    """The entry as `train` builds it for `config` (fresh weights)."""
    return zoo.load(NAME, weights=None, vocabulary=vocabulary, subwords=subwords,
                    class_names=class_names, **config["model"])


def architecture(reference):
    """The zoo backbone's constructor arguments (its config, so preset or card
    defaults the config leaves out, e.g. position_encoding, come along)."""
    arch = reference.backbone.get_config()
    if arch["merge"] != "concat":
        # keras' MHA and keras-hub's encoder only concatenate their heads.
        raise ValueError(f"The baselines need merge='concat', the config has {arch['merge']!r}.")
    return {key: arch[key] for key in ("max_length", "num_layers", "num_heads", "hidden_dim",
                                       "ff_dim", "dropout", "norm_first", "position_encoding",
                                       "subword_vocabulary_size", "whole_word_dropout")}


@functools.cache
def keras_hub_block_class():
    """keras-hub's TransformerEncoder, whose symbolic call also returns the
    attention weights: its own `compute_output_shape` gives only `[B, T, D]`,
    so in a functional model `return_attention_scores=True` would yield one
    tensor instead of two."""
    import keras_hub  # only in the keras-hub venv

    class KerasHubBlock(keras_hub.layers.TransformerEncoder):
        def compute_output_spec(self, inputs, return_attention_scores=False, **kwargs):
            outputs = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
            if not return_attention_scores:
                return outputs
            batch, length = inputs.shape[0], inputs.shape[1]
            weights = keras.KerasTensor((batch, self.num_heads, length, length), dtype=self.compute_dtype)
            return outputs, weights

    return KerasHubBlock


def make_block(variant, hidden_dim, num_heads, ff_dim, dropout, norm_first, name):
    """One encoder block of a baseline; called with `padding_mask=` and
    `return_attention_scores=True`, it returns (h, weights [B, H, T, T])."""
    if variant == "keras_mha":
        return KerasMHABlock(hidden_dim, num_heads, ff_dim, dropout, norm_first=norm_first,
                             name=name)
    if variant == "keras_hub":
        return keras_hub_block_class()(
            intermediate_dim=ff_dim, num_heads=num_heads, dropout=dropout, activation="relu",
            layer_norm_epsilon=LAYER_NORM_EPSILON, normalize_first=norm_first, name=name)
    raise ValueError(f"unknown baseline {variant!r}, expected keras_mha or keras_hub")


class BaselineBackbone(keras.Model):
    """`TransformerEncoderBackbone` with the blocks of `variant`: the same
    embedding, embedding dropout, L blocks, final norm if norm_first, and
    the same outputs (``sequence_output``, ``padding_mask``, ``attention``:
    keras MHA's weights per block), which is all `TransformerEncoderClassifier`
    uses."""

    def __init__(self, variant, vocabulary_size, max_length, num_layers, num_heads, hidden_dim,
                 ff_dim, dropout, norm_first, position_encoding, subword_vocabulary_size=None,
                 whole_word_dropout=0.0, **kwargs):
        inputs, padding_mask, h = embedded_inputs(
            vocabulary_size, max_length, hidden_dim, dropout, position_encoding,
            subword_vocabulary_size, whole_word_dropout)
        attention = []
        for index in range(num_layers):
            block = make_block(variant, hidden_dim, num_heads, ff_dim, dropout, norm_first,
                               name=f"block_{index}")
            h, weights = block(h, padding_mask=padding_mask, return_attention_scores=True)
            attention.append(weights)
        if norm_first:
            h = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="final_norm")(h)
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": h, "padding_mask": padding_mask, "attention": attention},
            **kwargs,
        )
        self.variant = variant
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.subword_vocabulary_size = subword_vocabulary_size


def baseline_classifier(variant, arch, vocabulary, class_names, standardize, subwords=None,
                        subword_lengths=None):
    """The zoo's classifier (tokenizer, subwords, pooling, head) over a baseline backbone."""
    backbone = BaselineBackbone(variant, len(vocabulary), name=f"{variant}_backbone", **arch)
    return TransformerEncoderClassifier(backbone, vocabulary, class_names, standardize=standardize,
                                        dropout=arch["dropout"], subwords=subwords,
                                        subword_lengths=subword_lengths,
                                        name=f"{variant}_classifier")


# --- training ----------------------------------------------------------------

class FitTimer(keras.callbacks.Callback):
    """Seconds from the start to the end of `fit`."""

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.start


def train_zoo(config, seed, data_dir=None, verbose=0):
    """The entry, trained by the pipeline itself: (model, data, history, seconds)."""
    timer = FitTimer()
    model, data, _, history = task.train(NAME, config, seed, verbose=verbose, data_dir=data_dir,
                                         extra_callbacks=[timer], model_kwargs=config["model"])
    return model, data, history, timer.seconds


def train_baseline(variant, config, seed, data, vocabulary, subwords, arch, verbose=0):
    """A baseline fitted like the entry: (model, history, seconds)."""
    keras.utils.set_random_seed(seed)  # before building, as `train` does
    model = baseline_classifier(variant, arch, vocabulary, data.class_names,
                                config["model"]["standardize"], subwords,
                                config["model"].get("subword_lengths"))
    timer = FitTimer()
    history = task.fit(model, data, config, seed, verbose=verbose, extra_callbacks=[timer])
    return model, history, timer.seconds


def run_metrics(seed, model, data, history, seconds):
    """What one seed's run records."""
    return dict(seed=seed, **task.evaluate(model, data), best_epoch=history.best_epoch,
                epochs=history.epochs_run, train_seconds=round(seconds, 1),
                parameters=count_parameters(model))


def summarise(runs):
    """Mean and std (over seeds, ddof 0) of dev and test accuracy and training time."""
    summary = {}
    for key in ("test_accuracy", "validation_accuracy", "train_seconds"):
        values = [r[key] for r in runs]
        summary[f"{key}_mean"] = round(float(np.mean(values)), 2)
        summary[f"{key}_std"] = round(float(np.std(values)), 2)
    return summary


def run_variant(variant, config, seeds, data_dir=None, verbose=0):
    """Trains `variant` once per seed in range(seeds) and evaluates it.

    Returns:
        dict(parameters, per_seed=[metrics per seed], means and stds).
    """
    data = task.load_data(config, data_dir)
    vocabulary = task.build_vocabulary(data.texts["train"], config["model"]["standardize"],
                                       config.get("max_tokens"))
    subwords = task.build_subwords(vocabulary, config["model"].get("subword_lengths"))
    # Built before any seed is set, so it does not shift the runs' random streams.
    reference = zoo_classifier(config, vocabulary, subwords, data.class_names)
    parameters = count_parameters(reference)
    arch = architecture(reference)
    runs = []
    for seed in range(seeds):
        if variant == "zoo":
            model, data, history, seconds = train_zoo(config, seed, data_dir, verbose)
        else:
            model, history, seconds = train_baseline(variant, config, seed, data, vocabulary,
                                                     subwords, arch, verbose)
        metrics = run_metrics(seed, model, data, history, seconds)
        if metrics["parameters"] != parameters:
            raise AssertionError(f"{variant} has {metrics['parameters']:,} trainable parameters, "
                                 f"the zoo entry {parameters:,}")
        runs.append(metrics)
        print(f"{variant} seed {seed}: test {metrics['test_accuracy']:.2f}, "
              f"dev {metrics['validation_accuracy']:.2f}, best epoch {metrics['best_epoch']}, "
              f"{metrics['train_seconds']:.0f} s", flush=True)
    sizes = {split: len(texts) for split, texts in data.texts.items()}
    return dict(parameters=parameters, architecture=arch, split_sizes=sizes, **summarise(runs),
                per_seed=runs)


# --- config, the keras-hub subprocess and the report -------------------------

def apply_overrides(config, overrides, name=NAME):
    """The benchmark's config: entry `name`'s training `config` with its
    preset's architecture as ``model`` (a benchmark's report records both),
    and `overrides` (a dict; its ``model`` dict merged key by key)."""
    overrides = dict(overrides or {})
    model = dict(zoo.info(name)["kwargs"], **config.get("model", {}), **overrides.pop("model", {}))
    return dict(config, **overrides, model=model)


def run_keras_hub(python, args):
    """The keras_hub variant, trained by this module in the keras-hub venv."""
    arguments = ["--variants", "keras_hub", "--seeds", str(args.seeds), "--verbose", str(args.verbose)]
    if args.data_dir:
        arguments += ["--data-dir", os.path.abspath(args.data_dir)]
    if args.config_overrides:
        arguments += ["--config-overrides", args.config_overrides]
    return report_io.run_in_baseline_venv(python, "benchmarks.transformer_sst2", arguments)


def check_parameters(results):
    """Every variant has the same number of trainable parameters and the same
    architecture (the keras_hub one was trained in another process)."""
    counts = {variant: result["parameters"] for variant, result in results.items()}
    if len(set(counts.values())) > 1:
        raise AssertionError(f"trainable parameter counts differ: {counts}")
    architectures = {json.dumps(result.get("architecture"), sort_keys=True) for result in results.values()}
    if len(architectures) > 1:
        raise AssertionError(f"architectures differ: {architectures}")


def markdown(report):
    v = report["versions"]
    hub = f", keras_hub {v['keras_hub']}" if "keras_hub" in v else ""
    first = next(iter(report["results"].values()))
    arch, sizes = first["architecture"], first["split_sizes"]
    lines = [
        "# SST-2: zoo transformer encoder vs keras MultiHeadAttention vs keras-hub blocks",
        "",
        f"{report['date']}, {report['machine']}, tensorflow {v['tensorflow']}, keras {v['keras']}{hub}. "
        f"Command: `{report['command']}`",
        "",
        f"Dataset {report['dataset']}: train {sizes['train']:,} / dev {sizes['validation']:,} / "
        f"test {sizes.get('test', 0):,} texts. Same classifier and training "
        f"(`pipelines.text_classification.fit`, config `{NAME}`): blocks {arch['num_layers']}, "
        f"heads {arch['num_heads']}, d {arch['hidden_dim']}, ff {arch['ff_dim']}, "
        f"dropout {arch['dropout']}, norm_first {arch['norm_first']}, "
        f"{arch['position_encoding']} positions, max_length {arch['max_length']}; "
        f"at most {report['config']['max_epochs']} epochs, early stopping on dev accuracy. "
        f"Accuracy (%) of the best-dev epoch, mean ± std (ddof 0) over seeds {report['seeds']}.",
        "",
        "| variant | parameters | test acc | dev acc | per-seed test | s per run |",
        "|---|---|---|---|---|---|",
    ]
    for variant, r in report["results"].items():
        per_seed = ", ".join(f"{run['test_accuracy']:.2f}" for run in r["per_seed"])
        lines.append(
            f"| {variant} | {r['parameters']:,} "
            f"| {r['test_accuracy_mean']:.2f} ± {r['test_accuracy_std']:.2f} "
            f"| {r['validation_accuracy_mean']:.2f} ± {r['validation_accuracy_std']:.2f} "
            f"| {per_seed} | {r['train_seconds_mean']:.0f} |")
    lines += ["", f"Anchor: {report['kim_2014']['test_accuracy']} test accuracy, "
              f"{report['kim_2014']['citation']}.", ""]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", help="FILE.json (FILE.md is written too)")
    parser.add_argument("--seeds", type=int, default=3, help="runs per variant, seeds 0..N-1")
    parser.add_argument("--keras-hub-python", help="python of the venv made by setup_keras_hub_baseline.sh")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS,
                        help="default: zoo keras_mha, and keras_hub with --keras-hub-python")
    parser.add_argument("--data-dir", help="folder with SST-2's train/dev/test.tsv")
    parser.add_argument("--verbose", type=int, default=0, choices=(0, 1, 2), help="of Keras fit")
    # For smoke runs (e.g. toy TSV files and a tiny model): a JSON dict merged
    # into the config, its "model" key by key; recorded with the config.
    parser.add_argument("--config-overrides", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help="write the raw results only (the keras-hub subprocess)")
    args = parser.parse_args(argv)
    if not (args.output or args.json_out):
        parser.error("--output is required")
    if args.seeds < 1:
        parser.error("--seeds must be >= 1")
    if args.variants is None:
        args.variants = ["zoo", "keras_mha"] + (["keras_hub"] if args.keras_hub_python else [])
    if "keras_hub" in args.variants and not (args.keras_hub_python or args.json_out):
        parser.error("keras_hub runs in its own venv: pass --keras-hub-python")
    return args


def main(argv=None):
    args = parse_args(argv)
    config = apply_overrides(get_config(NAME), json.loads(args.config_overrides or "{}"))
    results = {}
    if "keras_hub" in args.variants and not args.json_out:
        # keras-hub first: a broken or mismatched venv fails before the long part.
        hub = run_keras_hub(args.keras_hub_python, args)
        results["keras_hub"] = hub["results"]["keras_hub"]
        hub_version = hub["versions"]["keras_hub"]
    for variant in args.variants:
        if variant not in results:
            results[variant] = run_variant(variant, config, args.seeds, args.data_dir, args.verbose)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dict(versions=report_io.versions(), results=results), f, indent=2)
        return

    # In the order asked for, whichever process trained them.
    results = {variant: results[variant] for variant in args.variants}
    check_parameters(results)
    found = report_io.versions()
    if "keras_hub" in results:
        found["keras_hub"] = hub_version
    report = dict(
        benchmark="transformer_sst2",
        **report_io.metadata("benchmarks.transformer_sst2", argv),
        versions=found,
        dataset="SST-2" if config["dataset"] == "sst2" and not config.get("files")
        else "TSV files " + ", ".join(config["files"].values()),
        seeds=list(range(args.seeds)),
        config=config,
        kim_2014=KIM_2014,
        results=results,
    )
    text = markdown(report)
    report_io.write(args.output, report, text)
    print(text)


if __name__ == "__main__":
    main()
