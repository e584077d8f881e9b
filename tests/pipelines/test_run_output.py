"""A training run is never lost at its end nor overwritten by another
(issue 22 items 9 and 10): its folders are checked before the first epoch,
the weights and card are written all at once, the backup is deleted only
after that write, and a second run into a folder in use fails at once."""

import json
import signal
import subprocess
import sys

import pytest

from pipelines import cards, run_output
from pipelines import train as train_cli
from tests.pipelines.test_settings import NAME, toy  # noqa: F401 (the toy fixture)
from zoo.registry import CARD_FILE, WEIGHTS_FILE

pytestmark = pytest.mark.tf_only


def _command(tmp_path, epochs=2):
    return [NAME, "--epochs", str(epochs), "--verbose", "0", "--logdir", str(tmp_path / "logs"),
            "--output-dir", str(tmp_path / "out")]


@pytest.mark.parametrize("flag", ["--output-dir", "--logdir"])
def test_an_unwritable_folder_fails_before_training(toy, tmp_path, monkeypatch, flag):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    command = _command(tmp_path)
    command[command.index(flag) + 1] = str(blocker / "run")
    monkeypatch.setattr(train_cli, "_train_and_write", lambda *a: pytest.fail("it trained"))
    with pytest.raises(SystemExit, match=f"{flag} {blocker / 'run'} is not writable .*Nothing was "
                                         f"trained; choose another {flag}"):
        train_cli.main(command)


def test_a_failed_final_write_keeps_the_backup_and_the_same_command_finishes(
        toy, tmp_path, monkeypatch, capsys):
    command = _command(tmp_path)
    out, backup = tmp_path / "out", tmp_path / "logs" / "backup"
    out.mkdir()
    (out / "old.txt").write_text("what the folder held")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(cards, "write_card", disk_full)
        with pytest.raises(SystemExit, match=f"trained, but writing to {out} failed .*No space left"
                                             f".*The backup in {backup} is kept"):
            train_cli.main(command)
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    # Nothing half-written: not the weights without their card, no staging folder.
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]

    capsys.readouterr()
    train_cli.main(command)
    assert f"resuming from epoch 2 of {backup}" in capsys.readouterr().out
    assert {WEIGHTS_FILE, CARD_FILE, "old.txt"} <= {p.name for p in out.iterdir()}
    assert not backup.exists()  # deleted once the write succeeded
    assert not (out / run_output.LOCK_FILE).exists() and not (tmp_path / "logs" / run_output.LOCK_FILE).exists()


@pytest.mark.parametrize("flag", ["--output-dir", "--logdir"])
def test_a_second_run_into_a_folder_in_use_fails_at_once(toy, tmp_path, monkeypatch, flag):
    command = _command(tmp_path)
    folder = tmp_path / ("out" if flag == "--output-dir" else "logs")
    monkeypatch.setattr(train_cli, "_train_and_write", lambda *a: pytest.fail("it trained"))
    # Another process holds the lock, as a running training does.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pipelines.run_output import FolderLock\n"
         f"with FolderLock({str(folder)!r}, {flag!r}):\n print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SystemExit, match=f"another training \\(pid {holder.pid}\\) is writing to "
                                             f"{folder} \\({flag}\\).*another {flag}"):
            train_cli.main(command)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # SIGKILL released it: the next run takes the folder at once.
    with run_output.FolderLock(folder, flag):
        pass


def test_the_staged_write_replaces_files_card_last_and_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "out"
    with run_output.staged_output(out) as staging:
        (staging / CARD_FILE).write_text("{}")
        (staging / WEIGHTS_FILE).write_text("new")
    assert (out / WEIGHTS_FILE).read_text() == "new" and (out / CARD_FILE).exists()
    with pytest.raises(RuntimeError):
        with run_output.staged_output(out) as staging:
            (staging / WEIGHTS_FILE).write_text("half")
            raise RuntimeError("the write failed")
    assert (out / WEIGHTS_FILE).read_text() == "new"
    assert sorted(p.name for p in out.iterdir()) == sorted([CARD_FILE, WEIGHTS_FILE])
