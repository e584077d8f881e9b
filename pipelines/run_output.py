"""A training run's output folders: checked before training, locked while
it runs, written all at once at its end, so that nothing that finished is lost.

- `check_writable`: an unwritable `--output-dir` or `--logdir` fails before
  the first epoch, not after the last.
- `FolderLock`: a second training into the same folder fails at once
  instead of silently overwriting the first one's files.
- `staged_output`: the task's `save` and the card write into a staging
  folder inside the output, and each file is then renamed into place, the
  card last. A failure while writing leaves the previous contents as they
  were (a crash between two renames leaves a weights file that its card
  does not pin: `zoo.load` refuses it, naming the file, rather than using it).
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

try:  # POSIX; where there is none (Windows), runs are not locked.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

LOCK_FILE = ".training.lock"


def check_writable(folder, flag):
    """Creates `folder` if needed and checks a file can be written in it.

    Raises:
        SystemExit: naming the flag, the folder and the OS error.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as error:
        raise SystemExit(f"python -m pipelines.train: {flag} {folder} is not writable "
                         f"({error.strerror or error}). Nothing was trained; choose another "
                         f"{flag}.") from None


class FolderLock:
    """An exclusive lock on `folder` for the length of a training run.

    The lock is `fcntl.flock` on `folder/.training.lock`: the OS releases it
    when the process ends, even by SIGKILL, so a killed run never leaves a
    stale lock behind and the same command resumes at once. The file holds
    the pid of the run, for the second run's message, and is removed when
    the run ends (a killed run leaves it; it locks nothing then).
    """

    def __init__(self, folder, flag):
        self.path = Path(folder) / LOCK_FILE
        self.flag = flag
        self.file = None

    def __enter__(self):
        if fcntl is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            file = open(self.path, "a+")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.seek(0)
                holder = file.read().strip() or "unknown"
                file.close()
                raise SystemExit(
                    f"python -m pipelines.train: another training (pid {holder}) is writing to "
                    f"{self.path.parent} ({self.flag}). Wait for it to finish, or give this run "
                    f"another {self.flag}.") from None
            # The holder before us may have removed the file after we opened it:
            # then our lock is on a file no one else sees; take the new one.
            if self.path.exists() and os.path.samestat(os.fstat(file.fileno()), os.stat(self.path)):
                break
            file.close()
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n")
        file.flush()
        self.file = file
        return self

    def __exit__(self, *exc):
        if self.file is not None:
            self.path.unlink(missing_ok=True)  # while still holding the lock
            self.file.close()  # closing the descriptor releases the flock
            self.file = None


@contextlib.contextmanager
def staged_output(output_dir):
    """Yields a staging folder inside `output_dir`; when the block succeeds,
    moves each file into `output_dir` (`os.replace`: atomic, one file
    system), `metrics.json` last. When it fails, `output_dir` keeps what it
    held and the staging folder is removed."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=output_dir, prefix=".partial-"))
    try:
        yield staging
        # The card pins the other files' sha256: it goes in once they are in place.
        for path in sorted(staging.iterdir(), key=lambda p: p.name == "metrics.json"):
            os.replace(path, output_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
