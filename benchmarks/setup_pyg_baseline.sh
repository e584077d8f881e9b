#!/usr/bin/env bash
# Create the SEPARATE virtual environment used only by the GAT benchmark's
# PyTorch Geometric baseline (benchmarks/baselines/pyg_gat.py).  The
# attention-zoo package itself never uses this environment.
#
# Usage:  bash benchmarks/setup_pyg_baseline.sh [VENV_DIR]
#         (default VENV_DIR: .venv-pyg in the repository root; git-ignored)
#
# torch is pinned to 2.13.0 (the CPU build): an unpinned torch would pull the
# newest release with several GB of CUDA packages.  torch-geometric is
# installed afterwards with --no-deps plus its pure-Python dependencies, so it
# can never upgrade or replace torch; the script checks that at the end.
set -euo pipefail

TORCH_VERSION="2.13.0"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="${1:-$REPO_ROOT/.venv-pyg}"
PYTHON_BIN="${PYTHON:-python3}"

if [ ! -x "$VENV_DIR/bin/python" ]; then
    "$PYTHON_BIN" -m venv "$VENV_DIR"
fi
PY="$VENV_DIR/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

"${PIP[@]}" install --quiet "torch==$TORCH_VERSION" "numpy"
# torch-geometric's own requirements (it declares no torch requirement, but
# --no-deps makes sure nothing it asks for can touch torch).
"${PIP[@]}" install --quiet \
    aiohttp fsspec jinja2 "psutil>=5.8.0" pyparsing requests tqdm xxhash
"${PIP[@]}" install --quiet --no-deps torch-geometric==2.8.1

"$PY" - "$TORCH_VERSION" <<'PYEOF'
import sys
import torch
import torch_geometric
from torch_geometric.nn import GATConv  # noqa: F401

want = sys.argv[1]
got = torch.__version__
if got.split("+")[0] != want:
    sys.exit(f"torch {got} installed, expected {want}")
if torch.version.cuda is not None:
    sys.exit(f"torch {got} is a CUDA build, expected the CPU build")
print(f"torch {got}, torch_geometric {torch_geometric.__version__}")
PYEOF
"${PIP[@]}" check || true

echo "$PY"
