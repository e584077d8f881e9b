"""Seq2seq spa→eng: no attention vs the attention scores dot, bilinear,
additive and qkv, at an equal training budget.

    python -m benchmarks.seq2seq_scores --output benchmarks/results/seq2seq_scores.json \\
        [--epochs 2] [--max-train-pairs N] [--scores none,dot,bilinear,additive,qkv] \\
        [--seed 0] [--data-dir DIR] [--decode-batches 10]

Every variant is the entry `seq2seq_attn_spa_eng` (its config's model) with
only the decoder's score changed, or `use_attention=False` for ``none``
(c = h_n). The data (Tatoeba spa-eng, or the first `--max-train-pairs`
training pairs) and the vocabularies built from it are shared; each variant
is seeded the same (`keras.utils.set_random_seed`, the shuffling seed) and
trained by `pipelines.translation.fit` for exactly `--epochs` epochs (the
patience is raised so early stopping never ends a run early; the weights of
the epoch with the lowest validation loss are kept, as in the zoo's
training).

Measured per variant:
  - test BLEU and chrF (lower-cased sacreBLEU corpus scores) of greedy and
    beam-4 decoding (`translation.translate_all`, `corpus_scores`);
  - training: seconds of `fit` (every epoch with its validation pass), and
    target tokens/s: the non-padding label tokens of one pass over the
    training batches × epochs, over the seconds spent in training steps
    (validation passes excluded);
  - decoding speed, sentences/s at batch 64: `model.generate` in one
    `tf.function` per beam width (1 and 4), traced once and warmed up on
    one batch, then timed over `--decode-batches` batches of test sentences
    (a fixed random sample; ids from `model.preprocessor.source_ids` beforehand, so
    tokenising and detokenising are not timed), and for greedy also the
    whole string → string path (`model.translate_strings` in a tf.function).

The best attention variant (beam-4 BLEU) draws its alignments of two fixed
test sentences as PNG heatmaps next to the JSON (seq2seq_scores_<score>_<i>.png).
Writes FILE.json (per-variant results, config, date, machine, command,
versions) and FILE.md.
"""

import argparse
import dataclasses
import os
import time

# Quiet TensorFlow's C++ start-up banner; must be set before TF is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from benchmarks import report as report_io  # noqa: E402
from benchmarks.transformer_sst2 import apply_overrides  # noqa: E402
from pipelines import translation as task  # noqa: E402
from pipelines.configs import get_config  # noqa: E402

NAME = "seq2seq_attn_spa_eng"
SCORES = ("none", "dot", "bilinear", "additive", "qkv")
DECODE_BATCH = 64
FIGURE_SENTENCES = 2
REFERENCE = ("TF nmt_with_attention tutorial on this machine (issue 4): BLEU 37.3 / chrF 51.6 "
             "with attention, 22.5 / 36.7 without; compiled greedy decoding about 830 "
             "sentences/s at batch 64")


class TrainingClock(keras.callbacks.Callback):
    """Seconds of the whole `fit`, and of its training steps only (from
    each epoch's start to its validation pass)."""

    def on_train_begin(self, logs=None):
        self.start, self.step_seconds = time.perf_counter(), 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_test_begin(self, logs=None):
        self.step_seconds += time.perf_counter() - self.epoch_start

    def on_train_end(self, logs=None):
        self.seconds = time.perf_counter() - self.start


def target_tokens_per_epoch(model, data, config, seed):
    """Non-padding label tokens in one pass over the training batches."""
    train = task.batches(model, data.sources["train"], data.targets["train"],
                         config["batch_size"], shuffle=True, seed=seed)
    return int(train.reduce(tf.constant(0, tf.int64), lambda n, batch: n + tf.math.count_nonzero(batch[2])))


def sentences_per_second(function, batches):
    """`function` over `batches` (one warm-up call first), sentences/s."""
    function(batches[0]).numpy()  # traces the graph
    start = time.perf_counter()
    sentences = sum(len(function(batch).numpy()) for batch in batches)
    return round(sentences / (time.perf_counter() - start), 1)


def decoding_speed(model, texts):
    """Sentences/s of compiled greedy and beam-4 `generate` on token ids,
    and of greedy `translate_strings` on strings; `texts` in batches of 64."""
    text_batches = [tf.constant(texts[i:i + DECODE_BATCH]) for i in range(0, len(texts), DECODE_BATCH)]
    token_batches = [model.preprocessor.source_ids(batch)[0] for batch in text_batches]
    # A fixed signature: one trace per function, whatever the batch's width.
    ids = [tf.TensorSpec([None, None], tf.int32)]
    greedy = tf.function(lambda tokens: model.generate(tokens, beam_width=1)["tokens"], input_signature=ids)
    beam4 = tf.function(lambda tokens: model.generate(tokens, beam_width=4)["tokens"], input_signature=ids)
    strings = tf.function(lambda batch: model.translate_strings(batch)["translation"],
                          input_signature=[tf.TensorSpec([None], tf.string)])
    return dict(greedy_sentences_per_second=sentences_per_second(greedy, token_batches),
                beam4_sentences_per_second=sentences_per_second(beam4, token_batches),
                greedy_strings_sentences_per_second=sentences_per_second(strings, text_batches))


def run_variant(score, data, vocabularies, config, seed, epochs, decode_texts, figure_texts, verbose):
    """Trains and measures one variant; returns (results, alignments of
    `figure_texts` or None without attention)."""
    use_attention = score != "none"
    model_kwargs = dict(config["model"], use_attention=use_attention)
    if use_attention:
        model_kwargs["score"] = score
    keras.utils.set_random_seed(seed)
    model = zoo.load(NAME, weights=None, **vocabularies, **model_kwargs)
    clock = TrainingClock()
    history = task.fit(model, data, config, seed, epochs=epochs, verbose=verbose,
                       extra_callbacks=[clock])
    result = dict(score=score, use_attention=use_attention,
                  parameters=int(sum(np.prod(w.shape) for w in model.trainable_weights)),
                  epochs=history.epochs_run, best_epoch=history.best_epoch,
                  train_seconds=round(clock.seconds, 1), train_step_seconds=round(clock.step_seconds, 1))
    result["train_target_tokens_per_second"] = round(
        target_tokens_per_epoch(model, data, config, seed) * history.epochs_run / clock.step_seconds, 1)
    for width, name in ((1, "greedy"), (4, "beam4")):
        hypotheses = task.translate_all(model, data.sources["test"], beam_width=width)
        for metric, value in task.corpus_scores(hypotheses, data.targets["test"]).items():
            result[f"{metric}_{name}"] = value
    result.update(decoding_speed(model, decode_texts))
    alignments = model.translate(figure_texts, beam_width=4, return_attention=True) if use_attention else None
    print(f"{score}: " + ", ".join(f"{k} {v}" for k, v in result.items() if k != "score"), flush=True)
    return result, alignments


def figures(score, translations_and_alignments, folder):
    """PNG heatmaps (target words × source words) of one variant's alignments."""
    from zoo import viz  # matplotlib only here

    paths = []
    for i, (translation, alignment) in enumerate(zip(*translations_and_alignments)):
        path = os.path.join(folder, f"seq2seq_scores_{score}_{i}.png")
        viz.plot_attention_heatmap(alignment["attention"], query_tokens=alignment["target"],
                                   key_tokens=alignment["source"], path=path, title=translation)
        paths.append(path)
    return paths


def markdown(report):
    v = report["versions"]
    lines = [
        "# Seq2seq spa→eng: attention scores vs no attention, equal budget",
        "",
        f"{report['date']}, {report['machine']}, tensorflow {v['tensorflow']}, keras {v['keras']}. "
        f"Command: `{report['command']}`",
        "",
        f"Tatoeba spa-eng: {report['split_sizes']['train']:,} training pairs, "
        f"{report['split_sizes']['test']:,} test pairs. Config `{NAME}` with only the score changed; "
        f"epochs: {report['epochs']} each, seed {report['seed']}, weights of the lowest validation loss. "
        "BLEU and chrF: lower-cased corpus sacreBLEU on the test split. Decoding: sentences/s at "
        f"batch {DECODE_BATCH} over {report['decode_batches']} batches of test sentences, tf.function "
        "on token ids (string → string: tokenising and detokenising included).",
        "",
        "| variant | BLEU greedy | BLEU beam4 | chrF greedy | chrF beam4 | train s | train target tokens/s "
        "| greedy sent/s | beam4 sent/s | greedy string→string sent/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['score']} | {r['bleu_greedy']:.1f} | {r['bleu_beam4']:.1f} | {r['chrf_greedy']:.1f} "
            f"| {r['chrf_beam4']:.1f} | {r['train_seconds']:.0f} | {r['train_target_tokens_per_second']:,.0f} "
            f"| {r['greedy_sentences_per_second']:.0f} | {r['beam4_sentences_per_second']:.0f} "
            f"| {r['greedy_strings_sentences_per_second']:.0f} |")
    lines += ["", f"Reference, not measured in this run: {REFERENCE}.", ""]
    if report["figures"]:
        lines += [f"Alignments of `{report['figure_score']}` (beam 4):", ""]
        lines += [f"![{p}]({p})" for p in report["figures"]]
    return "\n".join(lines) + "\n"


def run(output, argv=None, epochs=2, max_train_pairs=None, scores=SCORES, seed=0, data_dir=None,
        decode_batches=10, config_overrides=None, verbose=2):
    """The benchmark: trains and measures every score in `scores`, writes
    `output` (.json), the markdown and the figures beside it; returns the report."""
    config = apply_overrides(get_config(NAME), config_overrides, NAME)
    config["patience"] = epochs  # early stopping never ends a run before `epochs`
    data = task.load_data(config, data_dir)
    if max_train_pairs:
        data = dataclasses.replace(data, sources=dict(data.sources, train=data.sources["train"][:max_train_pairs]),
                                   targets=dict(data.targets, train=data.targets["train"][:max_train_pairs]))
    vocabularies = dict(
        source_vocabulary=task.build_vocabulary(data.sources["train"], config["max_source_tokens"]),
        target_vocabulary=task.build_vocabulary(data.targets["train"], config["max_target_tokens"],
                                                add_start_end=True))
    test = data.sources["test"]
    # The test split is in file order (by length): sample it for typical batches.
    sample = np.random.default_rng(0).choice(len(test), decode_batches * DECODE_BATCH,
                                             replace=len(test) < decode_batches * DECODE_BATCH)
    decode_texts = [test[i] for i in sample]
    figure_texts = [test[len(test) * (i + 1) // (FIGURE_SENTENCES + 1)] for i in range(FIGURE_SENTENCES)]

    results, alignments = [], {}
    for score in scores:
        result, alignments[score] = run_variant(score, data, vocabularies, config, seed, epochs,
                                                decode_texts, figure_texts, verbose)
        results.append(result)
    attending = [r for r in results if r["use_attention"]]
    best = max(attending, key=lambda r: r["bleu_beam4"])["score"] if attending else None
    folder = os.path.dirname(os.path.abspath(output))
    paths = figures(best, alignments[best], folder) if best else []
    report = dict(
        benchmark="seq2seq_scores",
        **report_io.metadata("benchmarks.seq2seq_scores", argv),
        versions=report_io.versions(),
        split_sizes={split: len(sources) for split, sources in data.sources.items()},
        config=config, epochs=epochs, seed=seed, max_train_pairs=max_train_pairs,
        decode_batch_size=DECODE_BATCH, decode_batches=decode_batches,
        results=results, reference=REFERENCE,
        figure_score=best, figure_sentences=figure_texts,
        figures=[os.path.relpath(p, folder) for p in paths],
    )
    report_io.write(output, report, markdown(report))
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="FILE.json (FILE.md and PNGs beside it)")
    parser.add_argument("--epochs", type=int, default=2, help="of every variant")
    parser.add_argument("--max-train-pairs", type=int,
                        help="the first N training pairs (the file is sorted by length: the shortest; "
                             "default: all)")
    parser.add_argument("--scores", default=",".join(SCORES), help="comma-separated, from " + ",".join(SCORES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="folder of the Tatoeba download")
    parser.add_argument("--decode-batches", type=int, default=10, help="timed batches of 64")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2), help="of Keras fit")
    args = parser.parse_args(argv)
    scores = args.scores.split(",")
    if set(scores) - set(SCORES):
        parser.error(f"unknown scores {sorted(set(scores) - set(SCORES))}, expected some of {SCORES}")
    if args.epochs < 1 or args.decode_batches < 1:
        parser.error("--epochs and --decode-batches must be >= 1")
    report = run(args.output, argv, epochs=args.epochs, max_train_pairs=args.max_train_pairs, scores=scores,
                 seed=args.seed, data_dir=args.data_dir, decode_batches=args.decode_batches,
                 verbose=args.verbose)
    print(markdown(report))


if __name__ == "__main__":
    main()
