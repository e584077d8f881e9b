"""The shipped weights give the same results on every Keras backend: gat_cora
its card's Cora accuracy, the translators, classifier and captioner the same
words and, within float tolerance, the same attention as on TensorFlow
(slow: needs ZOO_DATA_DIR; JAX and PyTorch when installed, as in CI)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import zoo

pytestmark = [pytest.mark.slow, pytest.mark.tf_only]  # TensorFlow's run is the reference
SCRIPT = Path(__file__).with_name("shipped_outputs.py")
ROOT = Path(__file__).resolve().parents[3]


def outputs_on(backend):
    """`shipped_outputs.py`'s JSON, run in a fresh process on `backend`."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def assert_same(actual, expected, path="outputs"):
    """The same structure and strings; arrays within 1e-4."""
    if isinstance(expected, dict):
        assert sorted(actual) == sorted(expected), path
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(expected, list):
        try:  # an array (attention, probabilities)
            arrays = np.asarray(actual, float), np.asarray(expected, float)
        except (TypeError, ValueError):  # strings, or one array per example
            assert len(actual) == len(expected), path
            for index, (a, e) in enumerate(zip(actual, expected)):
                assert_same(a, e, f"{path}[{index}]")
        else:
            np.testing.assert_allclose(*arrays, rtol=1e-4, atol=1e-4, err_msg=path)
    elif isinstance(expected, str):
        assert actual == expected, path
    else:  # a metric, rounded to 2 or 4 decimals
        assert actual == pytest.approx(expected, abs=2e-4), path


@pytest.fixture(scope="module")
def on_tensorflow():
    if not os.environ.get("ZOO_DATA_DIR"):
        pytest.skip("set ZOO_DATA_DIR (e.g. ../shared/data) to run the real-data tests")
    outputs = outputs_on("tensorflow")
    # The reference itself is what the cards say: nothing to agree on otherwise.
    assert outputs["gat_cora"]["test_accuracy"] == zoo.info("gat_cora")["metrics"]["test_accuracy"]
    assert outputs["seq2seq_attn_spa_eng"]["greedy"][0] == "where's the library?"
    return outputs


def installed(backend):
    """`backend` as a test case, skipped (before TensorFlow's reference run)
    when it is not installed; CI installs both for this test."""
    return pytest.param(backend, marks=pytest.mark.skipif(
        importlib.util.find_spec(backend) is None, reason=f"{backend} is not installed"))


@pytest.mark.parametrize("backend", [installed("jax"), installed("torch")])
def test_shipped_entries_agree_with_tensorflow(backend, on_tensorflow):
    outputs = outputs_on(backend)
    assert outputs.pop("backend") == backend
    reference = dict(on_tensorflow)
    reference.pop("backend")
    assert_same(outputs, reference)
