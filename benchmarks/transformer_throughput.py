"""Transformer encoder throughput: zoo vs keras' MultiHeadAttention vs keras-hub.

    .venv-hub/bin/python -m benchmarks.transformer_throughput \\
        --output benchmarks/results/transformer_throughput.json \\
        [--only VARIANT ...] [--keras-hub-python PY] [--shapes small large] \\
        [--steps 20] [--warmup 5] [--repeats 3] [--xla both|on|off]

Measures training and inference tokens/s of three text classifiers with the
same architecture, parameter count, shapes and data, in the same run:

    token embedding + learned position embedding
    -> L post-norm transformer encoder blocks (H heads, key_dim = d / H,
       ReLU feed-forward of width ff, dropout 0.1, layer-norm epsilon 1e-5)
    -> masked mean pooling -> Dense(2)

The variants differ only in the block:
  zoo        `zoo.layers.TransformerEncoderBlock(norm_first=False)`, padding
             mask passed as `mask=` (bool [B, T]). By default it runs the
             projections, feed-forward network, layer norms and residual
             dropout on the real tokens only (`skip_padding`; not under XLA,
             where it computes every position).
  zoo_dense  the same block with `skip_padding=False`: every position, as
             the other two compute; it shows what the block's code alone is
             worth, apart from skipping padding.
  keras_mha  the same block written with `keras.layers.MultiHeadAttention`
             + LayerNormalization + Dense(ff, relu) + Dense(d) + residual
             Dropout, called with `padding_mask=`; keras' MHA gets it as a
             [B, T, T] `attention_mask` (query and key padding, as zoo masks
             it: MHA ignores an explicit `query_mask=`).
  keras_hub  `keras_hub.layers.TransformerEncoder(normalize_first=False)`
             with `padding_mask=` (it masks only the keys, [B, 1, T]).
Every model is asserted to have exactly the analytic parameter count
(`expected_parameters`), so all variants have the same number of trainable
parameters. The pooled output ignores padded positions, which no real token
attends to, so the three compute the same function up to initialisation.

keras_hub is not installed in the main environment. The benchmark's own
venv, made by `benchmarks/setup_keras_hub_baseline.sh`, has keras-hub on the
same pinned tensorflow and keras; run from the repository root with that
venv's Python, every variant (zoo from the source tree) is built and timed
in one process, in the same interleaved rounds. That is the way to compare
them: run from the main venv with `--keras-hub-python`, keras_hub instead
runs in a subprocess (`--only keras_hub --json-out F`, this very harness),
timed apart from the others, at another minute of the machine's drift.
This module therefore imports neither zoo nor keras_hub at import time (each
is imported when its variant is built).

Data: synthetic token ids in [1, 20000) with a padding mask of random
lengths uniform in [T/4, T] (fixed seed; id 0 = padding after the length),
random binary labels; the same batch for every variant and step.

Timing: each model is compiled with Adam and
SparseCategoricalCrossentropy(from_logits=True), jit_compile False (TF
graph) and/or True (XLA). Training calls Keras' own compiled train function
(`model.train_function`, the step `fit` runs) on an iterator over a
repeated one-batch tf.data dataset; inference calls the compiled
`model.predict_function` on the batch. Both skip fit's and predict's
per-step callbacks and data handling, the same for all variants. After
`--warmup` untimed steps (tracing, XLA compilation), `--steps` steps are
timed `--repeats` times, in rounds that alternate between the variants of
this process (the machine's speed drifts by ±20 %); tokens/s = batch ×
length × steps / median seconds, padded tokens included. All repeats are
recorded.

FLOPs (analytic, matmuls only; embeddings, softmax, layer norms and the
head are left out): forward per layer 2·N·(4·d² + 2·d·ff) + 4·B·T²·d,
a training step = 3 × forward, where N is the number of positions the
variant computes the projections on: B·T, or for zoo without XLA the real
(unpadded) tokens of the batch. GFLOP/s are thus the FLOPs each variant
executes, never credit for the padding it skips; tokens/s count every
position, padded or not, for every variant. Achieved GFLOP/s is compared with the float32
SGEMM peak measured in the same run (tf.matmul of two N×N matrices in a
tf.function, best of several runs, N = 2048 by default).

Ratios zoo / keras_mha, zoo / keras_hub (and zoo_dense / each) of training and inference
tokens/s per shape and XLA setting (> 1: zoo is faster). Writes FILE.json
and FILE.md (`benchmarks/report.py`).
"""

import argparse
import importlib.util
import json
import os
import statistics
import time

# Quiet TensorFlow's C++ start-up banner; must be set before TF is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from benchmarks import report as report_io  # noqa: E402

SHAPES = dict(
    small=dict(batch=64, length=64, dim=128, heads=4, ff_dim=512, layers=2),
    large=dict(batch=32, length=256, dim=256, heads=4, ff_dim=1024, layers=4),
    tiny=dict(batch=2, length=8, dim=16, heads=2, ff_dim=32, layers=1),  # smoke tests only
)
VARIANTS = ("zoo", "zoo_dense", "keras_mha", "keras_hub")
VOCABULARY = 20000
NUM_CLASSES = 2
DROPOUT = 0.1
LAYER_NORM_EPSILON = 1e-5  # zoo's and keras-hub's default (keras' is 1e-3)
FLOPS_FORMULA = ("forward per layer 2·N·(4·d² + 2·d·ff) + 4·B·T²·d (matmuls only), N = positions "
                 "projected: B·T, or the real tokens for zoo without XLA; training step = 3 × forward")
TOKENS_NOTE = "tokens = batch × length per step, padded tokens included"


# --- data --------------------------------------------------------------------

def synthetic_batch(shape, vocabulary=VOCABULARY, seed=0):
    """Token ids int32 [B, T] (0 = padding after a random length in [T/4, T])
    and binary labels int32 [B]."""
    rng = np.random.default_rng(seed)
    batch, length = shape["batch"], shape["length"]
    tokens = rng.integers(1, vocabulary, size=(batch, length), dtype=np.int32)
    lengths = rng.integers(max(1, length // 4), length + 1, size=batch)
    tokens[np.arange(length)[None, :] >= lengths[:, None]] = 0
    labels = rng.integers(0, NUM_CLASSES, size=batch, dtype=np.int32)
    return tokens, labels


# --- models ------------------------------------------------------------------

class KerasMHABlock(keras.layers.Layer):
    """zoo's TransformerEncoderBlock built from keras' own layers. Post-norm
    (default): x = LN(h + Drop(MHA(h))); y = LN(x + Drop(W₂ relu(W₁ x + b₁) + b₂)).
    With ``norm_first``: x = h + Drop(MHA(LN(h))); y = x + Drop(FF(LN(x)))."""

    def __init__(self, dim, num_heads, ff_dim, dropout, norm_first=False, **kwargs):
        super().__init__(**kwargs)
        self.norm_first = norm_first
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=num_heads, key_dim=dim // num_heads, dropout=dropout, name="attention")
        self.attention_norm = keras.layers.LayerNormalization(
            epsilon=LAYER_NORM_EPSILON, name="attention_norm")
        self.ff_hidden = keras.layers.Dense(ff_dim, activation="relu", name="ff_hidden")
        self.ff_output = keras.layers.Dense(dim, name="ff_output")
        self.ff_norm = keras.layers.LayerNormalization(epsilon=LAYER_NORM_EPSILON, name="ff_norm")
        self.residual_dropout = keras.layers.Dropout(dropout)

    def call(self, inputs, padding_mask=None, return_attention_scores=False, training=None):
        # keras' MHA reads query_mask only from the query's Keras mask (an
        # explicit query_mask= is overwritten), so the padding mask goes in as
        # the [B, T, T] attention mask zoo builds from query and key padding.
        # (Named padding_mask, not mask: Keras would warn that this layer drops
        # the mask, or with supports_masking attach it to the output, and the
        # next block's MHA would merge it in a second time.)
        attention_mask = None
        if padding_mask is not None:
            attention_mask = ops.logical_and(padding_mask[:, :, None], padding_mask[:, None, :])
        x = self.attention_norm(inputs) if self.norm_first else inputs
        # Scores only when asked: asking may take MHA off its fused path.
        x = self.attention(x, x, attention_mask=attention_mask,
                           return_attention_scores=return_attention_scores, training=training)
        x, weights = x if return_attention_scores else (x, None)
        x = inputs + self.residual_dropout(x, training=training)
        if not self.norm_first:
            x = self.attention_norm(x)
        y = self.ff_norm(x) if self.norm_first else x
        y = x + self.residual_dropout(self.ff_output(self.ff_hidden(y)), training=training)
        if not self.norm_first:
            y = self.ff_norm(y)
        return (y, weights) if return_attention_scores else y


def make_block(variant, shape):
    """One encoder block of `variant`, and the keyword its padding mask goes by."""
    dim, heads, ff_dim = shape["dim"], shape["heads"], shape["ff_dim"]
    if variant in ("zoo", "zoo_dense"):
        from zoo.layers import TransformerEncoderBlock  # the source tree's, in the keras-hub venv

        block = TransformerEncoderBlock(num_heads=heads, key_dim=dim // heads, ff_dim=ff_dim,
                                        dropout=DROPOUT, norm_first=False,
                                        skip_padding=variant == "zoo")
        return block, "mask"
    if variant == "keras_mha":
        return KerasMHABlock(dim, heads, ff_dim, DROPOUT), "padding_mask"
    if variant == "keras_hub":
        import keras_hub  # only in the benchmark's venv

        block = keras_hub.layers.TransformerEncoder(
            intermediate_dim=ff_dim, num_heads=heads, dropout=DROPOUT, activation="relu",
            layer_norm_epsilon=LAYER_NORM_EPSILON, normalize_first=False)
        return block, "padding_mask"
    raise ValueError(f"unknown variant {variant!r}, expected one of {VARIANTS}")


class Encoder(keras.Model):
    """Embeddings -> encoder blocks of one variant -> masked mean -> Dense(2)."""

    def __init__(self, variant, shape, vocabulary=VOCABULARY, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = keras.layers.Embedding(vocabulary, shape["dim"])
        self.position_embedding = keras.layers.Embedding(shape["length"], shape["dim"])
        blocks = [make_block(variant, shape) for _ in range(shape["layers"])]
        self.blocks = [block for block, _ in blocks]
        self.mask_keyword = blocks[0][1]
        self.head = keras.layers.Dense(NUM_CLASSES)

    def call(self, token_ids, training=None):
        mask = ops.not_equal(token_ids, 0)  # [B, T], True for real tokens
        positions = self.position_embedding(ops.arange(ops.shape(token_ids)[1]))
        x = self.token_embedding(token_ids) + positions[None]
        for block in self.blocks:
            x = block(x, training=training, **{self.mask_keyword: mask})
        weights = ops.cast(mask, x.dtype)[..., None]
        pooled = ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return self.head(pooled)


def expected_parameters(shape, vocabulary=VOCABULARY):
    """Trainable parameters of the shared architecture (Q, K, V, O projections
    of size d × d with biases, as H · key_dim = d)."""
    d, ff = shape["dim"], shape["ff_dim"]
    per_layer = 4 * (d * d + d) + (d * ff + ff) + (ff * d + d) + 2 * 2 * d
    return (vocabulary + shape["length"]) * d + shape["layers"] * per_layer + d * NUM_CLASSES + NUM_CLASSES


def count_parameters(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def build_model(variant, shape, tokens, jit_compile, vocabulary=VOCABULARY, seed=0):
    """A compiled Encoder of `variant`, built on `tokens`, its size checked."""
    keras.utils.set_random_seed(seed)
    model = Encoder(variant, shape, vocabulary, name=f"encoder_{variant}")
    model(tokens)  # builds the weights
    parameters = count_parameters(model)
    expected = expected_parameters(shape, vocabulary)
    assert parameters == expected, f"{variant}: {parameters} parameters, expected {expected}"
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit_compile)
    return model


# --- timing ------------------------------------------------------------------

def forward_flops(shape, positions=None):
    """Matmul FLOPs of one forward pass over one batch, with the projections
    on `positions` of the B·T positions (default all; see the module docstring)."""
    b, t, d, ff = shape["batch"], shape["length"], shape["dim"], shape["ff_dim"]
    positions = b * t if positions is None else positions
    return shape["layers"] * (2 * positions * (4 * d * d + 2 * d * ff) + 4 * b * t * t * d)


def executed_forward_flops(variant, shape, tokens, jit_compile):
    """`forward_flops` of what `variant` computes: zoo skips the padding
    (token id 0) outside XLA."""
    skips = variant == "zoo" and not jit_compile
    return forward_flops(shape, int(np.count_nonzero(tokens)) if skips else None)


def _wait(outputs):
    # TF runs functions synchronously on the CPU; fetching the result makes
    # sure the last step has finished before the clock stops.
    for tensor in tf.nest.flatten(outputs):
        np.asarray(tensor)


def time_steps(step, steps, warmup, repeats):
    """Seconds for `steps` calls of `step`, `repeats` times, after `warmup` calls."""
    return time_interleaved({"step": step}, steps, warmup, repeats)["step"]


def time_interleaved(steps_by_name, steps, warmup, repeats):
    """Seconds for `steps` calls of each step function, `repeats` rounds,
    after `warmup` calls of each. The rounds alternate between the
    functions, so a slow phase of the machine (seen here: ±20 % from one
    minute to the next) hits every variant alike."""
    for step in steps_by_name.values():
        for _ in range(warmup):
            outputs = step()
        _wait(outputs)
    seconds = {name: [] for name in steps_by_name}
    for _ in range(repeats):
        for name, step in steps_by_name.items():
            start = time.perf_counter()
            for _ in range(steps):
                outputs = step()
            _wait(outputs)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def summarize(seconds, shape, steps, flops_per_step):
    """tokens/s and GFLOP/s from the median repeat."""
    median = statistics.median(seconds)
    return dict(
        steps=steps,
        seconds=[round(s, 4) for s in seconds],
        tokens_per_second=round(shape["batch"] * shape["length"] * steps / median, 1),
        gflops=round(flops_per_step * steps / median / 1e9, 2),
    )


def train_step(model, tokens, labels):
    """Keras' compiled train step of `model`, on a repeated batch."""
    dataset = tf.data.Dataset.from_tensors((tokens, labels)).repeat()
    # One fit step builds the optimizer and metric variables outside of the
    # traced step (calling train_function first would create them inside it).
    model.fit(dataset, steps_per_epoch=1, epochs=1, verbose=0, shuffle=False)
    iterator = iter(dataset)
    return lambda: model.train_function(iterator)


def predict_step(model, tokens):
    """Keras' compiled predict step of `model` on the batch."""
    model.make_predict_function()
    batch = [tf.constant(tokens)]  # predict_function takes a list of batches
    return lambda: model.predict_function(batch)


def measure_variants(variants, shape, jit_compile, steps, warmup, repeats, vocabulary=VOCABULARY):
    """Training and inference throughput of each variant at one shape and
    XLA setting, timed in interleaved rounds (`time_interleaved`)."""
    tokens, labels = synthetic_batch(shape, vocabulary)
    models = {v: build_model(v, shape, tokens, jit_compile, vocabulary) for v in variants}
    train = time_interleaved({v: train_step(m, tokens, labels) for v, m in models.items()},
                             steps, warmup, repeats)
    predict = time_interleaved({v: predict_step(m, tokens) for v, m in models.items()},
                               steps, warmup, repeats)
    results = {}
    for v, m in models.items():
        forward = executed_forward_flops(v, shape, tokens, jit_compile)
        results[v] = dict(parameters=count_parameters(m),
                          train=summarize(train[v], shape, steps, 3 * forward),
                          predict=summarize(predict[v], shape, steps, forward))
    return results


def xla_key(jit_compile):
    return "xla_on" if jit_compile else "xla_off"


def measure(variants, shape_names, xla_settings, steps, warmup, repeats):
    """results[shape][xla_on|xla_off][variant] for every combination."""
    results = {}
    for name in shape_names:
        for jit_compile in xla_settings:
            by_variant = measure_variants(variants, SHAPES[name], jit_compile, steps, warmup, repeats)
            results.setdefault(name, {})[xla_key(jit_compile)] = by_variant
            for variant, result in by_variant.items():
                print(f"{name} {xla_key(jit_compile)} {variant}: "
                      f"train {result['train']['tokens_per_second']:,.0f} tokens/s, "
                      f"predict {result['predict']['tokens_per_second']:,.0f} tokens/s", flush=True)
    return results


def matmul_seconds(a_shape, b_shape, steps, repeats, transpose_b=False):
    """Seconds for `steps` float32 tf.matmuls of random a `a_shape` and b
    `b_shape` (batched when 3-D), `repeats` times (`time_steps`)."""
    a = tf.random.stateless_normal(a_shape, seed=(0, 0))
    b = tf.random.stateless_normal(b_shape, seed=(0, 1))
    # The sum makes the result a scalar, so fetching it costs nothing.
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b, transpose_b=transpose_b)))
    return time_steps(product, steps=steps, warmup=1, repeats=repeats)


def matmul_peak(size=2048, runs=5):
    """float32 SGEMM GFLOP/s of tf.matmul on size × size matrices, best of `runs`."""
    seconds = matmul_seconds((size, size), (size, size), steps=1, repeats=runs)
    return dict(size=size, runs=runs, seconds=[round(s, 4) for s in seconds],
                gflops=round(2 * size ** 3 / min(seconds) / 1e9, 2))


# --- the keras-hub subprocess and the report ---------------------------------

def run_keras_hub(python, args):
    """The keras_hub variant measured by this harness in the keras-hub venv."""
    return report_io.run_in_baseline_venv(python, "benchmarks.transformer_throughput", [
        "--only", "keras_hub", "--shapes", *args.shapes, "--steps", str(args.steps),
        "--warmup", str(args.warmup), "--repeats", str(args.repeats), "--xla", args.xla])


def add_fraction_of_peak(results, peak_gflops):
    for by_xla in results.values():
        for by_variant in by_xla.values():
            for result in by_variant.values():
                for mode in ("train", "predict"):
                    result[mode]["fraction_of_peak"] = round(result[mode]["gflops"] / peak_gflops, 4)


def ratios(results):
    """zoo / other and zoo_dense / other tokens/s, per shape, XLA setting and
    mode (> 1: zoo faster)."""
    out = {}
    for shape, by_xla in results.items():
        for xla, by_variant in by_xla.items():
            for ours in ("zoo", "zoo_dense"):
                for other in ("keras_mha", "keras_hub"):
                    if ours in by_variant and other in by_variant:
                        out.setdefault(shape, {}).setdefault(xla, {})[f"{ours}/{other}"] = {
                            mode: round(by_variant[ours][mode]["tokens_per_second"]
                                        / by_variant[other][mode]["tokens_per_second"], 3)
                            for mode in ("train", "predict")}
    return out


def markdown(report):
    v = report["versions"]
    hub = f", keras_hub {v['keras_hub']}" if "keras_hub" in v else ""
    peak = report["matmul_peak"]
    lines = [
        "# Transformer encoder throughput: zoo vs keras MultiHeadAttention vs keras-hub",
        "",
        f"{report['date']}, {report['machine']}, tensorflow {v['tensorflow']}, keras {v['keras']}{hub}. "
        f"Command: `{report['command']}`",
        "",
        f"float32 SGEMM peak (tf.matmul {peak['size']}×{peak['size']}, best of {peak['runs']}): "
        f"**{peak['gflops']:.1f} GFLOP/s**. {report['steps']} steps × {report['repeats']} repeats "
        f"after {report['warmup']} warm-up steps; median repeat. {TOKENS_NOTE}.",
    ]
    for shape, by_xla in report["results"].items():
        s = report["shapes"][shape]
        lines += ["", f"## {shape}: batch {s['batch']}, length {s['length']}, d {s['dim']}, "
                      f"{s['heads']} heads, ff {s['ff_dim']}, {s['layers']} layers", "",
                  "| XLA | variant | parameters | train tokens/s | train GFLOP/s | % peak "
                  "| predict tokens/s | predict GFLOP/s | % peak |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for xla, by_variant in by_xla.items():
            for variant, r in by_variant.items():
                t, p = r["train"], r["predict"]
                lines.append(
                    f"| {xla[4:]} | {variant} | {r['parameters']:,} | {t['tokens_per_second']:,.0f} "
                    f"| {t['gflops']:.1f} | {100 * t['fraction_of_peak']:.1f} "
                    f"| {p['tokens_per_second']:,.0f} | {p['gflops']:.1f} | {100 * p['fraction_of_peak']:.1f} |")
        for xla, by_pair in report["ratios"].get(shape, {}).items():
            for pair, r in by_pair.items():
                lines.append(f"\n{pair} tokens/s, XLA {xla[4:]}: train **{r['train']:.2f}×**, "
                             f"predict **{r['predict']:.2f}×**")
    lines += ["", f"FLOPs: {FLOPS_FORMULA}.", ""]
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", help="FILE.json (FILE.md is written too)")
    parser.add_argument("--keras-hub-python", help="python of the venv made by setup_keras_hub_baseline.sh")
    parser.add_argument("--shapes", nargs="+", default=["small", "large"], choices=SHAPES)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per repeat")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (>= 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--xla", default="both", choices=("both", "on", "off"))
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--only", nargs="+", choices=VARIANTS,
                        help="variants to run in this process (default: all whose library imports here; "
                             "keras_hub in its subprocess with --keras-hub-python)")
    parser.add_argument("--json-out", help="write the raw measurements only (the keras-hub subprocess)")
    args = parser.parse_args(argv)
    if not (args.output or args.json_out):
        parser.error("--output is required")
    if min(args.steps, args.warmup, args.repeats) < 1:
        parser.error("--steps, --warmup and --repeats must be >= 1")
    if args.only is None:
        hub_here = importlib.util.find_spec("keras_hub") is not None and not args.keras_hub_python
        args.only = [v for v in VARIANTS if v != "keras_hub" or hub_here]
    if args.keras_hub_python and "keras_hub" in args.only:
        parser.error("keras_hub runs either here (--only) or in --keras-hub-python's venv, not both")
    return args


def main(argv=None):
    args = parse_args(argv)
    xla_settings = dict(both=[False, True], off=[False], on=[True])[args.xla]
    # keras-hub first: a broken or mismatched venv fails before the long part.
    hub = run_keras_hub(args.keras_hub_python, args) if args.keras_hub_python else None
    results = measure(args.only, args.shapes, xla_settings, args.steps, args.warmup, args.repeats)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(dict(versions=report_io.versions(), results=results), f, indent=2)
        return

    found = report_io.versions()
    if hub:
        found["keras_hub"] = hub["versions"]["keras_hub"]
        for shape, by_xla in hub["results"].items():
            for xla, by_variant in by_xla.items():
                results.setdefault(shape, {}).setdefault(xla, {}).update(by_variant)
    peak = matmul_peak(args.matmul_size)
    add_fraction_of_peak(results, peak["gflops"])
    report = dict(
        benchmark="transformer_throughput",
        **report_io.metadata("benchmarks.transformer_throughput", argv),
        versions=found,
        steps=args.steps, warmup=args.warmup, repeats=args.repeats,
        vocabulary=VOCABULARY, dropout=DROPOUT,
        tokens=TOKENS_NOTE, flops=FLOPS_FORMULA,
        shapes={name: SHAPES[name] for name in args.shapes},
        parameters={name: expected_parameters(SHAPES[name]) for name in args.shapes},
        matmul_peak=peak,
        results=results,
        ratios=ratios(results),
    )
    text = markdown(report)
    report_io.write(args.output, report, text)
    print(text)


if __name__ == "__main__":
    main()
