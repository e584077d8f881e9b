"""`python -m pipelines.train NAME --set KEY=VALUE`: every architecture kwarg
of the preset and training setting of the config, parsed and checked; the
card records the resolved settings, `zoo.load(NAME, weights=DIR)` rebuilds
them, export serves them; the backup is tied to them (issues 23, 22 item 8).
"""

import functools
import inspect
import json

import keras
import pytest
import tensorflow as tf

import zoo
from pipelines import evaluate as evaluate_cli
from pipelines import export, settings, tasks
from pipelines import text_classification as text_task
from pipelines import train as train_cli
from pipelines.configs import get_config
from tests.pipelines.fresh_serving import read_warmup_requests, serve_in_fresh_process
from tests.pipelines.test_serving_conformance import check_text_classification
from tests.pipelines.test_text_classification import write_toy_tsv_files
from tests.pipelines.toy_entries import toy_entries
from tests.weights_isolation import use_only_weights_dir

NAME = "transformer_encoder_sst2"


# --- parsing and checking -------------------------------------------------------

def test_values_are_python_or_json_literals_of_the_keys_type():
    architecture, training = settings.parse_overrides(NAME, [
        "max_length=256", "num_heads=8", "dropout=0", "norm_first=true", "merge=mean",
        "standardize='lower'", "subword_lengths=[3, 4]", "batch_size=32",
        "learning_rate=3e-4", "max_tokens=None"])
    assert architecture == dict(max_length=256, num_heads=8, dropout=0.0, norm_first=True,
                                merge="mean", standardize="lower", subword_lengths=(3, 4))
    assert training == dict(batch_size=32, learning_rate=3e-4, max_tokens=None)
    assert isinstance(architecture["dropout"], float)
    assert settings.parse_overrides(NAME, ["subword_lengths=None", "max_tokens=20000"]) == (
        dict(subword_lengths=None), dict(max_tokens=20000))
    assert settings.parse_overrides("seq2seq_attn_spa_eng", ["score=dot", "attention_units=64"]) \
        == (dict(score="dot", attention_units=64), {})


@pytest.mark.parametrize("assignment, message", [
    ("num_head=8", "Unknown setting 'num_head' for transformer_encoder_sst2. Did you mean "
                   "'num_heads'"),
    ("batchsize=8", "Did you mean 'batch_size'?"),
    ("num_heads=eight", "--set num_heads takes int. Received: num_heads=eight (str)"),
    ("num_heads=2.5", "--set num_heads takes int. Received: num_heads=2.5 (float)"),
    ("norm_first=1", "--set norm_first takes bool. Received: norm_first=1 (int)"),
    ("learning_rate=fast", "--set learning_rate takes float. Received: learning_rate=fast"),
    ("max_tokens=many", "--set max_tokens takes int or None. Received: max_tokens=many"),
    ("max_length", "--set takes KEY=VALUE. Received: 'max_length'"),
    ("task=translation", "task is not a setting"),
])
def test_bad_overrides_name_the_key_and_what_is_allowed(assignment, message):
    with pytest.raises(ValueError) as error:
        settings.parse_overrides(NAME, [assignment])
    assert message in str(error.value)
    if "Unknown" in message:  # every valid key is named
        architecture, training = settings.defaults(NAME)
        assert all(key in str(error.value) for key in [*architecture, *training])


def test_the_datasets_sizes_cannot_be_set():
    with pytest.raises(ValueError, match="taken from the training data"):
        settings.parse_overrides("gat_cora", ["num_features=5"])


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_listed_key_takes_its_default_and_is_read(name):
    """Each key `info` lists parses its own default back, names one setting
    of one kind, and is read: an architecture kwarg by the builder, a
    training setting by the task's module (or train's main: the seed)."""
    architecture, training = settings.defaults(name)  # raises on a key of both kinds
    assert architecture and training
    arguments = [f"{key}={value!r}" for key, value in {**architecture, **training}.items()]
    parsed = settings.parse_overrides(name, arguments)
    assert json.loads(json.dumps(parsed[0])) == json.loads(json.dumps(architecture))
    assert parsed[1] == training
    builder = zoo.registry._entry(name).builder
    assert set(architecture) <= set(inspect.signature(builder).parameters)
    source = inspect.getsource(tasks.task_for(get_config(name)))
    for key in training:
        assert key == "seed" or f'config["{key}"]' in source or f'config.get("{key}"' in source, key


def test_help_lists_the_keys_with_their_defaults(capsys):
    with pytest.raises(SystemExit):
        train_cli.main([NAME, "--help"])
    out = capsys.readouterr().out
    assert "max_length=64  (int)" in out and "batch_size=32  (int)" in out
    assert "subword_lengths=(3, 5)  (tuple or None)" in out
    with pytest.raises(SystemExit):
        train_cli.main(["--help"])
    assert "python -m zoo info NAME" in capsys.readouterr().out


def test_train_refuses_a_bad_override_before_training(tmp_path):
    with pytest.raises(SystemExit, match="Did you mean 'max_length'"):
        train_cli.main([NAME, "--set", "max_lenght=256", "--output-dir", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


# --- a run with overrides, end to end ----------------------------------------------

@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy entries (tiny presets and configs); weights never go to savedmodels/."""
    use_only_weights_dir(monkeypatch, tmp_path / "weights")
    entries = toy_entries(tmp_path / "toy", monkeypatch)
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(entries[name][0]))
    return entries


@pytest.mark.tf_only
def test_overrides_train_load_export_and_serve(toy, tmp_path, monkeypatch):
    """`--set max_length=256 --set batch_size=32` on the toy classifier: the
    card records them, zoo.load(NAME, weights=DIR) rebuilds that model with
    no override passed, tf.data pads to 256, pipelines.evaluate reproduces
    the card on the card's data, and the export (its warm-up
    from the card's own TSV files) serves in a fresh process what the
    Python API answers, its tokens 256 wide."""
    # Enough short texts for length buckets of 32.
    (tmp_path / "tsv").mkdir()
    files = write_toy_tsv_files(tmp_path / "tsv", sizes=(160, 16, 16))
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(toy[name][0], files=files))
    output = tmp_path / "runs" / "long"
    train_cli.main([NAME, "--set", "max_length=256", "--set", "batch_size=32", "--epochs", "1",
                    "--verbose", "0", "--output-dir", str(output), "--logdir", str(tmp_path / "logs")])
    card = json.loads((output / zoo.registry.CARD_FILE).read_text())
    assert card["builder_kwargs"]["max_length"] == 256
    assert card["builder_kwargs"] == json.loads(json.dumps(
        settings.architecture(NAME, dict(max_length=256))))
    assert card["training"]["batch_size"] == 32 and card["training"]["files"] == files
    assert card["overrides"] == dict(max_length=256, batch_size=32)

    model = zoo.load(NAME, weights=output)
    assert model.max_length == 256 and zoo.info(NAME)["kwargs"]["max_length"] == 16  # the preset
    data = text_task.load_data(card["training"])
    batches = text_task.train_dataset(model, data.texts["train"], data.labels["train"],
                                      card["training"]["batch_size"], static_shapes=True)
    ids = tf.nest.flatten(next(iter(batches))[0])[0]
    assert ids.shape[:2] == (32, 256)

    # pipelines.evaluate on the folder: the card's model on the card's data, its numbers.
    again = evaluate_cli.evaluate(NAME, weights=str(output))
    assert again == {k: v for k, v in card["metrics"].items() if k.endswith(("accuracy", "loss"))}

    path = export.export(NAME, output_dir=str(tmp_path / "export"), weights=str(output))
    requests = read_warmup_requests(path)
    inputs = [{key: tf.make_ndarray(proto) for key, proto in request.items()} for request in requests]
    assert [t.decode() for t in inputs[0]["text"]] == data.texts["test"][:1]  # the card's test file
    served = serve_in_fresh_process(path, requests, tmp_path)
    assert served[0]["tokens"].shape == (1, 256)
    check_text_classification(NAME, inputs, served, weights=str(output / zoo.registry.WEIGHTS_FILE))


# --- the backup is tied to the run's settings --------------------------------------

class Interrupt(keras.callbacks.Callback):
    """Stops training at the start of epoch 2, after epoch 1's backup."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


@pytest.mark.tf_only
def test_a_resume_with_other_settings_is_refused_and_a_resume_says_so(toy, tmp_path,
                                                                      monkeypatch, capsys):
    logdir = tmp_path / "logs"
    command = [NAME, "--epochs", "2", "--verbose", "0", "--logdir", str(logdir),
               "--output-dir", str(tmp_path / "out")]
    _interrupted(command, monkeypatch)
    backup = logdir / "backup"
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 1

    for change, difference in [(["--seed", "1"], "seed: backup 0, now 1"),
                               (["--set", "max_length=32"], "architecture.max_length: backup 16, now 32"),
                               (["--set", "learning_rate=0.1"], "training.learning_rate: backup 0.0005, now 0.1"),
                               (["--epochs", "3"], "epochs: backup 2, now 3")]:
        with pytest.raises(SystemExit) as refused:
            train_cli.main(command + change)
        message = str(refused.value)
        assert f"Refusing to resume from the backup in {backup}" in message and difference in message
        assert "--restart" in message and "another --logdir" in message
        assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 1  # kept

    capsys.readouterr()
    train_cli.main(command)  # the same command resumes
    assert f"resuming from epoch 1 of {backup}" in capsys.readouterr().out
    assert not backup.exists()

    _interrupted(command, monkeypatch)  # another backup, then --restart with another seed
    train_cli.main(command + ["--seed", "1", "--restart"])
    out = capsys.readouterr().out
    assert f"--restart: deleted the backup in {backup}" in out and "resuming" not in out
    assert json.loads((tmp_path / "out" / zoo.registry.CARD_FILE).read_text())["seed"] == 1


def _interrupted(command, monkeypatch):
    """Runs `command`, stopped by `Interrupt` (a backup of epoch 1 is left)."""
    with monkeypatch.context() as patch:
        patch.setattr(text_task, "train",
                      functools.partial(text_task.train, extra_callbacks=[Interrupt()]))
        with pytest.raises(KeyboardInterrupt):
            train_cli.main(command)


def test_a_backup_that_records_no_settings_is_refused(tmp_path, capsys):
    """A backup of an older version (no run_settings.json) cannot show it is
    this run's: refused too; --restart deletes it."""
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "training_metadata.json").write_text(json.dumps({"epoch": 3, "batch": 0}))
    run = dict(name=NAME, seed=0, training=dict(batch_size=32), architecture=dict(dims=(3, 5)))
    with pytest.raises(SystemExit, match="does not record its run's settings"):
        settings.check_backup(backup, run)
    (backup / settings.RUN_SETTINGS_FILE).write_text(json.dumps(run))
    settings.check_backup(backup, run)  # tuples compare as the JSON lists they are stored as
    assert f"resuming from epoch 3 of {backup}" in capsys.readouterr().out
    settings.check_backup(backup, dict(run, seed=1), restart=True)
    assert not (backup / "training_metadata.json").exists()
    assert json.loads((backup / settings.RUN_SETTINGS_FILE).read_text())["seed"] == 1
