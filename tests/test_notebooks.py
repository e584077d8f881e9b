"""The Colab notebooks (notebooks/*.ipynb).

Each notebook runs from top to bottom in smoke mode (``ZOO_NOTEBOOK_SMOKE=1``:
tiny trainings on CPU, outputs in a temporary folder; marked `notebooks`,
not in the default run, about a minute per notebook), is committed without
outputs, and holds the same cells as its jupytext twin (the .py in percent
format, the file to edit: `jupytext --sync notebooks/NAME.py` updates the
.ipynb).

Run: ``ZOO_DATA_DIR=../shared/data ZOO_PRETRAINED_DIR=../shared/weights
python -m pytest -m notebooks``; the GAT notebook on JAX runs with
``-m jax_training`` (the captioning notebook's MobileNet weights
come from ``ZOO_PRETRAINED_DIR``, else Keras downloads them).
"""

import json
import os
import pathlib

import pytest

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
# One smoke run takes well under a minute on 2 CPU cores; this is the hang guard.
CELL_TIMEOUT = 600


def _cells(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_notebook_has_a_py_twin_and_the_reverse():
    ipynb = {path.stem for path in NOTEBOOKS}
    py = {path.stem for path in NOTEBOOK_DIR.glob("*.py")}
    assert ipynb, f"no notebooks in {NOTEBOOK_DIR}"
    assert ipynb == py, f"unpaired: {sorted(ipynb ^ py)} (pair with `jupytext --set-formats ipynb,py:percent`)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_in_sync_with_its_py_twin(path):
    jupytext = pytest.importorskip("jupytext")
    twin = path.with_suffix(".py")
    assert _cells(jupytext.read(path)) == _cells(jupytext.read(twin)), (
        f"{path.name} and {twin.name} differ: edit the .py, then `jupytext --sync {twin}`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name}, cell {index}: has outputs (strip them: "
                f"`jupyter nbconvert --clear-output --inplace {path}`, or `jupytext --sync` from the .py)")


def _run_in_smoke_mode(path, tmp_path, monkeypatch):
    if not os.environ.get("ZOO_DATA_DIR"):
        pytest.skip("ZOO_DATA_DIR is not set; point it at the shared data folder (e.g. ../shared/data)")
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    # The kernel inherits this environment: smoke mode, and its temporary
    # folders (the notebooks' outputs) inside tmp_path.
    monkeypatch.setenv("ZOO_NOTEBOOK_SMOKE", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("ZOO_WEIGHTS_DIR", raising=False)
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError naming the failing cell


@pytest.mark.notebooks
@pytest.mark.tf_only
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_in_smoke_mode(path, tmp_path, monkeypatch):
    _run_in_smoke_mode(path, tmp_path, monkeypatch)


@pytest.mark.jax_training  # CI's step that has jax installed
@pytest.mark.tf_only
def test_the_gat_notebook_trains_on_jax(tmp_path, monkeypatch):
    """What a TPU runtime does (`--backend auto` picks JAX there), on the
    CPU: the notebook trains on JAX, then evaluates, plots and exports
    with TensorFlow; the card says JAX."""
    monkeypatch.setenv("ZOO_NOTEBOOK_BACKEND", "jax")
    _run_in_smoke_mode(NOTEBOOK_DIR / "01_gat_cora.ipynb", tmp_path, monkeypatch)
    cards = list(tmp_path.glob("zoo_notebook_*/weights/gat_cora/metrics.json"))
    assert len(cards) == 1, cards
    assert json.loads(cards[0].read_text())["runtime"]["backend"] == "jax"
