"""The settings of a training run, and `--set KEY=VALUE` overrides of them.

An entry has two kinds of settings, each declared in one place:

- its architecture: the builder kwargs of its preset
  (`zoo/models/<family>/*_presets.py`, `zoo.info(NAME)["kwargs"]`), less the
  ones training takes from the data (`data_kwargs`, e.g. GAT's num_features);
- its training settings: its config (`pipelines/configs/NAME.py`), less
  `task` and `dataset` (chosen with --dataset, --train-file, --pairs).

A key names one setting of one kind. A value's type is its default's (an
int is accepted for a float, a list for a tuple), unless the builder's
annotation or the config's `TYPES` says more (e.g. ``int | None``). No
TensorFlow here: `python -m zoo info` lists the settings through this
module's `defaults`.
"""

import ast
import difflib
import inspect
import json
import os
import shutil
import types
import typing
from pathlib import Path

import zoo
from pipelines.configs import get_config, get_types

NOT_SETTINGS = ("task", "dataset")  # what the config is for, and its own flags
NONE = type(None)


def defaults(name):
    """(architecture, training): the settable keys of entry `name` and
    their defaults, the preset's and the config's."""
    info = zoo.info(name)
    architecture = {k: v for k, v in info["kwargs"].items() if k not in info["data_kwargs"]}
    training = {k: v for k, v in get_config(name).items() if k not in NOT_SETTINGS}
    clash = sorted(set(architecture) & set(training))
    if clash:  # A contract of the presets and configs (tests/pipelines/test_settings.py).
        raise ValueError(f"{name}: {', '.join(clash)} is both an architecture kwarg (preset) "
                         "and a training setting (config); a key must name one setting.")
    return architecture, training


def _types_of(value):
    if value is None:
        return (NONE,)
    if isinstance(value, bool):
        return (bool,)
    if isinstance(value, float):
        return (float,)
    if isinstance(value, (tuple, list)):
        return (tuple,)
    return (type(value),)


def _types_of_annotation(annotation):
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(t for arg in typing.get_args(annotation) for t in _types_of_annotation(arg))
    if annotation is None or annotation is NONE:
        return (NONE,)
    origin = typing.get_origin(annotation) or annotation
    return (tuple,) if origin in (tuple, list) else (origin,)


def expected_types(name):
    """{key: the types its value may have} for every settable key."""
    architecture, training = defaults(name)
    parameters = inspect.signature(zoo.registry._entry(name).builder).parameters
    declared = get_types(name)
    result = {}
    for key, value in architecture.items():
        annotation = parameters[key].annotation
        result[key] = (_types_of(value) if annotation is inspect.Parameter.empty
                       else _types_of_annotation(annotation))
    for key, value in training.items():
        result[key] = tuple(declared[key]) if key in declared else _types_of(value)
    return result


def _type_names(allowed):
    return " or ".join("None" if t is NONE else t.__name__ for t in allowed)


def parse_value(text):
    """A Python literal (``3e-4``, ``(3, 5)``, ``None``), else a JSON one
    (``true``, ``null``), else the text itself (a bare word)."""
    for parse in (ast.literal_eval, json.loads):
        try:
            return parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    return text


def _coerce(key, text, value, allowed):
    """`value` as one of the `allowed` types, or a ValueError naming the key."""
    if isinstance(value, bool):
        if bool in allowed:
            return value
    elif isinstance(value, int) and int in allowed:
        return value
    elif isinstance(value, (int, float)) and float in allowed:
        return float(value)
    elif isinstance(value, (tuple, list)) and tuple in allowed:
        return tuple(value)
    elif value is None and NONE in allowed:
        return None
    elif type(value) in allowed:
        return value
    if str in allowed:  # `--set encoder=1`: a string-typed key takes the text as it is.
        return text
    raise ValueError(f"--set {key} takes {_type_names(allowed)}. "
                     f"Received: {key}={text} ({type(value).__name__})")


def parse_overrides(name, assignments):
    """``["max_length=256", ...]`` -> (architecture, training) overrides,
    each value parsed and checked against its key's type.

    Raises:
        ValueError: no ``=``, an unknown key (naming the valid keys and the
            close matches), a data-derived key, or a value of another type.
    """
    architecture, training = defaults(name)
    allowed = expected_types(name)
    data_kwargs = zoo.info(name)["data_kwargs"]
    chosen = ({}, {})
    for assignment in assignments or ():
        key, equals, text = assignment.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ValueError(f"--set takes KEY=VALUE. Received: {assignment!r}")
        if key in data_kwargs:
            raise ValueError(f"--set {key}: {name}'s {key} is taken from the training data "
                             f"(the preset's {zoo.info(name)['kwargs'][key]!r} is its dataset's); "
                             "it cannot be set.")
        if key in NOT_SETTINGS:
            raise ValueError(f"--set {key}: {key} is not a setting; choose the data with "
                             "--dataset, --train-file or --pairs.")
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(
                f"Unknown setting {key!r} for {name}.{hint} Valid keys: architecture (the "
                f"preset) {', '.join(architecture)}; training (the config) "
                f"{', '.join(training)}. Received: --set {assignment}")
        value = _coerce(key, text, parse_value(text), allowed[key])
        chosen[0 if key in architecture else 1][key] = value
    return chosen


def architecture(name, overrides=None, **from_data):
    """The full builder kwargs of a run, what its card records: the preset's,
    then the `overrides`, then what the data fixed (`from_data`)."""
    return {**zoo.info(name)["kwargs"], **(overrides or {}), **from_data}


def describe(name):
    """The settable keys of `name` with their defaults and types, as text
    (the `--help` of `python -m pipelines.train NAME`)."""
    architecture_, training = defaults(name)
    allowed = expected_types(name)
    lines = [f"--set keys of {name} (KEY=VALUE; values are Python or JSON literals):",
             "  architecture (its preset):"]
    lines += [f"    {k}={v!r}  ({_type_names(allowed[k])})" for k, v in architecture_.items()]
    lines.append("  training (its config):")
    lines += [f"    {k}={v!r}  ({_type_names(allowed[k])})" for k, v in training.items()]
    return "\n".join(lines)


def run_config(name, weights="trained", fallback=get_config):
    """The training config that made `weights`: the one the card beside a
    weights path recorded (its data files, e.g. for export's warm-up), else
    `fallback(name)`, the entry's own config."""
    if weights is not None and weights != "trained":
        path = Path(weights)
        card = zoo.registry.read_card(path if path.is_dir() else path.parent)
        if card and isinstance(card.get("training"), dict):
            return dict(card["training"])
    return fallback(name)


# The backup's copy of its run's settings (pipelines.train, `check_backup`).
RUN_SETTINGS_FILE = "run_settings.json"


def check_backup(backup_dir, run, restart=False):
    """Ties the resumable backup in `backup_dir` to the `run` settings.

    A backup from a run with other settings (seed, epochs, data, training
    settings, architecture) would resume silently into weights the card
    then misdescribes, so it is refused, naming what differs. A resume
    prints "resuming from epoch N of DIR". `restart` deletes the backup
    and starts fresh. Then `run` is written into `backup_dir` (the backup
    is deleted with it when training finishes).

    Raises:
        SystemExit: the backup is another run's, or does not say whose.
    """
    backup_dir = Path(backup_dir)
    recorded_file = backup_dir / RUN_SETTINGS_FILE
    run = json.loads(json.dumps(run))  # as the file holds it: lists, not tuples
    if restart and backup_dir.exists():
        shutil.rmtree(backup_dir)
        print(f"--restart: deleted the backup in {backup_dir}; training starts from epoch 1")
    metadata = backup_dir / "training_metadata.json"
    if metadata.is_file():
        recorded = json.loads(recorded_file.read_text()) if recorded_file.is_file() else None
        if recorded != run:
            what = ("it does not record its run's settings (an older backup)" if recorded is None
                    else "its run had other settings: " + "; ".join(_changes(recorded, run)))
            raise SystemExit(
                f"Refusing to resume from the backup in {backup_dir}: {what}. Run the command "
                "that made it again to resume, or start fresh: pass --restart (deletes the "
                "backup), delete the folder, or use another --logdir.")
        epoch = json.loads(metadata.read_text())["epoch"]
        print(f"resuming from epoch {epoch} of {backup_dir}")
    backup_dir.mkdir(parents=True, exist_ok=True)
    temporary = recorded_file.with_suffix(".tmp")
    temporary.write_text(json.dumps(run, indent=2) + "\n")
    os.replace(temporary, recorded_file)


def discard_unused_backup(backup_dir):
    """Removes what `check_backup` wrote if no epoch was backed up since (a
    run that failed before its first backup leaves nothing behind)."""
    backup_dir = Path(backup_dir)
    if not (backup_dir / "training_metadata.json").exists():
        (backup_dir / RUN_SETTINGS_FILE).unlink(missing_ok=True)
        if backup_dir.is_dir() and not any(backup_dir.iterdir()):
            backup_dir.rmdir()
            if not any(backup_dir.parent.iterdir()):  # the logdir, if nothing else made it
                backup_dir.parent.rmdir()


def _changes(old, new, prefix=""):
    """'key: backup <old>, now <new>' for each differing (nested) key."""
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "(absent)"), new.get(key, "(absent)")
        if isinstance(a, dict) and isinstance(b, dict):
            changes += _changes(a, b, f"{prefix}{key}.")
        elif a != b:
            changes.append(f"{prefix}{key}: backup {a!r}, now {b!r}")
    return changes
