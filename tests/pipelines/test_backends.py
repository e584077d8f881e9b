"""`--backend` (pipelines.backends) and the JAX flags' checks on the
TensorFlow backend: what `auto` picks, and the errors of a flag that does
not fit the active backend."""

import os

import pytest

from pipelines import backends, runtime
from pipelines import train as train_cli

pytestmark = pytest.mark.tf_only


@pytest.mark.parametrize("tpu, tf_tpu_build, expected", [
    (True, False, "jax"),         # a TPU VM with our TensorFlow (no TPU build of 2.21)
    (True, True, "tensorflow"),   # tensorflow-tpu can use it
    (False, False, "tensorflow"),  # CPU or GPU
])
def test_auto_picks_jax_only_for_a_tpu_tensorflow_cannot_use(monkeypatch, tpu, tf_tpu_build,
                                                             expected):
    monkeypatch.setattr(backends, "tpu_attached", lambda: tpu)
    monkeypatch.setattr(backends, "tensorflow_has_tpu_build", lambda: tf_tpu_build)
    assert backends.resolve("auto") == expected
    assert backends.resolve("jax") == "jax" and backends.resolve("tensorflow") == "tensorflow"


def test_the_notebooks_say_which_backend_and_why(monkeypatch):
    monkeypatch.setattr(backends, "tensorflow_has_tpu_build", lambda: False)
    monkeypatch.setattr(backends, "tpu_attached", lambda: True)
    assert backends.explain("auto").startswith("jax: a TPU is attached")
    monkeypatch.setattr(backends, "tpu_attached", lambda: False)
    assert backends.explain("auto").startswith("tensorflow: no TPU")
    assert backends.explain("jax") == "jax (--backend jax)"


def test_an_unknown_backend_is_refused_by_name():
    with pytest.raises(ValueError, match=r"backend='mxnet'; expected one of tensorflow, jax, auto"):
        backends.resolve("mxnet")


def test_the_flag_sets_keras_backend_before_keras_is_imported(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")  # restored after the test
    monkeypatch.setattr(backends, "tpu_attached", lambda: False)
    assert backends.requested(["gat_cora", "--backend", "jax"]) == "jax"
    assert backends.requested(["gat_cora", "--backend=jax"]) == "jax"
    assert backends.requested(["gat_cora"]) is None
    backends.select(["gat_cora", "--backend=jax"])
    assert os.environ["KERAS_BACKEND"] == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    backends.select(["gat_cora"])  # auto, without a TPU
    assert os.environ["KERAS_BACKEND"] == "tensorflow"


def test_a_backend_other_than_the_running_one_is_refused(tmp_path, capsys):
    """From Python, keras is already imported: --backend jax cannot switch it."""
    with pytest.raises(SystemExit, match="Keras is already running on tensorflow"):
        train_cli.main(["gat_cora", "--backend", "jax", "--output-dir", str(tmp_path / "out"),
                        "--logdir", str(tmp_path / "logs")])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, message", [
    (["--distribution", "data_parallel"], "distribution='data_parallel' needs the JAX backend"),
    (["--num-processes", "2"], "num_processes=2 needs the JAX backend"),
])
def test_jax_flags_are_refused_on_tensorflow(tmp_path, argv, message):
    with pytest.raises(SystemExit, match=message):
        train_cli.main(["gat_cora", *argv, "--output-dir", str(tmp_path / "out"),
                        "--logdir", str(tmp_path / "logs")])
    assert not (tmp_path / "out").exists()


def test_distribution_auto_and_none_are_nothing_on_tensorflow():
    assert runtime.distribution("auto") is None and runtime.distribution("none") is None
    with pytest.raises(ValueError, match=r"distribution='model_parallel'; expected one of"):
        runtime.distribution("model_parallel")
    assert runtime.make_runtime().summary() is None  # the shipped cards' default, unchanged


def test_a_process_id_must_be_a_non_negative_integer(capsys):
    with pytest.raises(SystemExit):
        train_cli.parse_args(["gat_cora", "--process-id", "-1"])
    assert "must be an integer 0 or greater. Received: '-1'" in capsys.readouterr().err
