"""What every benchmark result records, and how it is written: JSON + markdown."""

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile


def metadata(module, argv=None):
    """date, machine and the command that reproduces the run."""
    argv = argv if argv is not None else sys.argv[1:]
    return dict(
        date=datetime.datetime.now().isoformat(timespec="seconds"),
        machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                f"{platform.system()}, python {platform.python_version()}",
        command=f"python -m {module} " + " ".join(shlex.quote(a) for a in argv),
    )


def write(output, report, markdown):
    """Writes OUTPUT (.json) and the markdown beside it (.md)."""
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as f:
        json.dump(report, f, indent=2)
    with open(os.path.splitext(output)[0] + ".md", "w") as f:
        f.write(markdown)


def versions():
    """tensorflow and keras versions, and keras_hub's when it is imported."""
    import keras
    import tensorflow as tf

    found = dict(tensorflow=tf.__version__, keras=keras.__version__)
    if "keras_hub" in sys.modules:
        found["keras_hub"] = sys.modules["keras_hub"].__version__
    return found


def run_in_baseline_venv(python, module, arguments):
    """Runs `python -m module *arguments --json-out FILE` with another venv's
    Python (a baseline's own environment) from the repository root, so it
    uses the same harness; returns the JSON it wrote, after checking that it
    ran on our tensorflow and keras."""
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "baseline.json")
        command = [os.path.abspath(python), "-m", module, *arguments, "--json-out", output]
        subprocess.run(command, check=True, cwd=repo_root)
        with open(output) as f:
            result = json.load(f)
    ours = versions()
    for name in ("tensorflow", "keras"):
        if result["versions"][name] != ours[name]:
            sys.exit(f"the baseline venv has {name} {result['versions'][name]}, this one {ours[name]}")
    return result
