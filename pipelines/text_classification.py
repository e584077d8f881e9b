"""The text classification task (transformer encoder on SST-2, or on the
user's own TSV files): tf.data input, training, accuracy, export.

Texts are tokenised inside tf.data by the model's own preprocessor
(`TransformerEncoderClassifier.preprocessor`), so training, `classify` and the
exported SavedModel see the same ids. Training batches are bucketed by
length (padded to 8, 16, 32 or max_length tokens: static shapes, and most
SST-2 phrases are short; under `Runtime.static_shapes`, for TPUs, all
padded to max_length); evaluation pads to max_length.
"""

import keras
import tensorflow as tf

import zoo
from pipelines import callbacks as zoo_callbacks
from pipelines import batching, serving_checks, settings
from pipelines.data import text_classification as text_data
from pipelines.runtime import Runtime
from zoo.models.transformer_encoder.subword_tokenizer import subword_vocabulary
from zoo.models.transformer_encoder.transformer_encoder_backbone import token_ids
from zoo.models.transformer_encoder.transformer_encoder_preprocessor import (
    standardize as standardize_text,
)


def load_data(config, data_dir=None):
    """SST-2, or the TSV files named in the config (``files``, ``label_column``,
    ``text_column``)."""
    if config.get("files"):
        return text_data.load_tsv_files(config["files"], config.get("label_column", "label"),
                                        config.get("text_column", "sentence"))
    if config["dataset"] != "sst2":
        raise ValueError(f"Unknown text classification dataset {config['dataset']!r}: "
                         "use sst2, or pass --train-file/--validation-file/--test-file.")
    return text_data.load_sst2(data_dir)


def build_vocabulary(texts, standardize, max_tokens=None):
    """``["", "[UNK]", words by frequency...]`` of the training texts,
    standardised as the classifier's preprocessor will standardise them."""
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, standardize=None, split="whitespace")
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(1024)
                     .map(lambda batch: standardize_text(batch, standardize)))
    return vectorizer.get_vocabulary()


def build_subwords(vocabulary, subword_lengths):
    """The character n-grams of the vocabulary's words (`subword_vocabulary`),
    or None for a model without subwords (`subword_lengths` None). Only the
    training words': other n-grams would get no trained embedding."""
    return subword_vocabulary(vocabulary[2:], subword_lengths) if subword_lengths else None


def token_dataset(model, texts, labels):
    """(inputs, label) per example: the preprocessor's inputs of one text
    cut to its n <= max_length real tokens (ids int32 `[n]`; with subwords
    also `[n, S]` n-gram ids)."""
    def tokenize(text, label):
        inputs = model.preprocessor(text[None])  # [1, max_length, ...]
        length = tf.math.count_nonzero(token_ids(inputs)[0], dtype=tf.int32)  # ids are 0 only after the words
        return tf.nest.map_structure(lambda x: x[0, :length], inputs), label

    return (tf.data.Dataset.from_tensor_slices((texts, labels))
            .map(tokenize, num_parallel_calls=tf.data.AUTOTUNE))


def bucket_boundaries(max_length):
    """Padded lengths 8, 16, 32, ... below max_length, then max_length."""
    lengths = [n for n in (8, 16, 32, 64, 128, 256) if n < max_length] + [max_length]
    return [n + 1 for n in lengths]  # a bucket holds lengths < boundary


def train_dataset(model, texts, labels, batch_size, seed=0, static_shapes=False):
    """Shuffled batches of static shapes (drop_remainder), length-bucketed,
    or with `static_shapes` all padded to max_length: one shape, every
    dimension known (what a TPU compiles)."""
    dataset = (token_dataset(model, texts, labels)
               .cache()
               .shuffle(len(texts), seed=seed, reshuffle_each_iteration=True))
    if static_shapes:
        shapes = tf.nest.map_structure(lambda spec: [model.max_length] + spec.shape[1:].as_list(),
                                       dataset.element_spec[0])  # [max_length, ...] per input
        dataset = dataset.padded_batch(batch_size, padded_shapes=(shapes, []), drop_remainder=True)
    else:
        boundaries = bucket_boundaries(model.max_length)
        dataset = dataset.bucket_by_sequence_length(
            lambda inputs, label: tf.shape(tf.nest.flatten(inputs)[0])[0], boundaries,
            [batch_size] * (len(boundaries) + 1), pad_to_bucket_boundary=True,
            drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def eval_dataset(model, texts, labels, batch_size=256, static_shapes=False):
    """Batches padded to max_length, in order. With `static_shapes` every
    batch is full: copies of weight 0 fill the last one
    (`batching.full_batches`), and the elements are (inputs, label, weight)."""
    if not static_shapes:
        return (tf.data.Dataset.from_tensor_slices((texts, labels))
                .batch(batch_size)
                .map(lambda t, y: (model.preprocessor(t), y), num_parallel_calls=tf.data.AUTOTUNE)
                .prefetch(tf.data.AUTOTUNE))
    (texts, labels), weights = batching.full_batches([texts, labels], batch_size)

    def tokenize(text, label, weight):
        # The preprocessor leaves the batch dimension unknown; Keras' multi-process
        # sharding reads the batch size from the static shapes.
        inputs = tf.nest.map_structure(lambda x: tf.ensure_shape(x, [batch_size, *x.shape[1:]]),
                                       model.preprocessor(text))
        return inputs, label, weight

    return (tf.data.Dataset.from_tensor_slices((texts, labels, weights))
            .batch(batch_size, drop_remainder=True)
            .map(tokenize, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


class LogitsOnly(keras.Model):
    """The logits `[B, C]` of a classifier that may also return attention
    (a dict with "logits"), sharing its weights, compiled with the weighted
    metrics `split_metrics` reads; the classifier's own compile is left
    alone. One per evaluation, so its compiled test step serves every split."""

    def __init__(self, classifier, **kwargs):
        super().__init__(**kwargs)
        self.classifier = classifier
        self.compile(
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                              keras.metrics.SparseCategoricalCrossentropy(from_logits=True,
                                                                          name="cross_entropy")])

    def call(self, inputs):
        outputs = self.classifier(inputs, training=False)
        return outputs["logits"] if isinstance(outputs, dict) else outputs


def split_metrics(model, data, split, scorer=None):
    """Accuracy (%) and mean cross-entropy of `model` on `split`'s n texts:

        accuracy = 1/n Σ_j [argmax logits_j = y_j]
        loss = 1/n Σ_j -log softmax(logits_j)[y_j]

    Keras' `evaluate` of `scorer` (a `LogitsOnly(model)`, made here if not
    given) with weighted metrics over full batches (the copies that fill
    the last one weigh 0): on every backend, and on several processes,
    where each evaluates its shard and the metrics are summed over all
    (`predict` would have to fetch rows held by other processes).
    """
    scorer = scorer or LogitsOnly(model)
    dataset = eval_dataset(model, data.texts[split], data.labels[split], static_shapes=True)
    results = scorer.evaluate(dataset, verbose=0, return_dict=True)
    return {f"{split}_accuracy": round(100 * float(results["accuracy"]), 2),
            f"{split}_loss": round(float(results["cross_entropy"]), 4)}


def evaluate(model, data, splits=("validation", "test")):
    """Accuracy and loss on each split (the test split only if it has texts)."""
    metrics, scorer = {}, LogitsOnly(model)
    for split in splits:
        if data.texts.get(split):
            metrics.update(split_metrics(model, data, split, scorer))
    return metrics


def evaluation_data(model, config, data_dir=None):
    """The data `evaluate` needs, for `pipelines.evaluate`; its class names
    must be the model's."""
    data = load_data(config, data_dir)
    if data.class_names != model.class_names:
        raise ValueError(f"The data's classes {data.class_names} are not the model's "
                         f"{model.class_names}.")
    return data


def warmup_inputs(config, data_dir=None):
    """TF Serving warm-up inputs for `pipelines.export`: the first test
    sentences, as one text and as a batch of 8."""
    texts = load_data(config, data_dir).texts["test"]
    return [{"text": texts[:1]}, {"text": texts[1:9]}]


def serving(name, weights="trained"):
    """(what to track, serving function, input signature) for `pipelines.export`:
    text in; label, class name, probabilities, tokens and the last block's
    attention `[B, H, T, T]` out."""
    model = zoo.load(name, weights=weights, return_attention=True)
    class_names = tf.constant(model.class_names)

    def serve(text):
        text = serving_checks.batch_of_strings("text", text)  # as classify(): [B], UTF-8
        inputs = model.preprocessor(text)
        ids = token_ids(inputs)  # [B, max_length]
        outputs = model(inputs, training=False)
        label = tf.argmax(outputs["probabilities"], axis=-1, output_type=tf.int32)
        return {
            "label": label,
            "class_name": tf.gather(class_names, label),
            "probabilities": outputs["probabilities"],
            "tokens": model.preprocessor.tokenizer.tokens(ids),  # "" where padded
            "attention": outputs["attention"][-1],
        }

    # The tokenizers' lookup tables are not among the model's tracked layers.
    tracked = [model, *model.preprocessor.lookup_layers]
    # Any shape: a scalar or 2-D request must reach the check (serving_checks).
    return tracked, serve, [tf.TensorSpec(None, tf.string, name="text")]


def learning_rate_schedule(config, steps_per_epoch):
    """Linear warm-up to the peak rate, then cosine decay to 0 over max_epochs."""
    total = steps_per_epoch * config["max_epochs"]
    warmup = int(config["warmup_fraction"] * total)
    return keras.optimizers.schedules.CosineDecay(
        0.0, total - warmup, warmup_target=config["learning_rate"], warmup_steps=warmup)


def train(name, config, seed, logdir=None, backup_dir=None, epochs=None, verbose=2,
          data_dir=None, extra_callbacks=(), runtime=None, model_kwargs=None):
    """Trains entry `name` from scratch (`runtime`: strategy, precision and
    XLA, a `pipelines.runtime.Runtime`; default one device, float32;
    `model_kwargs`: architecture kwargs that replace the preset's, e.g.
    max_length, which every dataset below pads to).

    Returns:
        (model, data, builder_kwargs, history): the classifier with the
        weights of the best validation accuracy, the data, the builder
        kwargs to record (the preset's with `model_kwargs`; vocabulary and
        class names ship as files), and the
        Keras History (plus `best_epoch` and `epochs_run`).
    """
    keras.utils.set_random_seed(seed)
    data = load_data(config, data_dir)
    builder_kwargs = settings.architecture(name, model_kwargs)
    vocabulary = build_vocabulary(data.texts["train"], builder_kwargs["standardize"],
                                  config.get("max_tokens"))
    subwords = build_subwords(vocabulary, builder_kwargs.get("subword_lengths"))
    runtime = runtime or Runtime()
    with runtime.scope():
        model = zoo.load(name, weights=None, vocabulary=vocabulary, subwords=subwords,
                         class_names=data.class_names, **(model_kwargs or {}))
    history = fit(model, data, config, seed, logdir=logdir, backup_dir=backup_dir, epochs=epochs,
                  verbose=verbose, extra_callbacks=extra_callbacks, runtime=runtime)
    return model, data, builder_kwargs, history


def fit(model, data, config, seed, logdir=None, backup_dir=None, epochs=None, verbose=2,
        extra_callbacks=(), runtime=None):
    """Fits any classifier with a `preprocessor` and `max_length` (the zoo's, or a
    benchmark's baseline) the way the zoo entry is trained; returns the
    Keras History with `best_epoch` and `epochs_run`. Under a `runtime`
    strategy the model must have been built in `runtime.scope()`."""
    runtime = runtime or Runtime()
    train_ds = train_dataset(model, data.texts["train"], data.labels["train"],
                             config["batch_size"], seed=seed, static_shapes=runtime.static_shapes)
    # Bucketing hides the number of batches from tf.data; Keras needs it for
    # its progress bar and to end each epoch cleanly.
    steps_per_epoch = int(train_ds.reduce(0, lambda n, _: n + 1))
    train_ds = train_ds.apply(tf.data.experimental.assert_cardinality(steps_per_epoch))
    with runtime.scope():
        runtime.compile(
            model,
            optimizer=keras.optimizers.AdamW(learning_rate_schedule(config, steps_per_epoch),
                                             weight_decay=config["weight_decay"]),
            # Weighted, so that the fillers of static-shape validation batches
            # count in neither; without sample weights the same as unweighted.
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=config["patience"], restore_best_weights=True)
    callbacks = zoo_callbacks.training_callbacks(
        [early_stopping], extra_callbacks, backup_dir=backup_dir, shuffled=train_ds, logdir=logdir)
    if logdir:
        callbacks.append(zoo_callbacks.SelfAttentionHeatmaps(
            model, data.texts["validation"][:config["logged_texts"]], logdir))
    history = model.fit(
        train_ds,
        validation_data=eval_dataset(model, data.texts["validation"], data.labels["validation"],
                                     static_shapes=runtime.static_shapes),
        epochs=epochs or config["max_epochs"],
        shuffle=False,  # The dataset shuffles itself, with the seed.
        callbacks=callbacks,
        verbose=verbose,
    )
    zoo_callbacks.record_best_epoch(history, early_stopping)
    return history
