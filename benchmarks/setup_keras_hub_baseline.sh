#!/usr/bin/env bash
# Create the SEPARATE virtual environment used only by the transformer
# throughput benchmark's keras-hub baseline
# (.venv-hub/bin/python -m benchmarks.transformer_throughput ...).
# The attention-zoo package itself never uses this environment, and keras-hub
# is never installed into the main .venv.
#
# Usage:  bash benchmarks/setup_keras_hub_baseline.sh [VENV_DIR]
#         (default VENV_DIR: .venv-hub in the repository root; git-ignored)
#
# The environment gets the repository's pinned requirements.txt plus
# keras-hub, so the baseline runs on exactly the TensorFlow and Keras that
# attention-zoo is measured on.  requirements.txt is also passed as a
# constraints file: keras-hub and its dependencies can never upgrade or
# replace a pinned package (pip fails instead); the script checks the
# versions at the end.  attention-zoo is not installed: the benchmarks run
# with the repository root as working directory, so `zoo` is the source
# tree's, and the throughput benchmark times all its variants in this venv,
# in one process.
set -euo pipefail

KERAS_HUB_VERSION="0.32.0"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${1:-$REPO_ROOT/.venv-hub}"
PYTHON_BIN="${PYTHON:-python3}"
REQUIREMENTS="$REPO_ROOT/requirements.txt"

if [ ! -x "$VENV_DIR/bin/python" ]; then
    "$PYTHON_BIN" -m venv "$VENV_DIR"
fi
PY="$VENV_DIR/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

"${PIP[@]}" install --quiet -r "$REQUIREMENTS" -c "$REQUIREMENTS" \
    "keras-hub==$KERAS_HUB_VERSION"

# The versions the benchmark must compare on: read from requirements.txt.
TF_VERSION="$(sed -n 's/^tensorflow==//p' "$REQUIREMENTS")"
KERAS_VERSION="$(sed -n 's/^keras==//p' "$REQUIREMENTS")"

"$PY" - "$TF_VERSION" "$KERAS_VERSION" "$KERAS_HUB_VERSION" <<'PYEOF'
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
import keras_hub
import tensorflow as tf
from keras_hub.layers import TransformerEncoder  # noqa: F401

want = dict(zip(("tensorflow", "keras", "keras_hub"), sys.argv[1:]))
got = dict(tensorflow=tf.__version__, keras=keras.__version__, keras_hub=keras_hub.__version__)
for name in want:
    if got[name] != want[name]:
        sys.exit(f"{name} {got[name]} installed, expected {want[name]}")
print(", ".join(f"{name} {version}" for name, version in got.items()))
PYEOF
"${PIP[@]}" check || true

echo "$PY"
