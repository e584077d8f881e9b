"""What every benchmark result records, and how it is written: JSON + markdown."""

import datetime
import json
import os
import platform
import shlex
import sys


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
