"""Where the real datasets are for the slow tests: $ZOO_DATA_DIR/<name>."""

import os
import pathlib

import pytest


def shared_dataset_dir(name):
    """`$ZOO_DATA_DIR/name`; skips the test when ZOO_DATA_DIR is not set."""
    root = os.environ.get("ZOO_DATA_DIR")
    if not root:
        pytest.skip("ZOO_DATA_DIR is not set; point it at the shared data folder (e.g. ../shared/data)")
    return pathlib.Path(root) / name
