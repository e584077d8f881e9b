"""The training runtime (`pipelines.runtime`) and the production path of
`python -m pipelines.train`: every entry trains under a multi-replica
strategy and under XLA, its training inputs have static shapes in the TPU
setting, a killed run resumes to the same result, and a NaN loss stops
training without writing anything.

Each entry trains on the toy data of `tests/pipelines/toy_entries.py`.
"""

import functools
import json
import math
import os
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from pipelines import node_classification, runtime, tasks
from pipelines import text_classification as text_task
from pipelines import train as train_cli
from tests.pipelines.test_node_classification import Interrupt, Recorder
from tests.pipelines.toy_entries import (OneStepDone, PoisonWeights, kill_after_backup,
                                         toy_entries, train_one_step)
from zoo.registry import CARD_FILE, WEIGHTS_FILE

pytestmark = [
    pytest.mark.tf_only,
    pytest.mark.usefixtures("offline_env"),
    # Keras' notes on a tf.data input it does not shuffle and on bucketed
    # validation sets of unknown length.
    pytest.mark.filterwarnings("ignore:`shuffle=True` was passed"),
    pytest.mark.filterwarnings("ignore:Your input ran out of data"),
]

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """{name: (config, data_dir)} of every registered entry."""
    return toy_entries(tmp_path / "toy", monkeypatch)


def _toy_process(*args, **kwargs):
    """`python -m tests.pipelines.toy_entries ARGS` (a fresh TensorFlow)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "-m", "tests.pipelines.toy_entries", *map(str, args)],
                            cwd=REPOSITORY, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def _finish(process, timeout=600):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


# --- choosing the runtime ---------------------------------------------------

def test_unknown_strategy_or_precision_names_the_allowed_values():
    with pytest.raises(ValueError, match=r"strategy='tpuu'.*auto, tpu, gpu, mirrored, cpu"):
        runtime.strategy("tpuu")
    with pytest.raises(ValueError, match=r"mixed_precision='float8'.*bfloat16, float16"):
        runtime.Runtime(mixed_precision="float8")
    assert isinstance(runtime.strategy("cpu"), tf.distribute.OneDeviceStrategy)


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU") or tf.config.list_physical_devices("TPU")),
                    reason="checks the choices of a CPU-only machine")
def test_cpu_only_machine_strategies():
    assert runtime.strategy("auto") is tf.distribute.get_strategy()
    assert runtime.make_runtime("auto").summary() is None  # the default: cards unchanged
    with pytest.raises(ValueError, match="no TPU is attached"):
        runtime.strategy("tpu")
    with pytest.raises(ValueError, match="sees no GPU"):
        runtime.strategy("gpu")
    with pytest.raises(SystemExit, match="no TPU is attached"):
        train_cli.main(["gat_cora", "--strategy", "tpu"])


def test_scope_builds_in_mixed_precision_and_restores_the_policy():
    bf16 = runtime.Runtime(mixed_precision="bfloat16", jit_compile=True)
    with bf16.scope():
        layer = keras.layers.Dense(2)
    assert layer.dtype_policy.name == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    bf16.compile(model, loss="mse")
    assert model.jit_compile is True
    assert bf16.summary() == dict(strategy="_DefaultDistributionStrategy", replicas=1,
                                  mixed_precision="bfloat16", jit_compile=True)


def test_train_cli_flags_reach_the_model_and_the_card(toy, tmp_path, monkeypatch):
    config, data_dir = toy["gat_cora"]
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(config))
    compiled, compile_model = [], node_classification.compile_model
    monkeypatch.setattr(node_classification, "compile_model",
                        lambda model, *args: compiled.append(model) or compile_model(model, *args))
    output = tmp_path / "out"
    train_cli.main(["gat_cora", "--epochs", "2", "--strategy", "cpu", "--mixed-precision",
                    "bfloat16", "--jit-compile", "--data-dir", data_dir, "--verbose", "0",
                    "--output-dir", str(output), "--logdir", str(tmp_path / "logs")])
    (model,) = compiled
    assert model.dtype_policy.name == "mixed_bfloat16" and model.jit_compile is True
    card = json.loads((output / CARD_FILE).read_text())
    assert card["runtime"] == dict(strategy="OneDeviceStrategy", replicas=1,
                                   mixed_precision="bfloat16", jit_compile=True)
    # Variables stay float32: the weights load into the float32 entry.
    float32 = zoo.load("gat_cora", weights=str(output / WEIGHTS_FILE), **card["builder_kwargs"])
    assert float32.dtype_policy.name == "float32"


# --- one step of every entry ------------------------------------------------

@pytest.mark.slow  # About a minute (subprocesses); CI's slow step runs it.
def test_every_entry_trains_a_step_under_mirrored_strategy(toy, tmp_path):
    """Two logical CPU devices must be set up before TensorFlow starts, so
    every entry's step runs in one fresh process."""
    output = tmp_path / "mirrored.json"
    _finish(_toy_process("mirrored", output, tmp_path / "toy"))
    records = json.loads(output.read_text())
    assert sorted(records) == zoo.list_models()
    for name, record in records.items():
        assert record["replicas"] == 2, name
        assert math.isfinite(record["loss"]), name
    # Every replica trains on the whole graph (Keras would split its nodes),
    # so the first step's loss is the single-device one.
    config, data_dir = toy["gat_cora"]
    single = train_one_step("gat_cora", config, data_dir, runtime.Runtime())
    assert records["gat_cora"]["loss"] == pytest.approx(single["loss"], rel=1e-6)


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_entry_trains_a_step_with_jit_compile(toy, name):
    config, data_dir = toy[name]
    record = train_one_step(name, config, data_dir, runtime.Runtime(jit_compile=True))
    assert record["jit_compile"] is True  # Keras turns XLA off for a model it cannot compile
    assert math.isfinite(record["loss"])


@pytest.mark.parametrize("name", zoo.list_models())
def test_training_inputs_are_static_under_the_tpu_setting(toy, name, monkeypatch):
    """What each task's `train()` hands to `fit` has every dimension known."""
    specs = []

    def fit(model, x, *args, **kwargs):
        specs.append(x.element_spec)
        raise OneStepDone

    monkeypatch.setattr(keras.Model, "fit", fit)
    config, data_dir = toy[name]
    with pytest.raises(OneStepDone):
        tasks.task_for(config).train(name, config, seed=0, verbose=0, data_dir=data_dir,
                                            runtime=runtime.Runtime(static_shapes=True))
    shapes = [spec.shape for spec in tf.nest.flatten(specs[0])]
    assert all(shape.is_fully_defined() for shape in shapes), shapes


# --- NaN loss ----------------------------------------------------------------

def test_nan_loss_stops_and_keeps_last_good_weights(toy, tmp_path, monkeypatch):
    config, data_dir = toy["gat_cora"]
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(config))
    recorder = Recorder()
    monkeypatch.setattr(node_classification, "train", functools.partial(
        node_classification.train, extra_callbacks=[PoisonWeights(at=52), recorder]))
    output, logs = tmp_path / "out", tmp_path / "logs"
    with pytest.raises(SystemExit) as stopped:
        train_cli.main(["gat_cora", "--epochs", "60", "--data-dir", data_dir, "--verbose", "0",
                        "--output-dir", str(output), "--logdir", str(logs)])
    message = str(stopped.value)
    assert "the training loss became nan at epoch 53, batch 1" in message
    assert f"Nothing was written to {output}" in message and str(logs / "backup") in message
    assert recorder.epochs == list(range(53))  # stopped in epoch 53, at its first batch
    assert list(output.iterdir()) == []  # no weights, no card (made by the writability check)

    # The backup is the last good one (end of epoch 50: gat_cora backs up
    # every 50 epochs), not the NaN weights, and it is not deleted.
    backup = logs / "backup"
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 50
    with h5py.File(backup / "latest.weights.h5") as f:
        arrays = []
        f.visititems(lambda _, item: arrays.append(item[()]) if isinstance(item, h5py.Dataset) else None)
    assert arrays and all(np.all(np.isfinite(a)) for a in arrays)
    with runtime.Runtime().scope():
        model = node_classification.compile_model(
            zoo.load("gat_cora", weights=None, num_features=4, num_classes=3), 0.005)
    model.optimizer.build(model.trainable_variables)
    model.load_weights(backup / "latest.weights.h5")
    for got, want in zip(model.get_weights(), recorder.end_weights[49]):
        np.testing.assert_array_equal(got, want)


# --- resume ----------------------------------------------------------------------

def _weights(path):
    with h5py.File(path) as f:
        arrays = {}
        f.visititems(lambda name, item: arrays.update({name: item[()]})
                     if isinstance(item, h5py.Dataset) else None)
    return arrays


@pytest.mark.slow  # About a minute (subprocesses); CI's slow step runs it.
def test_killed_training_resumes_to_the_same_result(toy, tmp_path, monkeypatch):
    """`python -m pipelines.train gat_cora --epochs 300` (toy graph, the
    entry's config: patience 100, a backup every 50 epochs, dropout 0.6) is
    SIGKILLed after the backup of epoch 200, after its best epoch (187); the
    same command then resumes and ends with the card and weights of an
    uninterrupted run. That needs the early-stopping state (best epoch, its
    weights, the patience count) and the dropout generators' state in the
    backup, which Keras' BackupAndRestore alone does not save."""
    command = ["gat_cora", "--epochs", "300", "--verbose", "0",
               "--output-dir", tmp_path / "resumed", "--logdir", tmp_path / "logs"]
    metadata = tmp_path / "logs" / "backup" / "training_metadata.json"
    killed = _toy_process("train", tmp_path / "toy", *command)
    kill_after_backup(killed, metadata, epoch=200)
    assert not (tmp_path / "resumed" / CARD_FILE).exists()

    _finish(_toy_process("train", tmp_path / "toy", *command))
    resumed = json.loads((tmp_path / "resumed" / CARD_FILE).read_text())
    assert not metadata.parent.exists()  # a finished run removes its backup

    # The same run uninterrupted, here (same code, same seed).
    config, data_dir = toy["gat_cora"]
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(config))
    train_cli.main(["gat_cora", "--epochs", "300", "--verbose", "0",
                    "--output-dir", str(tmp_path / "straight"),
                    "--logdir", str(tmp_path / "logs2"), "--data-dir", data_dir])
    straight = json.loads((tmp_path / "straight" / CARD_FILE).read_text())
    assert resumed["metrics"] == straight["metrics"]
    assert resumed["metrics"]["best_epoch"] < 200 < resumed["metrics"]["epochs"]
    got = _weights(tmp_path / "resumed" / WEIGHTS_FILE)
    want = _weights(tmp_path / "straight" / WEIGHTS_FILE)
    assert got.keys() == want.keys()
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@pytest.mark.slow  # About a minute (subprocesses); CI's slow step runs it.
def test_interrupted_batch_training_resumes_exactly(toy, tmp_path):
    """A shuffled, bucketed task with dropout and Keras' EarlyStopping
    (text classification): interrupted in epoch 3 and resumed, it ends with
    the bits of an uninterrupted run. The resumed run must see epochs 3-5
    in their own shuffle orders, the dropout masks that follow epoch 2's,
    (and the whole-word dropout's), and early stopping's state: here the
    best epoch is the second, and the patience of 2 runs out in epoch 4,
    after the resume (a fresh EarlyStopping would count epoch 3 as best and
    run all 5). The learning rate and patience are chosen for that: the toy
    run's trajectory moves with any change to the initial weights."""
    config, _ = toy["transformer_encoder_sst2"]
    config = dict(config, max_epochs=5, patience=2, learning_rate=2e-3)

    def train(backup="backup", **kwargs):
        return text_task.train("transformer_encoder_sst2", config, seed=0, verbose=0,
                               backup_dir=str(tmp_path / backup),
                               model_kwargs=dict(dropout=0.1), **kwargs)

    # Its own backup: a finished task.train keeps it (pipelines.train deletes it).
    straight, _, _, straight_history = train(backup="straight-backup")
    assert (straight_history.best_epoch, straight_history.epochs_run) == (2, 4)
    assert straight.subwords is not None  # the entry's config: subwords and their dropout
    with pytest.raises(KeyboardInterrupt):
        # Raised at the end of epoch 3, before its backup: resumes at epoch 3.
        train(extra_callbacks=[Interrupt(at=2)])
    recorder = Recorder()
    resumed, _, _, history = train(extra_callbacks=[recorder])
    assert recorder.epochs == [2, 3]  # 0-based: resumed, and stopped early
    assert (history.best_epoch, history.epochs_run) == (2, 4)
    for got, want in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(got, want)
