"""Keras callbacks the zoo's training needs and Keras does not ship."""

import json
import os
import warnings

import keras
import numpy as np
import tensorflow as tf


def record_best_epoch(history, early_stopping):
    """Adds `best_epoch` (1-based, the weights restored; None if none were
    kept) and `epochs_run` to a Keras History, for the metrics card."""
    history.best_epoch = early_stopping.best_epoch + 1 if early_stopping.best_weights else None
    history.epochs_run = history.epoch[-1] + 1 if history.epoch else 0
    return history


class LossAndAccuracyEarlyStopping(keras.callbacks.Callback):
    """Early stopping on validation loss AND accuracy (the GAT reference rule).

    Keras' EarlyStopping watches one quantity; the GAT code (Veličković et
    al.) keeps training while either improves and keeps the weights of the
    last epoch where both improved (or tied):

        if acc >= best_acc or loss <= best_loss:
            if acc >= best_acc and loss <= best_loss: keep these weights
            best_acc, best_loss = max(...), min(...); wait = 0
        else: wait += 1; stop when wait == patience

    At the end the kept weights are restored. `EpochBackupAndRestore` keeps
    its state (`CALLBACK_STATE`), so a resumed run continues with the same
    best weights and patience count.
    """

    def __init__(self, patience=100, loss="val_loss", accuracy="val_accuracy"):
        super().__init__()
        self.patience = patience
        self.loss_key = loss
        self.accuracy_key = accuracy

    def on_train_begin(self, logs=None):
        self.best_accuracy, self.best_loss = -np.inf, np.inf
        self.wait, self.best_epoch, self.best_weights = 0, None, None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        accuracy, loss = logs[self.accuracy_key], logs[self.loss_key]
        if accuracy >= self.best_accuracy or loss <= self.best_loss:
            if accuracy >= self.best_accuracy and loss <= self.best_loss:
                self.best_weights = self.model.get_weights()
                self.best_epoch = epoch
            self.best_accuracy = max(accuracy, self.best_accuracy)
            self.best_loss = min(loss, self.best_loss)
            self.wait = 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


# What a resumed run needs back of each callback: the attributes that
# `on_train_begin` resets and BackupAndRestore does not save.
CALLBACK_STATE = {
    keras.callbacks.EarlyStopping: ("wait", "stopped_epoch", "best", "best_epoch", "best_weights"),
    keras.callbacks.ReduceLROnPlateau: ("wait", "best", "cooldown_counter"),
    LossAndAccuracyEarlyStopping: ("wait", "stopped_epoch", "best_accuracy", "best_loss",
                                   "best_epoch", "best_weights"),
}


def _state_names(callback):
    return next((names for kind, names in CALLBACK_STATE.items() if isinstance(callback, kind)), ())


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite (see `TerminateOnNaN`)."""


class TerminateOnNaN(keras.callbacks.TerminateOnNaN):
    """Keras' TerminateOnNaN in its raising mode, with the epoch in the error.

    The graceful stop (`stop_training`) would end the epoch normally: the
    epoch-end callbacks would back the NaN weights up over the last good
    backup, BackupAndRestore would then delete its backup as after a
    finished run, and the caller would save a model as if training had
    succeeded. Raising `NonFiniteLossError` from the batch skips all of
    that: the backup keeps the last good epoch (the same command resumes
    from it) and `pipelines.train` exits without writing weights or a card.
    It must come first in the callback list, before any callback that saves
    at a batch's end.
    """

    def __init__(self):
        super().__init__(raise_error=True)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            raise NonFiniteLossError(f"the training loss became {float(loss)} at epoch "
                                     f"{self.epoch + 1}, batch {batch + 1}")


class EpochBackupAndRestore(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that saves every `every` epochs, and also saves what
    Keras' leaves out, so that a resumed run continues exactly like an
    uninterrupted one (same seed, default strategy):

    - the random generators' states: `save_weights` skips the
      SeedGenerator variables, so a resumed run would draw epoch 0's
      dropout masks again;
    - the state of the `callbacks` listed in `CALLBACK_STATE` (early
      stopping's best epoch, its weights and the patience count;
      ReduceLROnPlateau's counters), which Keras resets at the start of
      every `fit`: a resumed run would forget the best epoch before the
      interruption and could stop later or keep worse weights;
    - the position in `shuffled`'s order: a tf.data shuffle with
      `reshuffle_each_iteration` draws each epoch's order from how many
      iterators of it were made before, so the resumed run first makes (and
      does not read) the ones the epochs already trained made. Under a
      distribution strategy Keras iterates its own distributed copy of the
      dataset, and the resumed epochs may see other orders.

    `every`: a full-batch epoch is one step of ~30 ms, so saving every
    epoch costs more than training; Keras' every-N-*batches* saves
    mid-epoch, and a resumed run would repeat that epoch on weights that
    already took its step. This keeps Keras' save/restore and moves the
    save to the epoch's end (`_save_model`, `_current_epoch` and the
    `_initial_epoch` it restores are Keras internals; keras is pinned and
    the resume tests in tests/pipelines check them).
    """

    def __init__(self, backup_dir, every=1, callbacks=(), shuffled=None):
        # Kept after `fit`: pipelines.train deletes it once the weights and
        # the card are written, so a failed write loses no training.
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=False)
        self.every = every
        self.stateful = [c for c in callbacks if _state_names(c)]
        self.shuffled = shuffled
        self._first_epoch = False

    def _random_states(self):
        """The model's variables that `save_weights` skips: the SeedGenerator states."""
        saved = {id(v) for v in self.model.weights}
        return [v for v in self.model.variables if id(v) not in saved]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if (epoch + 1) % self.every == 0:
            self._save_model()

    def _state_file(self, epoch):
        return os.path.join(self.backup_dir, f"training_state-{epoch}.npz")

    def _save_model(self):
        # The state of the epoch is written before Keras' weights and
        # metadata (which say which epoch the backup is) and the previous
        # epoch's is removed after them: whenever the process is killed, the
        # state of the epoch the metadata names is on disk.
        state = {"callbacks": []}
        arrays = {f"random/{i}": np.asarray(v) for i, v in enumerate(self._random_states())}
        for i, callback in enumerate(self.stateful):
            values = {}
            for name in _state_names(callback):
                value = getattr(callback, name, None)
                if name == "best_weights":
                    arrays.update({f"callback{i}/{j}": w for j, w in enumerate(value or [])})
                    values[name] = None if value is None else len(value)
                else:
                    values[name] = value.item() if hasattr(value, "item") else value
            state["callbacks"].append(values)
        os.makedirs(self.backup_dir, exist_ok=True)
        path = self._state_file(self._current_epoch)
        np.savez(path + ".tmp.npz", state=json.dumps(state), **arrays)
        os.replace(path + ".tmp.npz", path)
        super()._save_model()
        for name in os.listdir(self.backup_dir):
            if name.startswith("training_state-") and os.path.join(self.backup_dir, name) != path:
                os.remove(os.path.join(self.backup_dir, name))

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # Restores the weights and the epoch.
        self._first_epoch = True

    def on_epoch_begin(self, epoch, logs=None):
        # Restored here, not in on_train_begin: by now every callback's own
        # on_train_begin, before or after this one's, has reset it.
        if not self._first_epoch or epoch == 0:
            self._first_epoch = False
            return
        self._first_epoch = False
        if not os.path.exists(self._state_file(epoch)):
            warnings.warn(f"The backup in {self.backup_dir} has no training state for epoch "
                          f"{epoch}: resuming without the random, early-stopping and shuffle "
                          "state (the run may end differently from an uninterrupted one).")
            return
        with np.load(self._state_file(epoch)) as arrays:
            state = json.loads(str(arrays["state"]))
            for i, variable in enumerate(self._random_states()):
                variable.assign(arrays[f"random/{i}"])
            for i, (callback, values) in enumerate(zip(self.stateful, state["callbacks"])):
                for name, value in values.items():
                    if name == "best_weights" and value is not None:
                        value = [arrays[f"callback{i}/{j}"] for j in range(value)]
                    setattr(callback, name, value)
        if self.shuffled is not None:
            # Keras 3.15's epoch iterator (no steps_per_epoch) makes two
            # iterators per epoch: one at its end, unused, and one at the
            # next epoch's start.
            for _ in range(2 * epoch):
                iter(self.shuffled)


class EveryNEpochsLog(keras.callbacks.Callback):
    """One line of the epoch's logs every `every` epochs, and at the last.

    Keras' progress display prints each epoch (verbose=2) or a bar per
    epoch (verbose=1): a full-batch GAT run of 800 one-step epochs against
    a cap of 100,000 would print 800 lines. Keras has no "every N epochs"
    mode, so this prints `epoch 50/100000 - loss: 1.2345 - val_accuracy: ...`
    for fit(verbose=0). The caller prints the final summary.
    """

    def __init__(self, every=50):
        super().__init__()
        self.every = every

    def on_train_begin(self, logs=None):
        self.last = None

    def on_epoch_end(self, epoch, logs=None):
        self.last = (epoch, dict(logs or {}))
        if (epoch + 1) % self.every == 0:
            self._print(epoch, logs)

    def on_train_end(self, logs=None):
        if self.last and (self.last[0] + 1) % self.every:
            self._print(*self.last)

    def _print(self, epoch, logs):
        values = " - ".join(f"{k}: {float(v):.4f}" for k, v in (logs or {}).items())
        print(f"epoch {epoch + 1}/{self.params.get('epochs')} - {values}", flush=True)


def training_callbacks(task_callbacks, extra_callbacks=(), backup_dir=None, backup_every=1,
                       shuffled=None, logdir=None):
    """The callbacks of every task's `fit`, in the order that matters:
    `TerminateOnNaN` first (it stops a NaN batch before anything saves),
    the task's own (validation, early stopping, ...) and the caller's
    extra ones, then the backup (at an epoch's end it saves what they have
    seen, and their state), then TensorBoard. Tasks append their attention
    images after these."""
    callbacks = [TerminateOnNaN(), *task_callbacks, *extra_callbacks]
    if backup_dir:
        callbacks.append(EpochBackupAndRestore(backup_dir, every=backup_every,
                                               callbacks=task_callbacks, shuffled=shuffled))
    if logdir:
        callbacks.append(keras.callbacks.TensorBoard(logdir))
    return callbacks


class GraphAttentionStatistics(keras.callbacks.Callback):
    """Logs GAT attention statistics to TensorBoard every `every` epochs.

    For each layer and head: the mean entropy of α over target nodes,
    H_t = -Σ_i α_ti log α_ti (low = sharp, focused neighbourhoods; compare
    with log of the degree, the uniform case), and a histogram of α.

    Args:
        attention_model: a model sharing the trained layers whose output has
            an ``"attention"`` list of `[E + N, K]` (e.g. the zoo entry built
            with ``return_attention=True``); its weights are synced from the
            trained model before each measurement.
        inputs: the graph inputs dict.
        targets: int `[E + N]`, the target node of each attention row.
        logdir: TensorBoard folder (a ``attention`` subfolder is written).
    """

    def __init__(self, attention_model, inputs, targets, logdir, every=50):
        super().__init__()
        self.attention_model = attention_model
        self.inputs = inputs
        self.targets = tf.constant(targets)
        self.num_nodes = int(inputs["node_features"].shape[0])
        self.writer = tf.summary.create_file_writer(os.path.join(logdir, "attention"))
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every:
            return
        self.attention_model.set_weights(self.model.get_weights())
        attention = self.attention_model(self.inputs, training=False)["attention"]
        with self.writer.as_default(step=epoch):
            for layer, alpha in enumerate(attention):
                alpha = tf.convert_to_tensor(alpha)  # [E + N, K]
                plogp = -alpha * tf.math.log(tf.maximum(alpha, 1e-12))
                entropy = tf.math.unsorted_segment_sum(plogp, self.targets, self.num_nodes)
                for head in range(alpha.shape[-1]):
                    tf.summary.scalar(f"layer_{layer}/head_{head}/mean_entropy",
                                      tf.reduce_mean(entropy[:, head]))
                tf.summary.histogram(f"layer_{layer}/alpha", alpha)
        self.writer.flush()


class CaptionAttentionImages(keras.callbacks.Callback):
    """Logs captions of fixed images with the attention of each word.

    Every `every` epochs the captioner decodes (greedy) the same images and
    TensorBoard gets one image per input: the overlays of
    `zoo.viz.plot_image_attention`, titled with the caption.

    Args:
        captioner: the `ShowAttendTellCaptioner` being trained.
        images: uint8 `[n, S, S, 3]`, what is shown.
        annotations: their cached encoder features `[n, L, D]`.
        logdir: TensorBoard folder (a `captions` run is written below it).
        every: epochs between two logs.
    """

    def __init__(self, captioner, images, annotations, logdir, every=5):
        super().__init__()
        self.captioner = captioner
        self.images = images
        self.annotations = annotations
        self.writer = tf.summary.create_file_writer(os.path.join(logdir, "captions"))
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        from zoo import viz  # matplotlib only when images are logged

        result = self.captioner.generate(annotations=self.annotations)
        tokens = keras.ops.convert_to_numpy(result["tokens"])
        captions = self.captioner.preprocessor.captions(tokens)
        h, w = self.captioner.encoder.grid_shape
        with self.writer.as_default(step=epoch + 1):
            for i, caption in enumerate(captions):
                # Every generated token has a map, [END] included when reached.
                words = [self.captioner.vocabulary[t] for t in tokens[i] if t != 0]
                maps = np.asarray(result["attention"][i, :len(words)]).reshape(-1, h, w)  # [n, L] -> [n, h, w]
                overlay = viz.image_attention_image(self.images[i], maps, words, title=caption)
                tf.summary.image(f"attention/image_{i}", overlay[None])
                tf.summary.text(f"caption/image_{i}", caption)
        self.writer.flush()


class SelfAttentionHeatmaps(keras.callbacks.Callback):
    """Logs the self-attention of fixed sentences as heatmap images.

    Every `every` epochs the classifier reads the same texts and
    TensorBoard gets, per text, the last block's attention (mean over
    heads, words × words, `zoo.viz.attention_heatmap_image`), titled with
    the predicted label and its probability.

    Args:
        classifier: the `TransformerEncoderClassifier` being trained.
        texts: the raw sentences shown.
        logdir: TensorBoard folder (an `attention` run is written below it).
        every: epochs between two logs.
    """

    def __init__(self, classifier, texts, logdir, every=1):
        super().__init__()
        self.classifier = classifier
        self.texts = list(texts)
        self.writer = tf.summary.create_file_writer(os.path.join(logdir, "attention"))
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        from zoo import viz  # matplotlib only when images are logged

        result = self.classifier.classify(self.texts, return_attention=True)
        with self.writer.as_default(step=epoch + 1):
            for i, (words, weights) in enumerate(zip(result["tokens"], result["attention"])):
                label = result["labels"][i]
                probability = result["probabilities"][i].max()
                image = viz.attention_heatmap_image(
                    weights.mean(axis=0), words, words,  # [H, n, n] -> [n, n]
                    title=f"{label} ({probability:.2f}), mean of {len(weights)} heads")
                tf.summary.image(f"self_attention/text_{i}", image[None])
        self.writer.flush()


class FullGraphValidation(keras.callbacks.Callback):
    """Validation metrics of a full-batch graph model: one compiled call per epoch.

    Keras' `validation_data` runs `evaluate()` every epoch (a new dataset
    iterator, a callback list, metric resets), which on a one-batch graph
    costs about as much as the forward pass itself. This computes the same
    numbers over the validation nodes (`split_metrics(logits, labels,
    index)` → (cross-entropy, accuracy); val_loss adds the regularisation
    losses, as Keras does) and writes them into the epoch's logs, where the
    progress bar, early stopping, TensorBoard and History (all called after
    it) read them. On TensorFlow the call is one `tf.function`; on other
    backends it is eager, because a `tf.function` would freeze their
    variables' values as constants at tracing time.
    """

    def __init__(self, inputs, labels, index, split_metrics, prefix="val"):
        super().__init__()
        self.inputs = inputs
        self.labels = labels
        self.index = index
        self.split_metrics = split_metrics
        self.prefix = prefix

    def _evaluate_split(self):
        logits = self.model(self.inputs, training=False)
        cross_entropy, accuracy = self.split_metrics(logits, self.labels, self.index)
        regularization = sum((keras.ops.cast(x, "float32") for x in self.model.losses), 0.0)
        return cross_entropy, cross_entropy + regularization, accuracy

    def on_train_begin(self, logs=None):
        if keras.backend.backend() == "tensorflow":
            self._evaluate = tf.function(self._evaluate_split)
        else:
            self._evaluate = self._evaluate_split

    def on_epoch_end(self, epoch, logs=None):
        cross_entropy, loss, accuracy = self._evaluate()
        logs.update({f"{self.prefix}_cross_entropy": float(cross_entropy),
                     f"{self.prefix}_loss": float(loss),
                     f"{self.prefix}_accuracy": float(accuracy)})


class AlignmentHeatmaps(keras.callbacks.Callback):
    """Logs the translation of fixed sentences with its alignment: every
    `every` epochs TensorBoard gets, per sentence, the heatmap of α
    (target words × source words, `zoo.viz.attention_heatmap_image`)."""

    def __init__(self, translator, texts, logdir, every=1):
        super().__init__()
        self.translator = translator
        self.texts = list(texts)
        self.writer = tf.summary.create_file_writer(os.path.join(logdir, "alignments"))
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        from zoo import viz  # matplotlib only when images are logged

        translations, alignments = self.translator.translate(self.texts, return_attention=True)
        with self.writer.as_default(step=epoch + 1):
            for i, (translation, alignment) in enumerate(zip(translations, alignments)):
                image = viz.attention_heatmap_image(
                    alignment["attention"], alignment["target"], alignment["source"],
                    title=translation)
                tf.summary.image(f"alignment/sentence_{i}", image[None])
        self.writer.flush()
