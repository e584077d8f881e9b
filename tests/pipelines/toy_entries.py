"""Tiny synthetic stand-ins for every zoo entry's data and config, so a test
can train each entry for a step in seconds, here or in a subprocess.

    python -m tests.pipelines.toy_entries mirrored OUT.json TOY_DIR
        one training step of every entry under MirroredStrategy over two
        logical CPU devices (they must exist before TensorFlow starts, hence
        a process of its own); writes `train_one_step`'s records to OUT.json.
    python -m tests.pipelines.toy_entries train TOY_DIR NAME [train options]
        `python -m pipelines.train NAME ...` with NAME's toy data and
        config swapped in (how a test runs, and kills, the real command);
        with $TOY_WEIGHTS_NPZ set, the trained weights are also saved there;
        with $TOY_NAN_AT_EPOCH=K, the weights become NaN at the start of
        epoch K (0-based; `PoisonWeights`).

The data are the fixtures of the task tests (toy Planetoid graph, toy
Flickr8k folder, toy TSV files, toy pair file); the loaders that pin the
real datasets' sizes and checksums are patched the way those tests do. The
tiny architectures replace the entries' presets (`toy_preset`), where an
architecture lives, so that `zoo.load` and the cards see them too.
"""

import functools
import json
import os
import pathlib
import signal
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from pipelines import runtime, tasks
from pipelines import train as train_cli
from pipelines.configs import get_config
from pipelines.data import flickr8k, planetoid
from pipelines.data.download import sha256_file
from zoo.models import FAMILIES
from tests.pipelines.data.test_flickr8k import NUM_TEST, NUM_VALIDATION, write_toy_flickr8k
from tests.pipelines.data.test_planetoid import NUM_VAL, write_toy_planetoid
from tests.pipelines.test_text_classification import write_toy_tsv_files
from tests.pipelines.test_translation import write_toy_pairs


def _toy_cora(folder, monkeypatch):
    folder = write_toy_planetoid(folder / "planetoid", name="cora")
    digests = {suffix: sha256_file(folder / f"ind.cora.{suffix}")
               for suffix in planetoid._SHA256["cora"]}
    monkeypatch.setitem(planetoid._SHA256, "cora", digests)
    monkeypatch.setattr(planetoid, "read_planetoid",
                        functools.partial(planetoid.read_planetoid, num_val=NUM_VAL))
    return str(folder)


def _toy_flickr8k(folder, monkeypatch):
    folder = folder / "flickr8k"
    if not folder.exists():
        write_toy_flickr8k(folder)
    monkeypatch.setattr(flickr8k, "load_flickr8k", functools.partial(
        flickr8k.load_flickr8k, num_test=NUM_TEST, num_validation=NUM_VALIDATION))
    return str(folder)


def toy_preset(monkeypatch, name, **kwargs):
    """Replaces kwargs of entry `name`'s preset (e.g. a tiny width) while
    `monkeypatch` lasts; returns the new preset kwargs."""
    family = next(f for f in FAMILIES if name in f.PRESETS)
    preset = family.PRESETS[name]
    monkeypatch.setitem(family.PRESETS, name, dict(preset, kwargs=dict(preset["kwargs"], **kwargs)))
    return zoo.info(name)["kwargs"]


def toy_entries(folder, monkeypatch):
    """{name: (config, data_dir)} for every registered entry, its toy data
    written under `folder` (a pathlib.Path); `monkeypatch` (pytest's, or a
    `pytest.MonkeyPatch()`) points the loaders at it."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name in zoo.list_models():
        config = get_config(name)
        task = config["task"]
        if task == "node_classification":
            entries[name] = config, _toy_cora(folder, monkeypatch)  # about 660 epochs of 6 ms
        elif task == "captioning":
            toy_preset(monkeypatch, name, image_size=64, embedding_dim=8, units=8,
                       attention_units=4, dropout=0.0, max_length=6)
            entries[name] = (dict(config, encoder_weights=None, min_count=1,
                                  batch_size=4, max_epochs=2),
                             _toy_flickr8k(folder, monkeypatch))
        elif task == "text_classification":
            files = write_toy_tsv_files(folder, sizes=(48, 16, 16))
            toy_preset(monkeypatch, name, num_layers=1, num_heads=2, hidden_dim=8, ff_dim=16,
                       dropout=0.0, max_length=16)
            entries[name] = (dict(config, files=files, dataset="tsv",
                                  batch_size=8, max_epochs=2), None)
        elif task == "translation":
            pairs = write_toy_pairs(folder / "pairs.txt", count=120)
            toy_preset(monkeypatch, name, embedding_dim=8, units=8, dropout=0.0,
                       max_source_length=8, max_target_length=8)  # attention or not: the entry's
            entries[name] = (dict(config, pairs_file=pairs, dataset="pairs", batch_size=8,
                                  max_epochs=2), None)
        else:
            raise NotImplementedError(f"No toy data for task {task!r} (entry {name!r}): add it "
                                      "to tests/pipelines/toy_entries.py.")
    return entries


class OneStepDone(Exception):
    """Raised by `OneStep`: leaves `fit` before validation and the epoch's end."""


class OneStep(keras.callbacks.Callback):
    """Records what ran the first training step, then ends `fit` at once."""

    def __init__(self):
        super().__init__()
        self.record = None

    def on_train_batch_end(self, batch, logs=None):
        model = self.model
        self.record = dict(loss=float(logs["loss"]), jit_compile=bool(model.jit_compile),
                           replicas=model.distribute_strategy.num_replicas_in_sync,
                           dtype_policy=model.dtype_policy.name)
        raise OneStepDone


def kill_after_backup(process, metadata, epoch):
    """SIGKILLs `process` (a training) once the backup's `metadata` file
    (training_metadata.json) records `epoch` or later."""
    seen = 0
    while seen < epoch:
        assert process.poll() is None, f"finished before it was killed: {process.stdout.read()[-4000:]}"
        time.sleep(0.01)
        try:
            seen = json.loads(pathlib.Path(metadata).read_text())["epoch"]
        except (FileNotFoundError, json.JSONDecodeError):  # Not written yet, or being written.
            pass
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL


class PoisonWeights(keras.callbacks.Callback):
    """Makes the weights NaN at the start of epoch `at` (after the backup of
    the epoch before was written), so that epoch's first loss is NaN."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])


def train_one_step(name, config, data_dir, runtime):
    """Runs one step of `name`'s own `train()` under `runtime`; returns
    `OneStep.record`."""
    probe = OneStep()
    try:
        tasks.task_for(config).train(name, config, seed=0, epochs=1, verbose=0,
                                            data_dir=data_dir, runtime=runtime,
                                            extra_callbacks=[probe])
    except OneStepDone:
        pass
    return probe.record


def _mirrored(output, folder):
    tf.config.set_visible_devices([], "GPU")  # "mirrored" would take the GPUs first
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    mirrored = runtime.Runtime(strategy=runtime.strategy("mirrored"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        records = {name: train_one_step(name, config, data_dir, mirrored)
                   for name, (config, data_dir) in toy_entries(folder, monkeypatch).items()}
    pathlib.Path(output).write_text(json.dumps(records))


def _train(folder, argv):
    with pytest.MonkeyPatch.context() as monkeypatch:
        entries = toy_entries(folder, monkeypatch)
        name = argv[0]
        config, data_dir = entries[name]
        monkeypatch.setattr(train_cli, "get_config", lambda _: dict(config))
        task = tasks.task_for(config)
        if os.environ.get("TOY_NAN_AT_EPOCH"):
            monkeypatch.setattr(task, "train", functools.partial(
                task.train, extra_callbacks=[PoisonWeights(int(os.environ["TOY_NAN_AT_EPOCH"]))]))
        trained = _record_trained_model(task, monkeypatch)
        train_cli.main(argv + (["--data-dir", data_dir] if data_dir else []))
        if os.environ.get("TOY_WEIGHTS_NPZ"):
            # Every process' weights, also those that write no card (not process 0).
            np.savez(os.environ["TOY_WEIGHTS_NPZ"], *trained[0].get_weights())


def _record_trained_model(task, monkeypatch):
    """A list that receives the model `task.train` returns."""
    trained = []
    original = task.train

    def train_and_record(*args, **kwargs):
        result = original(*args, **kwargs)
        trained.append(result[0])
        return result

    monkeypatch.setattr(task, "train", train_and_record)
    return trained


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "mirrored":
        _mirrored(args[0], pathlib.Path(args[1]))
    elif mode == "train":
        _train(pathlib.Path(args[0]), args[1:])
    else:
        raise SystemExit(f"Unknown mode {mode!r}: mirrored or train.")
