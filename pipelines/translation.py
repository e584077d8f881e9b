"""The translation task (seq2seq on Tatoeba spa→eng, or the user's own pair
file): tf.data input, teacher-forced training, BLEU and chrF, export.

Sentences are tokenised inside tf.data by the model's own preprocessor
(`Seq2SeqTranslator.preprocessor`: tensorflow-text normalisation and keras
`TextVectorization`), so training, `translate` and
the exported SavedModel read the same ids. Training batches are bucketed by
length and padded to the bucket's boundary: static shapes, little padding
(under `Runtime.static_shapes`, for TPUs, all padded to the longest length).
"""

import keras
import tensorflow as tf
from sacrebleu.metrics import BLEU, CHRF

import zoo
from pipelines import callbacks as zoo_callbacks
from pipelines import batching, serving_checks, settings
from pipelines.data import tatoeba
from pipelines.runtime import Runtime
from zoo.models.seq2seq.seq2seq_preprocessor import standardize
from zoo.models.word_tokenizer import with_start_end

# A batch holds pairs whose longer side has fewer tokens than its boundary.
BUCKET_BOUNDARIES = (8, 12, 16, 24, 32)


def load_data(config, data_dir=None):
    """Tatoeba spa-eng, or the pair file named in the config (``pairs_file``)."""
    if config.get("pairs_file"):
        return tatoeba.load_pairs_file(config["pairs_file"])
    if config["dataset"] != "tatoeba_spa_eng":
        raise ValueError(f"Unknown translation dataset {config['dataset']!r}: use "
                         "tatoeba_spa_eng, or pass --pairs FILE.")
    return tatoeba.load_tatoeba_spa_eng(data_dir)


def build_vocabulary(texts, max_tokens=None, add_start_end=False):
    """``["", "[UNK]", tokens by frequency...]`` of the standardised `texts`
    (with [START]/[END] for a target language), at most `max_tokens`."""
    def prepare(batch):
        batch = standardize(batch)
        return with_start_end(batch) if add_start_end else batch

    vectorizer = keras.layers.TextVectorization(max_tokens=max_tokens, standardize=None,
                                                split="whitespace")
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(4096).map(prepare))
    return vectorizer.get_vocabulary()


def pair_dataset(model, sources, targets):
    """(source ids `[n]`, target ids `[m]`) per pair, truncated to the
    model's lengths; the target is ``[START] … [END]``."""
    return (tf.data.Dataset.from_tensor_slices((sources, targets))
            .map(model.preprocessor.pair, num_parallel_calls=tf.data.AUTOTUNE))


def _teacher_forcing(source, target):
    """Padded batch → (inputs, next tokens, weights): the decoder reads
    ``[START] y_1 … y_m`` and predicts ``y_1 … y_m [END]``; padding weighs 0."""
    inputs = {"source_tokens": source, "target_tokens": target[:, :-1]}
    labels = target[:, 1:]
    return inputs, labels, tf.cast(labels != 0, tf.float32)


def _weighted_teacher_forcing(source, target, weight):
    """`_teacher_forcing`, every token of a pair also weighted by `weight` `[B]`."""
    inputs, labels, weights = _teacher_forcing(source, target)
    return inputs, labels, weights * weight[:, None]  # [B, m] * [B, 1]


def batches(model, sources, targets, batch_size, shuffle=False, seed=0, static_shapes=False):
    """Length-bucketed batches, padded to the bucket boundary (static shapes
    per bucket; training drops incomplete batches, evaluation keeps them).
    With `static_shapes` every batch is padded to the longest length: one
    shape, every dimension known (what a TPU compiles); training drops the
    incomplete batch, and evaluation fills it with copies of weight 0
    (`batching.full_batches`)."""
    longest = max(model.max_source_length, model.max_target_length + 1)
    if static_shapes and not shuffle:
        (sources, targets), weights = batching.full_batches([sources, targets], batch_size)
        dataset = (tf.data.Dataset.zip(pair_dataset(model, sources, targets),
                                       tf.data.Dataset.from_tensor_slices(weights))
                   .map(lambda pair, weight: (*pair, weight))
                   .cache()
                   .padded_batch(batch_size, padded_shapes=([longest], [longest], []),
                                 drop_remainder=True))
        return dataset.map(_weighted_teacher_forcing).prefetch(tf.data.AUTOTUNE)
    dataset = pair_dataset(model, sources, targets).cache()
    if shuffle:
        dataset = dataset.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True)
    if static_shapes:
        dataset = dataset.padded_batch(batch_size, padded_shapes=([longest], [longest]),
                                       drop_remainder=True)
    else:
        boundaries = [b for b in BUCKET_BOUNDARIES if b <= longest] + [longest + 1]
        dataset = dataset.bucket_by_sequence_length(
            lambda s, t: tf.maximum(tf.shape(s)[0], tf.shape(t)[0]), boundaries,
            [batch_size] * (len(boundaries) + 1), pad_to_bucket_boundary=True,
            drop_remainder=shuffle)
    return dataset.map(_teacher_forcing).prefetch(tf.data.AUTOTUNE)


def translate_all(model, sources, beam_width=1, batch_size=64):
    """Translations of every source sentence, in order."""
    translations = []
    for start in range(0, len(sources), batch_size):
        translations += model.translate(sources[start:start + batch_size], beam_width=beam_width)
    return translations


def corpus_scores(hypotheses, references):
    """Corpus BLEU (lower-cased, sacreBLEU's 13a tokenisation) and chrF."""
    return {"bleu": round(BLEU(lowercase=True).corpus_score(hypotheses, [references]).score, 2),
            "chrf": round(CHRF().corpus_score(hypotheses, [references]).score, 2)}


def evaluate(model, data, split="test", beam_widths=(1, 4)):
    """BLEU and chrF of greedy and beam decoding on `split`, against the raw
    reference sentences."""
    metrics = {}
    for width in beam_widths:
        hypotheses = translate_all(model, data.sources[split], beam_width=width)
        name = "greedy" if width == 1 else f"beam{width}"
        for metric, value in corpus_scores(hypotheses, data.targets[split]).items():
            metrics[f"{split}_{metric}_{name}"] = value
    return metrics


def evaluation_data(model, config, data_dir=None):
    """The data `evaluate` needs, for `pipelines.evaluate`."""
    return load_data(config, data_dir)


def warmup_inputs(config, data_dir=None):
    """TF Serving warm-up inputs for `pipelines.export`: the first test
    source sentences, as one text and as a batch of 8."""
    sources = load_data(config, data_dir).sources["test"]
    return [{"text": sources[:1]}, {"text": sources[1:9]}]


def serving(name, weights="trained", beam_width=1):
    """(what to track, serving function, input signature) for `pipelines.export`:
    text in; translation and its alignment `[B, T_out, T_in]` out."""
    model = zoo.load(name, weights=weights)

    def serve(text):
        text = serving_checks.batch_of_strings("text", text)  # as translate(): [B], UTF-8
        result = model.translate_strings(text, beam_width=beam_width)
        return {"translation": result["translation"], "attention": result["attention"]}

    # The tokenizers' lookup tables are not among the model's tracked layers.
    tables = model.preprocessor.lookup_layers
    # Any shape: a scalar or 2-D request must reach the check (serving_checks).
    return [model, *tables], serve, [tf.TensorSpec(None, tf.string, name="text")]


def train(name, config, seed, logdir=None, backup_dir=None, epochs=None, verbose=2,
          data_dir=None, extra_callbacks=(), runtime=None, model_kwargs=None):
    """Trains entry `name` from scratch (teacher forcing, masked loss;
    `runtime`: strategy, precision and XLA, a `pipelines.runtime.Runtime`;
    default one device, float32; `model_kwargs`: architecture kwargs that
    replace the preset's).

    Returns:
        (model, data, builder_kwargs, history): the translator with the best
        epoch's weights (lowest validation loss), the data, the builder
        kwargs to record (the preset's with `model_kwargs`; the vocabularies
        ship as files), and the Keras
        History (plus `best_epoch` and `epochs_run`).
    """
    keras.utils.set_random_seed(seed)
    data = load_data(config, data_dir)
    builder_kwargs = settings.architecture(name, model_kwargs)
    vocabularies = dict(
        source_vocabulary=build_vocabulary(data.sources["train"], config["max_source_tokens"]),
        target_vocabulary=build_vocabulary(data.targets["train"], config["max_target_tokens"],
                                           add_start_end=True))
    runtime = runtime or Runtime()
    with runtime.scope():
        model = zoo.load(name, weights=None, **vocabularies, **(model_kwargs or {}))
    history = fit(model, data, config, seed, logdir=logdir, backup_dir=backup_dir, epochs=epochs,
                  verbose=verbose, extra_callbacks=extra_callbacks, runtime=runtime)
    return model, data, builder_kwargs, history


def fit(model, data, config, seed, logdir=None, backup_dir=None, epochs=None, verbose=2,
        extra_callbacks=(), runtime=None):
    """Fits a translator the way the zoo entries are trained (also used by
    the benchmark); returns the Keras History with `best_epoch` and
    `epochs_run`. Under a `runtime` strategy the translator must have been
    built in `runtime.scope()`."""
    runtime = runtime or Runtime()
    with runtime.scope():
        # Trains the logits head only: the attention output needs no loss.
        trainer = keras.Model(model.input, model.output["logits"])
        runtime.compile(
            trainer,
            optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=config["clipnorm"]),
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    train_ds = batches(model, data.sources["train"], data.targets["train"],
                       config["batch_size"], shuffle=True, seed=seed,
                       static_shapes=runtime.static_shapes)
    # Bucketing hides the number of batches from tf.data; Keras needs it for
    # its progress bar and to end each epoch cleanly.
    steps_per_epoch = int(train_ds.reduce(0, lambda n, *_: n + 1))
    train_ds = train_ds.apply(tf.data.experimental.assert_cardinality(steps_per_epoch))
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config["patience"], restore_best_weights=True)
    halve_rate = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=0)
    callbacks = zoo_callbacks.training_callbacks(
        [early_stopping, halve_rate], extra_callbacks, backup_dir=backup_dir, shuffled=train_ds,
        logdir=logdir)
    if logdir:
        callbacks.append(zoo_callbacks.AlignmentHeatmaps(
            model, data.sources["validation"][:config["logged_sentences"]], logdir))
    history = trainer.fit(
        train_ds,
        validation_data=batches(model, data.sources["validation"], data.targets["validation"],
                                config["batch_size"], static_shapes=runtime.static_shapes),
        epochs=epochs or config["max_epochs"],
        shuffle=False,  # The dataset shuffles itself, with the seed.
        callbacks=callbacks,
        verbose=verbose,
    )
    return zoo_callbacks.record_best_epoch(history, early_stopping)
