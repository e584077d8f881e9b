"""The captioning task (Show, Attend and Tell on Flickr8k): feature cache,
training on cached CNN features, and corpus BLEU-1..4.

The CNN is frozen by default, so its features are computed once per image
(`encode_images`) and training runs only the decoder on them (`decoder_model`
shares the captioner's decoder layer, so the captioner is trained too).
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from sacrebleu.metrics import BLEU

import zoo
from pipelines import callbacks as zoo_callbacks
from pipelines import batching, serving_checks, settings
from pipelines.data import flickr8k
from pipelines.runtime import Runtime
from zoo.models.show_attend_tell.show_attend_tell_preprocessor import standardize_caption
from zoo.models.word_tokenizer import PAD, UNK

SPLITS = flickr8k.SPLITS


@dataclasses.dataclass
class CaptionData:
    """Everything training and evaluation read, per split."""

    dataset: flickr8k.Flickr8k
    vocabulary: list      # token strings by id ("" padding, "[UNK]", "[START]", "[END]", ...)
    features: dict        # split -> float32 [N_images, L, D], the cached annotations
    image_index: dict     # split -> int [N_captions], the image of each caption
    tokens: dict          # split -> int [N_captions, max_length + 1]


def encode_images(encoder, paths, batch_size=32, static_shapes=False):
    """The annotations `[N, L, D]` (float32) of every image: the CNN runs
    once per image. With `static_shapes` every batch is full (copies of
    the first image fill the last one, `batching.full_batches`, and their
    rows are cut off), so that keras.distribution can split each one."""
    count = len(paths)
    if static_shapes:
        (paths,), _ = batching.full_batches([paths], batch_size)
    images = flickr8k.image_dataset(paths, encoder.image_size, batch_size)
    # A mixed-precision encoder returns bfloat16/float16; the decoder's input is float32.
    return encoder.predict(images, verbose=0)[:count].astype("float32", copy=False)


def prepare_data(dataset, model, static_shapes=False):
    """Caches features (`encode_images`, by the model's encoder) and
    tokenises captions with the model's preprocessor (`[START] ... [END]`,
    0-padded to max_length + 1 so that inputs and targets are max_length
    long)."""
    features, image_index, tokens = {}, {}, {}
    for split in SPLITS:
        names = dataset.splits[split]
        features[split] = encode_images(model.encoder, dataset.image_paths(split),
                                        static_shapes=static_shapes)
        pairs = [(i, c) for i, name in enumerate(names) for c in dataset.captions[name]]
        image_index[split] = np.array([i for i, _ in pairs], "int32")
        tokens[split] = keras.ops.convert_to_numpy(model.preprocessor([c for _, c in pairs]))
    return CaptionData(dataset, list(model.vocabulary), features, image_index, tokens)


def caption_dataset(data, split, batch_size, shuffle=False, seed=0):
    """(inputs, next tokens, weights) batches of static shape; weights mask padding."""
    features = tf.constant(data.features[split])

    def teacher_forcing(index, sequence):
        target = sequence[1:]
        inputs = {"annotations": tf.gather(features, index), "tokens": sequence[:-1]}
        return inputs, target, tf.cast(target != 0, tf.float32)

    ds = tf.data.Dataset.from_tensor_slices((data.image_index[split], data.tokens[split])).cache()
    if shuffle:
        ds = ds.shuffle(len(data.tokens[split]), seed=seed, reshuffle_each_iteration=True)
    return (ds.map(teacher_forcing, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))


def decoder_model(model, max_length):
    """The captioner's decoder on cached annotations → next-token logits."""
    grid = model.encoder.output_shape  # (None, L, D)
    annotations = keras.Input(grid[1:], name="annotations")
    tokens = keras.Input((max_length,), dtype="int32", name="tokens")
    logits, _ = model.decoder(annotations, tokens)
    return keras.Model({"annotations": annotations, "tokens": tokens}, logits, name="decoder_model")


def generate_fn(model, beam_width):
    """`model.generate` on annotations (float32 `[B, L, D]`, NumPy): one
    `tf.function` on TensorFlow (a trace per batch size); on other backends
    the beam search's own loop is compiled (`keras.ops.while_loop`), and a
    `tf.function` would freeze their variables' values at tracing time."""
    def generate(annotations):
        return model.generate(annotations=annotations, beam_width=beam_width)

    if keras.backend.backend() != "tensorflow":
        return generate
    compiled = tf.function(generate, reduce_retracing=True)
    return lambda annotations: compiled(tf.constant(annotations))


def caption_split(model, data, split, beam_width=1, batch_size=50):
    """The caption of every image of `split`."""
    generate = generate_fn(model, beam_width)
    captions = []
    features = data.features[split]
    for start in range(0, len(features), batch_size):
        captions += model.preprocessor.captions(generate(features[start:start + batch_size])["tokens"])
    return captions


def corpus_bleu(hypotheses, references):
    """Corpus BLEU-1..4 (cumulative, as captioning papers report) of the
    hypotheses against several references each, with sacrebleu; references
    are standardised like the training captions (lower case, no punctuation)."""
    counts = {len(r) for r in references}
    if len(counts) != 1:
        raise ValueError(f"Every image needs the same number of references. Received: {sorted(counts)}")
    flat = [c for refs in references for c in refs]
    flat = [s.decode() for s in standardize_caption(flat).numpy()]
    per_image = counts.pop()
    streams = [flat[k::per_image] for k in range(per_image)]  # one list per reference slot
    return {f"bleu{n}": round(BLEU(max_ngram_order=n).corpus_score(hypotheses, streams).score, 2)
            for n in range(1, 5)}


def evaluate(model, data, split="test", beam_widths=(1, 3)):
    """BLEU-1..4 on `split` for greedy decoding and each beam width."""
    metrics = {}
    for k in beam_widths:
        captions = caption_split(model, data, split, beam_width=k)
        scores = corpus_bleu(captions, data.dataset.references(split))
        tag = "greedy" if k == 1 else f"beam{k}"
        metrics.update({f"{split}_{name}_{tag}": value for name, value in scores.items()})
    return metrics


def evaluation_data(model, config, data_dir=None):
    """The `CaptionData` `evaluate` needs (features from the model's own
    encoder, captions in its vocabulary), for `pipelines.evaluate`."""
    return prepare_data(flickr8k.load_flickr8k(data_dir), model)


def decode_images(image_bytes, image_size):
    """Decodes a batch of encoded images; an undecodable item does not fail
    the batch but is reported.

    Returns:
        images float32 `[B, S, S, 3]` (zeros where decoding failed) and a
        bool `[B]` saying which items decoded.
    """
    # tf.data's ignore_errors is the graph-level way to survive a failing
    # decode op; the survivors are scattered back to their batch positions.
    count = tf.shape(image_bytes)[0]
    decoded = (tf.data.Dataset.from_tensor_slices((tf.range(count), image_bytes))
               .map(lambda i, data: (i, flickr8k.decode_image(data, image_size)))
               .ignore_errors()
               .batch(tf.cast(tf.maximum(count, 1), tf.int64)))
    empty = (tf.zeros([count, image_size, image_size, 3]), tf.zeros([count], tf.bool))

    def scatter(state, batch):
        index, images = batch
        positions = index[:, None]  # [k] -> [k, 1] scatter indices
        return (tf.tensor_scatter_nd_update(state[0], positions, images),
                tf.tensor_scatter_nd_update(state[1], positions, tf.ones_like(index, tf.bool)))

    return decoded.reduce(empty, scatter)


def warmup_inputs(config, data_dir=None):
    """TF Serving warm-up inputs for `pipelines.export`: the encoded bytes
    of the first test images, as one image and as a batch of 4."""
    dataset = flickr8k.load_flickr8k(data_dir)
    images = [tf.io.gfile.GFile(path, "rb").read() for path in dataset.image_paths("test")[:5]]
    return [{"image_bytes": images[:1]}, {"image_bytes": images[1:]}]


def serving(name, weights="trained", beam_width=3):
    """(what to track, serving function, input signature) for `pipelines.export`:
    image bytes in; caption, attention `[B, T, h, w]` and per-item error out."""
    model = zoo.load(name, weights=weights)
    size = model.encoder.image_size
    h, w = model.encoder.grid_shape

    def captioned(image_bytes):
        images, ok = decode_images(image_bytes, size)  # uint8 decoded: pixels in [0, 255]
        result = model.generate(images, beam_width=beam_width)
        caption = model.preprocessor.detokenize(result["tokens"])  # [B]
        attention = tf.reshape(result["attention"], [-1, model.max_length, h, w])  # [B, T, L] -> [B, T, h, w]
        return {
            "caption": tf.where(ok, caption, ""),
            "attention": attention * tf.cast(ok, attention.dtype)[:, None, None, None],
            "error": tf.where(ok, "", "could not decode the image bytes (JPEG, PNG, GIF or BMP "
                                      "expected; the data is corrupt or another format)"),
        }

    def nothing():
        # An empty batch, as the text exports answer one (the decoder cannot run on B = 0).
        return {"caption": tf.zeros([0], tf.string),
                "attention": tf.zeros([0, model.max_length, h, w]),
                "error": tf.zeros([0], tf.string)}

    def serve(image_bytes):
        image_bytes = serving_checks.batch_of_strings("image_bytes", image_bytes, utf8=False)
        return tf.cond(tf.size(image_bytes) > 0, lambda: captioned(image_bytes), nothing)

    # Any shape: a scalar or 2-D request must reach the check (serving_checks).
    return [model], serve, [tf.TensorSpec(None, tf.string, name="image_bytes")]


def train(name, config, seed, logdir=None, backup_dir=None, epochs=None, verbose=2,
          data_dir=None, extra_callbacks=(), runtime=None, model_kwargs=None):
    """Trains entry `name` (frozen encoder, cached features; `runtime`:
    strategy, precision and XLA, a `pipelines.runtime.Runtime`; default one
    device, float32; `model_kwargs`: architecture kwargs that replace the
    preset's, e.g. max_length, the decoding steps the captions are cut to).

    Returns:
        (model, data, builder_kwargs, history): the captioner with the best
        epoch's weights (lowest validation loss), the `CaptionData`, the
        builder kwargs to record (the preset's with `model_kwargs`), and the
        Keras History (plus `best_epoch`
        and `epochs_run`).
    """
    runtime = runtime or Runtime()
    if runtime.num_processes > 1:
        raise ValueError(f"{name} trains on one process (one device or several): its feature "
                         "cache comes from the encoder's `predict`, whose rows a process cannot "
                         "fetch from the others. Received: num_processes="
                         f"{runtime.num_processes}.")
    keras.utils.set_random_seed(seed)
    dataset = flickr8k.load_flickr8k(data_dir)
    words = flickr8k.build_vocabulary(
        [c for name_ in dataset.splits["train"] for c in dataset.captions[name_]],
        min_count=config["min_count"])
    vocabulary = [PAD, UNK] + words
    with runtime.scope():
        model = zoo.load(name, weights=None, vocabulary=vocabulary,
                         encoder_weights=config["encoder_weights"], **(model_kwargs or {}))
    data = prepare_data(dataset, model, static_shapes=runtime.static_shapes)

    with runtime.scope():
        trainer = decoder_model(model, model.max_length)
        runtime.compile(
            trainer,
            optimizer=keras.optimizers.Adam(config["learning_rate"], clipnorm=config["clipnorm"]),
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"),
            weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    train_ds = caption_dataset(data, "train", config["batch_size"], shuffle=True, seed=seed)
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config["patience"], restore_best_weights=True)
    callbacks = zoo_callbacks.training_callbacks(
        [early_stopping], extra_callbacks, backup_dir=backup_dir, shuffled=train_ds, logdir=logdir)
    if logdir:
        shown = data.dataset.image_paths("validation")[:config["logged_images"]]
        images = np.stack([flickr8k.load_image(p, model.encoder.image_size).numpy().astype("uint8") for p in shown])
        callbacks.append(zoo_callbacks.CaptionAttentionImages(
            model, images, data.features["validation"][:len(shown)], logdir,
            every=config["log_images_every"]))
    history = trainer.fit(
        train_ds,
        validation_data=caption_dataset(data, "validation", config["batch_size"]),
        epochs=epochs or config["max_epochs"],
        shuffle=False,  # The dataset shuffles itself, with the seed.
        callbacks=callbacks,
        verbose=verbose,
    )
    zoo_callbacks.record_best_epoch(history, early_stopping)
    return model, data, settings.architecture(name, model_kwargs), history
