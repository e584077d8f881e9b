"""What the notebooks in notebooks/ share once they stand in a checkout.

Each notebook's first cell finds (or, in Colab, clones and installs) the
checkout and changes into it; that part stays in every notebook, because it
runs before this package can be imported. Then:

    from pipelines.notebook import run, work_dir
    WORK = work_dir(SMOKE)
    run("-m", "pipelines.train", "gat_cora", "--output-dir", WORK / "weights" / "gat_cora")
"""

import os
import pathlib
import subprocess
import sys
import tempfile


def work_dir(smoke):
    """The folder a notebook writes everything to, never savedmodels/.

    The training command writes the weights and metrics card to
    WORK/weights/NAME; with ZOO_WEIGHTS_DIR pointing there (set here),
    zoo.load, pipelines.evaluate and pipelines.export read the new model
    instead of the shipped one. Smoke mode (CI) uses a fresh temporary folder;
    otherwise it is runs/notebooks in the checkout (the current folder).
    """
    work = pathlib.Path(tempfile.mkdtemp(prefix="zoo_notebook_")) if smoke \
        else pathlib.Path.cwd() / "runs" / "notebooks"
    os.environ["ZOO_WEIGHTS_DIR"] = str(work / "weights")
    return work


def run(*args):
    """Runs `python ARGS` in the current folder (the checkout), printing its
    output as it comes; raises if the command fails.

    Written here because subprocess.run(capture_output=True) would show the
    output (Keras progress bars, minutes of training) only at the end.
    """
    args = [str(arg) for arg in args]
    print("$ python", " ".join(args), flush=True)
    with subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            print(line, end="")
    if process.returncode:
        raise RuntimeError(f"`python {' '.join(args)}` failed with exit status {process.returncode}")
