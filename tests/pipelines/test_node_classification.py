"""Tests for the node-classification pipeline and `python -m pipelines.train`.

The data is the toy Planetoid graph of tests/pipelines/data/test_planetoid.py
(12 nodes, 4 features, 3 classes, 3 train / 2 val / 5 test nodes), written
under the real name "cora". `load_planetoid` verifies pinned sha256 digests
and assumes 500 validation nodes, so the `toy_cora` fixture pins the toy
files' own digests for "cora" and makes `read_planetoid` use the toy's
validation size; the lookup and checksum code still run on `--data-dir`.
"""

import functools
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo

from pipelines import callbacks as zoo_callbacks
from pipelines import node_classification as task
from pipelines import train as train_cli
from pipelines.configs import get_config
from pipelines.data import planetoid
from pipelines.data.download import sha256_file
from tests.pipelines.data.test_planetoid import NUM_VAL, write_toy_planetoid
from tests.weights_isolation import use_only_weights_dir
from zoo.registry import CARD_FILE, WEIGHTS_FILE, sha256_of

pytestmark = [
    pytest.mark.tf_only,
    # Keras' note that a tf.data input is not shuffled: one full-batch graph.
    pytest.mark.filterwarnings("ignore:`shuffle=True` was passed"),
    pytest.mark.usefixtures("offline_env"),
]

SIZES = dict(num_features=4, num_classes=3)


@pytest.fixture
def toy_cora(tmp_path, monkeypatch):
    """A folder with the toy graph as ind.cora.*, loadable by load_planetoid."""
    folder = write_toy_planetoid(tmp_path / "planetoid", name="cora")
    digests = {suffix: sha256_file(folder / f"ind.cora.{suffix}")
               for suffix in planetoid._SHA256["cora"]}
    monkeypatch.setitem(planetoid._SHA256, "cora", digests)
    monkeypatch.setattr(planetoid, "read_planetoid",
                        functools.partial(planetoid.read_planetoid, num_val=NUM_VAL))
    return folder


@pytest.fixture
def config():
    return dict(get_config("gat_cora"), patience=1000)


def test_toy_cora_fixture_loads_the_toy(toy_cora):
    graph = planetoid.load_planetoid("cora", data_dir=toy_cora)
    assert (graph.num_nodes, graph.num_features, graph.num_classes) == (12, 4, 3)
    assert (len(graph.train_index), len(graph.val_index)) == (3, NUM_VAL)


def test_train_and_evaluate(toy_cora, config):
    model, graph, sizes, history = task.train(
        "gat_cora", config, seed=0, epochs=4, verbose=0, data_dir=toy_cora)
    assert sizes == {**zoo.info("gat_cora")["kwargs"], **SIZES}  # the preset's, the data's sizes
    assert history.epochs_run == 4 and len(history.history["val_accuracy"]) == 4
    assert 0 <= history.best_epoch < 4
    assert all(np.isfinite(history.history["loss"]))
    results = task.evaluate(model, graph)
    for split in ("train", "val", "test"):
        assert 0.0 <= results[f"{split}_accuracy"] <= 100.0
        assert np.isfinite(results[f"{split}_loss"]) and results[f"{split}_loss"] > 0
    # evaluate() agrees with Keras' weighted metrics on the validation split.
    keras_val = model.evaluate(task.graph_dataset(graph, "val"), verbose=0, return_dict=True)
    assert keras_val["accuracy"] * 100 == pytest.approx(results["val_accuracy"], abs=0.01)


def test_full_graph_validation_equals_keras_evaluate(toy_cora, config):
    """The per-epoch validation callback reports what Keras' evaluate() would."""
    model, graph, _, history = task.train(
        "gat_cora", config, seed=0, epochs=2, verbose=0, data_dir=toy_cora)
    logs = {}
    callback = task.full_graph_validation(graph)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, logs)
    keras_val = model.evaluate(task.graph_dataset(graph, "val"), verbose=0, return_dict=True)
    assert logs["val_accuracy"] == pytest.approx(keras_val["accuracy"], abs=1e-6)
    assert logs["val_cross_entropy"] == pytest.approx(keras_val["cross_entropy"], rel=1e-5)
    assert logs["val_loss"] == pytest.approx(keras_val["loss"], rel=1e-5)
    assert set(history.history) >= {"val_accuracy", "val_loss", "val_cross_entropy"}


def test_split_weights_average_over_the_split(toy_cora):
    graph = planetoid.load_planetoid("cora", data_dir=toy_cora)
    weights = task.split_weights(graph, "train")
    assert weights.shape == (12,)
    np.testing.assert_allclose(weights[graph.train_index], 12 / 3)
    assert weights.sum() == pytest.approx(12.0)
    assert np.all(weights[~graph.mask("train")] == 0)
    padded = task.split_weights(graph, "train", padding=2)  # 2 isolated nodes appended
    np.testing.assert_allclose(padded[graph.train_index], 14 / 3)
    assert padded.shape == (14,) and padded[12:].tolist() == [0, 0]


class FakeModel:
    """What the early-stopping callback uses of a model: weights and a flag."""

    def __init__(self):
        self.weights, self.stop_training = [np.zeros(2)], False

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]


# (val_accuracy, val_cross_entropy) per epoch, with patience 2:
LOGS = [
    (0.50, 1.00),  # 0: both improve -> kept
    (0.60, 0.90),  # 1: both improve -> kept (the weights to restore)
    (0.70, 0.95),  # 2: accuracy only -> wait reset, weights not kept
    (0.60, 0.93),  # 3: neither -> wait 1
    (0.65, 0.99),  # 4: neither -> wait 2 == patience: stop
    (0.99, 0.10),  # 5: never reached
]


def _run_epochs(callback, model, logs, first_epoch=0):
    """Drives `callback` like fit(): returns the epochs run."""
    ran = []
    for epoch, (accuracy, loss) in enumerate(logs, start=first_epoch):
        model.weights = [np.full(2, float(epoch))]  # "training" marks the weights
        callback.on_epoch_end(epoch, {"val_accuracy": accuracy, "val_cross_entropy": loss})
        ran.append(epoch)
        if model.stop_training:
            break
    return ran


def test_early_stopping_stops_after_patience_and_restores_best():
    model = FakeModel()
    callback = zoo_callbacks.LossAndAccuracyEarlyStopping(patience=2, loss="val_cross_entropy")
    callback.set_model(model)
    callback.on_train_begin()
    ran = _run_epochs(callback, model, LOGS)
    assert ran == [0, 1, 2, 3, 4]
    assert callback.stopped_epoch == 4 and callback.best_epoch == 1
    assert callback.best_accuracy == 0.70 and callback.best_loss == 0.90
    callback.on_train_end()
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_ties_count_as_improvement():
    model = FakeModel()
    callback = zoo_callbacks.LossAndAccuracyEarlyStopping(patience=1, loss="val_cross_entropy")
    callback.set_model(model)
    callback.on_train_begin()
    ran = _run_epochs(callback, model, [(0.5, 1.0), (0.5, 1.0), (0.5, 1.0), (0.4, 1.1), (0.9, 0.1)])
    assert ran == [0, 1, 2, 3]  # ties at 1 and 2 reset the count; 3 is the first miss
    assert callback.best_epoch == 2  # a tie on both keeps the later weights
    callback.on_train_end()
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])


class Interrupt(keras.callbacks.Callback):
    """Raises once at the end of epoch `at`, like a killed process."""

    def __init__(self, at):
        super().__init__()
        self.at, self.fired = at, False

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at and not self.fired:
            self.fired = True
            raise KeyboardInterrupt(f"interrupted after epoch {epoch}")


class Recorder(keras.callbacks.Callback):
    """Records the epochs run and the weights at epoch boundaries."""

    def __init__(self):
        super().__init__()
        self.epochs, self.begin_weights, self.end_weights = [], {}, {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)
        self.begin_weights[epoch] = self.model.get_weights()

    def on_epoch_end(self, epoch, logs=None):
        self.end_weights[epoch] = self.model.get_weights()


def test_interrupted_training_resumes_from_the_backup(toy_cora, config, tmp_path):
    # train() backs up every 50 epochs (one full-batch step per epoch):
    # interrupted after epoch 54, it must resume from the backup of epoch
    # 49, not from scratch.
    backup = tmp_path / "backup"
    interrupt, first = Interrupt(at=54), Recorder()
    with pytest.raises(KeyboardInterrupt):
        task.train("gat_cora", config, seed=0, epochs=60, verbose=0, data_dir=toy_cora,
                   backup_dir=str(backup), extra_callbacks=[interrupt, first])
    assert first.epochs == list(range(55))
    # Keras' weights and epoch, and the early-stopping and random state
    # (tests/pipelines/test_runtime.py checks a killed run ends up identical).
    assert {"training_metadata.json", "latest.weights.h5", "training_state-50.npz"} <= set(
        os.listdir(backup))
    resume_at = json.loads((backup / "training_metadata.json").read_text())["epoch"]
    assert resume_at == 50  # epochs 0..49 are done; 49 is not repeated

    second = Recorder()
    model, graph, sizes, history = task.train(
        "gat_cora", config, seed=0, epochs=60, verbose=0, data_dir=toy_cora,
        backup_dir=str(backup), extra_callbacks=[interrupt, second])
    assert second.epochs == list(range(resume_at, 60))
    assert history.epochs_run == 60  # counted from epoch 0, not from the resume
    # The resumed run starts from the weights after epoch 49, like an
    # uninterrupted run would, not from a fresh init (the same seed would
    # give run 1's initial weights).
    backed_up = first.end_weights[resume_at - 1]
    for got, want in zip(second.begin_weights[resume_at], backed_up):
        np.testing.assert_array_equal(got, want)
    assert any(not np.array_equal(a, b) for a, b in zip(backed_up, first.begin_weights[0]))
    # A finished run keeps its backup: pipelines.train deletes it once the
    # weights and card are written (tests/pipelines/test_run_output.py).
    assert (backup / "training_metadata.json").exists()
    results = task.evaluate(model, graph)
    assert 0 <= results["test_accuracy"] <= 100


def _event_files(folder):
    return sorted(p for p in folder.glob("events.out.tfevents.*") if p.is_file())


def _tags(folder):
    tags = set()
    for path in _event_files(folder):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_train_command_writes_weights_card_and_logs(toy_cora, tmp_path, monkeypatch):
    out, logs = tmp_path / "out" / "gat_cora", tmp_path / "logs"
    argv = ["gat_cora", "--epochs", "3", "--data-dir", str(toy_cora),
            "--output-dir", str(out), "--logdir", str(logs), "--verbose", "0"]
    metrics = train_cli.main(argv)

    weights = out / WEIGHTS_FILE
    assert weights.is_file()
    card = json.loads((out / CARD_FILE).read_text())
    assert card["weights_sha256"] == sha256_of(weights)
    assert card["name"] == "gat_cora" and card["seed"] == 0 and card["dataset"] == "cora"
    assert card["command"].startswith("python -m pipelines.train gat_cora --epochs 3")
    assert card["builder_kwargs"] == {**zoo.info("gat_cora")["kwargs"], **SIZES}
    assert card["training"]["learning_rate"] == 0.005 and card["overrides"] == {}
    assert card["metrics"] == metrics and metrics["epochs"] == 3
    for split in ("train", "val", "test"):
        assert 0 <= metrics[f"{split}_accuracy"] <= 100
    assert (out / "README.md").is_file()

    for sub in ("train", "validation", "attention"):
        assert _event_files(logs / sub), f"no TensorBoard events in {logs / sub}"
    assert "epoch_loss" in _tags(logs / "train")
    attention_tags = _tags(logs / "attention")
    assert "layer_0/head_0/mean_entropy" in attention_tags
    assert {"layer_0/alpha", "layer_1/alpha"} <= attention_tags
    assert not (logs / "backup").exists()

    # What the command wrote is what zoo.load reads, and it scores the same.
    use_only_weights_dir(monkeypatch, out.parent)
    loaded = zoo.load("gat_cora", weights=out)  # the card beside the weights gives the sizes
    graph = planetoid.load_planetoid("cora", data_dir=toy_cora)
    reloaded = task.evaluate(loaded, graph)
    for key, value in reloaded.items():
        assert metrics[key] == value, key


def test_get_config_unknown_name_names_the_close_match():
    with pytest.raises(ValueError, match="gat_cora"):
        get_config("gat_coda")
    assert get_config("gat_cora")["task"] == "node_classification"
    # A copy: editing it must not change the module's CONFIG.
    get_config("gat_cora")["patience"] = 1
    assert get_config("gat_cora")["patience"] == 100


def test_the_default_run_writes_to_runs_and_leaves_the_shipped_weights_alone(
        toy_cora, tmp_path, monkeypatch, capsys):
    """The README's main job, on the toy graph (issue 21): its output goes to
    runs/gat_cora (not savedmodels/, whose files stay byte for byte), it says
    how to load the result, and a full-batch run prints one line per 50
    epochs and at the last, not one per epoch."""
    shipped = zoo.registry._CHECKOUT_WEIGHTS / "gat_cora"
    before = {p.name: sha256_file(p) for p in shipped.iterdir() if p.is_file()}
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZOO_WEIGHTS_DIR", raising=False)
    metrics = train_cli.main(["gat_cora", "--epochs", "120", "--data-dir", str(toy_cora)])
    out = capsys.readouterr().out

    assert (tmp_path / "runs" / "gat_cora" / WEIGHTS_FILE).is_file()
    assert _event_files(tmp_path / "runs" / "gat_cora" / "logs" / "train")
    assert {p.name: sha256_file(p) for p in shipped.iterdir() if p.is_file()} == before
    assert "use them: zoo.load('gat_cora', weights='runs/gat_cora')" in out
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    epochs = metrics["epochs"]
    expected = [*range(50, epochs + 1, 50), *([epochs] if epochs % 50 else [])]
    assert [int(line.split()[1].split("/")[0]) for line in epoch_lines] == expected
    assert len(out.splitlines()) < 12  # the summary, not hundreds of lines


def test_an_installed_package_trains_into_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_WEIGHTS_DIR", raising=False)
    monkeypatch.setattr(train_cli, "is_development_install", lambda: False)
    monkeypatch.setattr(train_cli, "cache_root", lambda: tmp_path / "cache")
    assert train_cli.default_output_dir("gat_cora") == str(tmp_path / "cache" / "runs" / "gat_cora")
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path / "mine"))
    assert train_cli.default_output_dir("gat_cora") == str(tmp_path / "mine" / "gat_cora")
