"""Keras callbacks the zoo's training needs and Keras does not ship."""

import json
import os

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

    At the end the kept weights are restored. Its state is written to
    `backup_dir` every `save_every` epochs (next to BackupAndRestore's), so a
    resumed run continues with the same best weights and patience count.
    """

    def __init__(self, patience=100, loss="val_loss", accuracy="val_accuracy",
                 backup_dir=None, save_every=50):
        super().__init__()
        self.patience = patience
        self.loss_key = loss
        self.accuracy_key = accuracy
        self.backup_dir = backup_dir
        self.save_every = save_every

    def _state_paths(self):
        return (os.path.join(self.backup_dir, "early_stopping.json"),
                os.path.join(self.backup_dir, "early_stopping.weights.npz"))

    def on_train_begin(self, logs=None):
        self.best_accuracy, self.best_loss = -np.inf, np.inf
        self.wait, self.best_epoch, self.best_weights = 0, None, None
        self.stopped_epoch = None
        if self.backup_dir and os.path.exists(self._state_paths()[0]):
            state_path, weights_path = self._state_paths()
            with open(state_path) as f:
                state = json.load(f)
            self.best_accuracy, self.best_loss = state["best_accuracy"], state["best_loss"]
            self.wait, self.best_epoch = state["wait"], state["best_epoch"]
            if os.path.exists(weights_path):
                with np.load(weights_path) as data:
                    self.best_weights = [data[f"w{i}"] for i in range(len(data.files))]

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
        if self.backup_dir and (epoch + 1) % self.save_every == 0:
            self._save_state()

    def _save_state(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        state_path, weights_path = self._state_paths()
        if self.best_weights is not None:
            np.savez(weights_path + ".tmp.npz",
                     **{f"w{i}": w for i, w in enumerate(self.best_weights)})
            os.replace(weights_path + ".tmp.npz", weights_path)
        state = dict(best_accuracy=float(self.best_accuracy), best_loss=float(self.best_loss),
                     wait=self.wait, best_epoch=self.best_epoch)
        with open(state_path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(state_path + ".tmp", state_path)

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        if self.backup_dir:
            for path in self._state_paths():
                if os.path.exists(path):
                    os.remove(path)


class EpochBackupAndRestore(keras.callbacks.BackupAndRestore):
    """BackupAndRestore that saves at the end of every `every`-th epoch.

    Keras offers every epoch or every N *batches*. A full-batch epoch is one
    step of ~30 ms, so saving every epoch costs more than training, and
    every-N-batches saves mid-epoch: a resumed run would repeat that epoch
    on weights that already took its step. This keeps Keras' save/restore
    and only moves the save to the epoch's end (its `_save_model` and
    `_current_epoch` are Keras internals; keras is pinned and
    tests/pipelines/test_node_classification.py checks the resume).
    """

    def __init__(self, backup_dir, every=50):
        super().__init__(backup_dir, save_freq="epoch")
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if (epoch + 1) % self.every == 0:
            self._save_model()


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
        captions = self.captioner.detokenize(tokens)
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
