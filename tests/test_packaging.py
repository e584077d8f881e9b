"""The package as a user installs it: `python -m build`, the wheel's
contents, and `zoo.load` of every entry from a regular (non-editable)
install, run from another folder.

Marked `packaging` (about 2 minutes: the wheel carries the 115 MB of trained
weights): `python -m pytest -m packaging`, a step of .ci/run.

The install goes to a `pip install --target` folder put first on
PYTHONPATH, not into a new venv, so that TensorFlow (570 MB) is not
installed again; the test asserts that `zoo` is imported from that folder,
not from the checkout.
"""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import zoo
from zoo.registry import CARD_FILE, WEIGHTS_FILE

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True)
    [path] = out.glob("attention_zoo-*.whl")
    return path


def _tracked(folder):
    files = subprocess.run(["git", "ls-files", folder], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.split()
    return {f for f in files if f.endswith(".py")}


def test_the_wheel_holds_zoo_pipelines_and_every_shipped_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"zoo", "pipelines"}
    # Every module of the two packages (a package left out of pyproject's list would be missing).
    missing = (_tracked("zoo") | _tracked("pipelines")) - names
    assert not missing, f"modules not in the wheel: {sorted(missing)}"
    for name in zoo.list_models():
        card = json.loads((REPO / "savedmodels" / name / CARD_FILE).read_text())
        shipped = {WEIGHTS_FILE, CARD_FILE, *card.get("assets_sha256", {})}
        assert {f"zoo/_savedmodels/{name}/{f}" for f in shipped} <= names, name
    # An export (savedmodels/NAME/VERSION/) is not package data.
    assert not [n for n in names if n.startswith("zoo/_savedmodels/") and n.count("/") > 3]


def test_a_regular_install_loads_every_trained_entry_from_another_folder(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(target), str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ZOO_WEIGHTS_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=str(target), ZOO_CACHE_DIR=str(tmp_path / "cache"),
               TF_CPP_MIN_LOG_LEVEL="2")
    script = (
        "import zoo, zoo.registry as r\n"
        f"assert zoo.__file__.startswith({str(target)!r}), zoo.__file__\n"
        "assert not r.is_development_install()\n"
        "for name in zoo.list_models():\n"
        "    zoo.load(name)\n"
        "    print(name, zoo.info(name)['weights_dir'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = dict(line.split() for line in out.stdout.splitlines())
    assert sorted(loaded) == zoo.list_models()
    assert all(folder.startswith(str(target / "zoo" / "_savedmodels")) for folder in loaded.values())

    listing = subprocess.run([sys.executable, "-m", "zoo", "list"], cwd=elsewhere, env=env,
                             capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr[-2000:]
    assert "gat_cora" in listing.stdout and "test_accuracy=" in listing.stdout
    info = subprocess.run([sys.executable, "-m", "zoo", "info", "gat_cora"], cwd=elsewhere,
                          env=env, capture_output=True, text=True)
    assert info.returncode == 0, info.stderr[-2000:]
    assert json.loads(info.stdout)["metrics"]["test_accuracy"] > 0
