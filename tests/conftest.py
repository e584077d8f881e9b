import os

import numpy as np
import pytest

# Quiet TensorFlow's C++ start-up banner in test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seeds and the float32 policy."""
    keras.utils.set_random_seed(0)
    np.random.seed(0)
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")


def pytest_collection_modifyitems(config, items):
    # Pipelines use tf.data / SavedModel: on another backend they cannot run.
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"needs the TensorFlow backend, not {keras.backend.backend()}")
    for item in items:
        if "tf_only" in item.keywords:
            item.add_marker(skip)
