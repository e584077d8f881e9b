"""Training on JAX with keras.distribution (`python -m pipelines.train
--backend jax --distribution ...`): the issue's command on two CPU devices,
and two processes on 127.0.0.1 that end with the weights of one process.

Every run is a subprocess with KERAS_BACKEND=jax, so these tests run from
any backend; they need jax installed (`pip install jax`), and CI runs
them after it installs jax: `python -m pytest -m jax_training`.
"""

import json
import os
import socket
import subprocess
import sys

import h5py
import numpy as np
import pytest

import tensorflow as tf

import zoo
from pipelines import export, node_classification
from pipelines.data.planetoid import load_planetoid
from tests.pipelines.fresh_serving import read_warmup_requests, serve_in_fresh_process
from tests.pipelines.test_serving_conformance import check_text_classification
from tests.pipelines.toy_entries import kill_after_backup
from tests.shared_data import shared_dataset_dir
from tests.weights_isolation import use_only_weights_dir
from zoo.registry import CARD_FILE, WEIGHTS_FILE

pytestmark = [pytest.mark.jax_training, pytest.mark.tf_only]

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _jax_env(devices=1, **extra):
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", **extra)
    env.pop("JAX_PLATFORMS", None)
    return env


def _start(args, env):
    return subprocess.Popen([sys.executable, *args], cwd=REPOSITORY, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process, timeout=600):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_issue_command_trains_gat_cora_on_two_cpu_devices(tmp_path):
    """The command of the issue, verbatim but for the folders: the card says
    JAX, two devices, DataParallel, and its weights load into the
    TensorFlow-backend model with the test accuracy the card records."""
    data_dir = str(shared_dataset_dir("planetoid").parent)
    out, logs = tmp_path / "D", tmp_path / "L"
    _finish(_start(["-m", "pipelines.train", "gat_cora", "--backend", "jax", "--distribution",
                    "data_parallel", "--epochs", "20", "--output-dir", str(out), "--logdir",
                    str(logs)], _jax_env(devices=2, ZOO_DATA_DIR=data_dir)))
    card = json.loads((out / CARD_FILE).read_text())
    assert card["runtime"] == {"backend": "jax", "devices": 2, "processes": 1,
                               "distribution": "DataParallel", "mixed_precision": None}
    assert card["metrics"]["epochs"] == 20
    assert list(logs.glob("train/events.out.tfevents.*")), "no TensorBoard scalars"
    assert list(logs.glob("attention/events.out.tfevents.*")), "no attention statistics"
    model = zoo.load("gat_cora", weights=str(out))  # On this process' backend.
    graph = load_planetoid("cora", data_dir=str(shared_dataset_dir("planetoid")))
    metrics = node_classification.evaluate(model, graph)
    assert metrics["test_accuracy"] == pytest.approx(card["metrics"]["test_accuracy"], abs=0.11)
    assert metrics["test_accuracy"] > 50.0  # 20 epochs from 14 % (a random guess).


def _toy_train(toy_dir, name, extra_args, env):
    return _start(["-m", "tests.pipelines.toy_entries", "train", str(toy_dir), name,
                   "--epochs", "3", *extra_args], env)


def _two_processes_and_one(tmp_path, name):
    """(process 0's, process 1's, one process') trained weights of toy
    entry `name`: two processes of one CPU device each, and one process of
    two devices, the same global mesh and batch."""
    port = _free_port()
    processes = []
    for index in range(2):
        args = ["--output-dir", str(tmp_path / "two" / "out"), "--logdir",
                str(tmp_path / "two" / "logs"), "--coordinator-address", f"127.0.0.1:{port}",
                "--num-processes", "2", "--process-id", str(index)]
        env = _jax_env(devices=1, TOY_WEIGHTS_NPZ=str(tmp_path / f"process{index}.npz"))
        processes.append(_toy_train(tmp_path / "toy", name, args, env))
    outputs = [_finish(p) for p in processes]
    one = _toy_train(tmp_path / "toy", name,
                     ["--distribution", "data_parallel", "--output-dir", str(tmp_path / "one" / "out"),
                      "--logdir", str(tmp_path / "one" / "logs")],
                     _jax_env(devices=2, TOY_WEIGHTS_NPZ=str(tmp_path / "one.npz")))
    _finish(one)
    assert "process 1: done" in outputs[1]
    card = json.loads((tmp_path / "two" / "out" / CARD_FILE).read_text())
    assert card["runtime"]["processes"] == 2 and card["runtime"]["devices"] == 2
    # Only process 0 writes; process 1 keeps nothing once it is done.
    assert not list((tmp_path / "two" / "logs" / "process-1").glob("*.tfevents.*"))
    return [_saved_weights(tmp_path / f) for f in ("process0.npz", "process1.npz", "one.npz")]


def _saved_weights(path):
    """The weights `toy_entries` saved to `path`, in `get_weights()` order (arr_0, arr_1, ...)."""
    npz = np.load(path)
    return [npz[k] for k in sorted(npz.files, key=lambda k: int(k.split("_")[1]))]


def _assert_same_weights(a, b, atol):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


@pytest.mark.parametrize("name", ["gat_cora", "transformer_encoder_sst2"])
def test_two_processes_end_with_the_weights_of_one(tmp_path, name):
    """gat_cora (the whole graph split over the processes, with dropout) and
    the tiny text classifier (each process reads half of every batch of
    the same shuffled order; evaluation's last batch filled to full size):
    both processes hold the same weights, and those of one process over
    the same two devices, within float tolerance (only the order of the
    sums across devices differs)."""
    process0, process1, one = _two_processes_and_one(tmp_path, name)
    _assert_same_weights(process0, process1, atol=0)
    _assert_same_weights(process0, one, atol=1e-5)
    fresh = [w for w in process0 if w.ndim == 2]
    assert any(np.abs(w).max() > 0 for w in fresh)  # trained weights, not zeros


def test_a_tensorflow_strategy_on_jax_is_refused(tmp_path):
    process = _toy_train(tmp_path / "toy", "gat_cora",
                         ["--strategy", "mirrored", "--output-dir", str(tmp_path / "out"),
                          "--logdir", str(tmp_path / "logs")], _jax_env())
    output, _ = process.communicate(timeout=300)
    assert process.returncode != 0
    assert "strategy='mirrored' is a tf.distribute strategy" in output
    assert "--distribution" in output
    assert not (tmp_path / "out").exists()


def test_data_parallel_trains_the_text_classifier_as_one_device(tmp_path):
    """The toy text classifier (no dropout, static shapes): DataParallel
    over two CPU devices, each given half of every batch, ends with the
    weights of one device, within float tolerance."""
    runs = {}
    for distribution, devices in (("data_parallel", 2), ("none", 1)):
        folder = tmp_path / distribution
        _finish(_toy_train(tmp_path / "toy", "transformer_encoder_sst2",
                           ["--distribution", distribution, "--output-dir", str(folder / "out"),
                            "--logdir", str(folder / "logs")],
                           _jax_env(devices=devices, TOY_WEIGHTS_NPZ=str(folder / "w.npz"))))
        runs[distribution] = _saved_weights(folder / "w.npz")
        card = json.loads((folder / "out" / CARD_FILE).read_text())
        assert card["runtime"]["devices"] == devices
    _assert_same_weights(runs["data_parallel"], runs["none"], atol=1e-5)


@pytest.mark.parametrize("name, metric", [("seq2seq_attn_spa_eng", "test_bleu_greedy"),
                                          ("show_attend_tell_flickr8k", "test_bleu4_beam3")])
def test_the_translator_and_captioner_train_data_parallel(tmp_path, name, metric):
    """The seq2seq pipeline (teacher forcing, BLEU on the test pairs) and
    the captioner's (feature cache, captions and attention overlays in
    TensorBoard) on JAX over two CPU devices; the cards record it."""
    folder = tmp_path / "run"
    _finish(_toy_train(tmp_path / "toy", name,
                       ["--distribution", "data_parallel", "--output-dir", str(folder / "out"),
                        "--logdir", str(folder / "logs")], _jax_env(devices=2)))
    card = json.loads((folder / "out" / CARD_FILE).read_text())
    assert card["runtime"] == {"backend": "jax", "devices": 2, "processes": 1,
                               "distribution": "DataParallel", "mixed_precision": None}
    assert metric in card["metrics"]
    if name == "show_attend_tell_flickr8k":
        assert list((folder / "logs").glob("captions/events.out.tfevents.*"))


def test_weights_trained_on_jax_export_and_serve_from_tensorflow(tmp_path, monkeypatch):
    """Export stays TensorFlow: the toy classifier trained data-parallel on
    JAX, `python -m pipelines.export NAME --weights DIR` here (this process
    runs TensorFlow), and the SavedModel's warm-up requests (the card's own
    test file), replayed in a process that cannot import the project,
    answer what the Python API answers with those weights."""
    name, out = "transformer_encoder_sst2", tmp_path / "run" / "out"
    _finish(_toy_train(tmp_path / "toy", name,
                       ["--distribution", "data_parallel", "--output-dir", str(out),
                        "--logdir", str(tmp_path / "run" / "logs")], _jax_env(devices=2)))
    assert json.loads((out / CARD_FILE).read_text())["runtime"]["backend"] == "jax"
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    path = export.main([name, "--weights", str(out), "--output-dir", str(tmp_path / "export")])
    requests = read_warmup_requests(path)
    served = serve_in_fresh_process(path, requests, tmp_path)
    inputs = [{key: tf.make_ndarray(proto) for key, proto in request.items()} for request in requests]
    check_text_classification(name, inputs, served, weights=str(out / WEIGHTS_FILE))


# --- what the TensorFlow path has, on JAX (item 3) ---------------------------------

def test_bfloat16_trains_with_float32_weights(tmp_path):
    """`--mixed-precision bfloat16` on JAX over two devices: the card says
    so, the loss stays finite, and the weights stay float32."""
    folder = tmp_path / "run"
    _finish(_toy_train(tmp_path / "toy", "transformer_encoder_sst2",
                       ["--distribution", "data_parallel", "--mixed-precision", "bfloat16",
                        "--output-dir", str(folder / "out"), "--logdir", str(folder / "logs")],
                       _jax_env(devices=2, TOY_WEIGHTS_NPZ=str(folder / "w.npz"))))
    card = json.loads((folder / "out" / CARD_FILE).read_text())
    assert card["runtime"]["mixed_precision"] == "bfloat16"
    assert np.isfinite(card["metrics"]["validation_loss"])
    assert {w.dtype for w in _saved_weights(folder / "w.npz")} == {np.dtype("float32")}


def test_a_nan_loss_stops_and_keeps_the_last_good_backup(tmp_path):
    """The weights become NaN at the start of epoch 53 (0-based 52): the run
    stops with the error, writes no weights or card, and keeps the backup
    of epoch 50 (gat_cora backs up every 50 epochs), all finite."""
    out, logs = tmp_path / "out", tmp_path / "logs"
    process = _toy_train(tmp_path / "toy", "gat_cora",
                         ["--epochs", "60", "--distribution", "data_parallel", "--output-dir",
                          str(out), "--logdir", str(logs)], _jax_env(devices=2,
                                                                       TOY_NAN_AT_EPOCH="52"))
    output, _ = process.communicate(timeout=600)
    assert process.returncode != 0
    assert "the training loss became nan at epoch 53, batch 1" in output
    assert not list(out.iterdir())
    backup = logs / "backup"
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 50
    with h5py.File(backup / "latest.weights.h5") as f:
        arrays = []
        f.visititems(lambda _, item: arrays.append(item[()])
                     if isinstance(item, h5py.Dataset) else None)
    assert arrays and all(np.all(np.isfinite(a)) for a in arrays)


def test_a_killed_run_resumes_to_the_result_of_an_uninterrupted_one(tmp_path):
    """`--epochs 300` of the toy GAT over two devices (dropout 0.6, patience
    100, a backup every 50 epochs), SIGKILLed after the backup of epoch
    200; the same command resumes and ends with the card and weights of
    a run that was not interrupted: model, optimizer, early stopping and
    the dropout generators' state are in the backup on JAX too."""
    def command(folder):
        return ["--epochs", "300", "--distribution", "data_parallel", "--output-dir",
                str(folder / "out"), "--logdir", str(folder / "logs")]

    metadata = tmp_path / "killed" / "logs" / "backup" / "training_metadata.json"
    env = _jax_env(devices=2, TOY_WEIGHTS_NPZ=str(tmp_path / "resumed.npz"))
    killed = _toy_train(tmp_path / "toy", "gat_cora", command(tmp_path / "killed"), env)
    kill_after_backup(killed, metadata, epoch=200)
    output = _finish(_toy_train(tmp_path / "toy", "gat_cora", command(tmp_path / "killed"), env))
    assert "resuming from epoch" in output
    _finish(_toy_train(tmp_path / "toy", "gat_cora", command(tmp_path / "straight"),
                       _jax_env(devices=2, TOY_WEIGHTS_NPZ=str(tmp_path / "straight.npz"))))
    resumed, straight = (json.loads((tmp_path / f / "out" / CARD_FILE).read_text())["metrics"]
                         for f in ("killed", "straight"))
    assert resumed == straight
    assert resumed["best_epoch"] < 200 < resumed["epochs"]
    _assert_same_weights(_saved_weights(tmp_path / "resumed.npz"),
                         _saved_weights(tmp_path / "straight.npz"), atol=0)
