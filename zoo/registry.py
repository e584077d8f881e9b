"""The zoo's registry: entry name -> builder, preset kwargs, weights, metadata.

`load`, `list_models` and `info` are the public face (re-exported by `zoo`).
Trained weights are looked for, in order (`weights_roots`), like keras-hub
presets or timm's pretrained configs, in the first of these folders that
holds `<root>/<name>/model.weights.h5`:

1. `$ZOO_WEIGHTS_DIR/<name>/` (your own weights, e.g. a training's output);
2. the weights that ship with the package: `zoo/_savedmodels/` in a wheel
   (package data, mapped from `savedmodels/` by pyproject.toml), or the
   checkout's `savedmodels/` in a development install;
3. the user cache, `$ZOO_CACHE_DIR/weights/` or
   `~/.cache/attention_zoo/weights/`.

Each folder holds:

    model.weights.h5   the Keras weights
    <asset files>      builder inputs that are data, not code (e.g. a
                       vocabulary.txt), named by the entry's `assets`
    metrics.json       the metrics card: command, seed, date, measured
                       metrics, sha256 of the weights file, builder kwargs

An entry's architecture lives in one place, its preset's `kwargs` (every
builder argument but the asset files and the `LOAD_OPTIONS`). The card
records the kwargs the weights were trained with; `load` refuses shipped
weights whose card disagrees with the preset, and rebuilds weights given
by path from the card beside them (a model trained with other settings).
"""

import difflib
import inspect
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from zoo._files import cache_root, sha256_of
from zoo.models import FAMILIES

WEIGHTS_FILE = "model.weights.h5"
_PACKAGE = Path(__file__).resolve().parent
# The shipped weights: package data in a wheel, the checkout's folder in a
# development install (pyproject.toml maps one onto the other).
SHIPPED_ROOTS = (_PACKAGE / "_savedmodels", _PACKAGE.parent / "savedmodels")


def weights_roots():
    """The folders searched for `<root>/<name>/model.weights.h5`, in order."""
    own = os.environ.get("ZOO_WEIGHTS_DIR")
    return [*([Path(own)] if own else []), *SHIPPED_ROOTS, cache_root() / "weights"]


def is_development_install():
    """True when `zoo` is imported from a checkout (its savedmodels/ beside it)."""
    return SHIPPED_ROOTS[1].is_dir()
CARD_FILE = "metrics.json"
# Builder arguments that are not architecture: what a built model returns,
# and where a fresh model's weights start from. Presets leave them out,
# cards do not record them, any load may pass them.
LOAD_OPTIONS = ("return_attention", "encoder_weights")


@dataclass(frozen=True)
class ModelEntry:
    """One zoo entry: how to build it and what it is."""

    name: str
    builder: Callable
    kwargs: dict
    task: str
    paper: str
    dataset: str
    target: str
    command: str
    # builder argument -> file in weights_dir passed as its value, unless
    # overridden (e.g. {"vocabulary": "vocabulary.txt"}).
    assets: dict = field(default_factory=dict)
    # Of those, the ones a model may be trained without (e.g. "subwords"):
    # when the file is absent, the builder's default is used.
    optional_assets: tuple = ()
    # Of the kwargs, those training takes from its dataset (e.g. GAT's
    # num_features): the card records them, `--set` cannot change them.
    data_kwargs: tuple = ()

    @property
    def weights_searched(self):
        """Every folder `weights_dir` may be, in the order they are tried."""
        return [root / self.name for root in weights_roots()]

    @property
    def weights_dir(self) -> Path:
        """The first searched folder holding the weights file (else the first
        searched, where a missing file is then reported)."""
        folders = self.weights_searched
        return next((f for f in folders if (f / WEIGHTS_FILE).is_file()), folders[0])

    def card(self):
        """The metrics card as a dict, or None if no trained weights ship."""
        return read_card(self.weights_dir)


def read_card(folder):
    """The metrics card in `folder` as a dict, or None if it has none."""
    path = Path(folder) / CARD_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def _as_json(value):
    """`value` as a card stores it (tuples become lists), to compare with one."""
    return json.loads(json.dumps(value))


def _differences(recorded, expected, what):
    """'key: card <v>, <what> <w>' for every recorded key whose value differs."""
    return [f"{key}: card {value!r}, {what} {_as_json(expected.get(key, '(absent)'))!r}"
            for key, value in sorted(recorded.items())
            if key not in expected or _as_json(expected[key]) != value]


def _entries():
    entries = {}
    for family in FAMILIES:
        for name, preset in family.PRESETS.items():
            entries[name] = ModelEntry(name=name, **preset)
    return entries


def list_models():
    """Sorted names of every registered zoo entry."""
    return sorted(_entries())


def _entry(name):
    entries = _entries()
    if name in entries:
        return entries[name]
    close = difflib.get_close_matches(str(name), list(entries), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"Unknown zoo model {name!r}.{hint} Available: {', '.join(sorted(entries))}."
    )


def info(name):
    """What an entry is and what it measured: a dict with task, paper,
    dataset, target, command, metrics (from its card; {} if untrained),
    weights_available, weights_dir (where they are; weights_searched: every
    folder tried, in order), and `kwargs`: the preset's builder
    kwargs, the shipped architecture (`data_kwargs`: those training takes
    from its dataset)."""
    entry = _entry(name)
    card = entry.card() or {}
    return {
        "name": entry.name,
        "task": entry.task,
        "paper": entry.paper,
        "dataset": entry.dataset,
        "target": entry.target,
        "command": entry.command,
        "metrics": card.get("metrics", {}),
        "trained_with": card.get("command"),
        "date": card.get("date"),
        "weights_available": (entry.weights_dir / WEIGHTS_FILE).is_file(),
        "weights_dir": str(entry.weights_dir),
        "weights_searched": [str(folder) for folder in entry.weights_searched],
        "kwargs": dict(entry.kwargs),
        "data_kwargs": list(entry.data_kwargs),
        "assets": dict(entry.assets),
    }


def load(name, weights="trained", **overrides):
    """Builds a zoo entry, with its trained weights by default.

    Args:
        name: a name from `list_models()`.
        weights: ``"trained"`` (the shipped weights), None (fresh weights),
            a path to a ``.weights.h5`` file, or a folder holding
            ``model.weights.h5``. Weights given by path are rebuilt from
            the metrics card beside them, when there is one (a model trained
            with ``--set max_length=256`` loads as such), and their asset
            files (e.g. ``vocabulary.txt``) are read from the same folder.
        **overrides: keyword arguments of the entry's builder that replace
            the preset's (e.g. ``dropout=0.5``, ``return_attention=True``).
            The builder gets the preset's kwargs, then (weights by path) the
            card's, then the entry's asset files, then these.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: unknown name (naming close matches), unknown override
            (naming the valid keys), a `weights` that is not one of the
            kinds above, shipped weights whose card records other builder
            kwargs than the preset (naming each that differs), a weights
            file that does not match its metrics card, cannot be read
            (truncated, corrupt) or does not fit.
        FileNotFoundError: the weights file is not there (for the trained
            weights: naming the command that trains them), or an asset file.
    """
    entry = _entry(name)
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise ValueError(f"`weights` must be 'trained', None or a path to a .weights.h5 file "
                         f"(or its folder). Received: weights={weights!r}")
    valid = list(inspect.signature(entry.builder).parameters)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ValueError(
            f"Unknown override(s) {', '.join(unknown)} for {name!r}. "
            f"Valid keys: {', '.join(valid)}."
        )
    by_path = weights is not None and weights != "trained"
    path = _weights_path(entry, weights) if by_path else entry.weights_dir / WEIGHTS_FILE
    folder = path.parent
    kwargs = dict(entry.kwargs)
    if weights == "trained":
        _check_card_matches_preset(entry, overrides)
    elif by_path:
        kwargs.update(_card_kwargs(entry, folder, valid))
    assets = {}
    for argument, file_name in entry.assets.items():
        if argument in overrides:
            continue
        asset = folder / file_name
        if not asset.is_file() and argument in entry.optional_assets:
            continue
        if not asset.is_file():
            source = (f"which a training writes beside {path.name}. Train with `{entry.command} "
                      f"--output-dir {folder}`" if by_path else
                      f"which ships with the trained weights. Train them with `{entry.command}`")
            raise FileNotFoundError(
                f"{name!r} needs its {argument} file {asset}, {source}, or pass {argument}=... ."
            )
        assets[argument] = str(asset)
    model = entry.builder(**{**kwargs, **assets, **overrides})
    if weights is None:
        return model
    if not path.is_file():
        searched = ", ".join(str(folder / WEIGHTS_FILE) for folder in entry.weights_searched)
        raise FileNotFoundError(
            f"No weights for {name!r} at {path}. Looked for {WEIGHTS_FILE} in: {searched}. "
            f"Train them with `{entry.command}` and pass weights=<its output folder> or set "
            "ZOO_WEIGHTS_DIR (or pass weights=None for a fresh model)."
        )
    if weights == "trained":
        expected = (entry.card() or {}).get("weights_sha256")
        actual = sha256_of(path)
        if expected != actual:
            raise ValueError(
                f"The weights file {path} does not match its metrics card "
                f"(sha256 {actual}, card says {expected}): it is corrupt or was "
                f"replaced. Re-create it with `{entry.command}`."
            )
    try:
        model.load_weights(str(path))
    except (OSError, zipfile.BadZipFile) as error:  # h5py / zipfile could not read it
        raise ValueError(
            f"The weights file {path} cannot be read: it is truncated or corrupt, or not a Keras "
            f"weights file ({error}). Replace it, or re-create it with `{entry.command}`."
        ) from error
    except Exception as error:  # Keras raises several types for a mismatch.
        raise ValueError(
            f"The weights at {path} do not fit {name!r} built with overrides "
            f"{overrides}: {error}. Overrides that change the architecture need "
            "weights=None."
        ) from error
    return model


def _weights_path(entry, weights):
    """The weights file `weights` names (a file, or a folder holding WEIGHTS_FILE)."""
    path = Path(weights)
    if path.is_dir():
        path = path / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"No weights file at {path}. `weights` must be 'trained' (the shipped weights), "
            f"None (fresh weights), the path of a .weights.h5 file or a folder holding "
            f"{WEIGHTS_FILE}. Received: weights={str(weights)!r}"
        )
    return path


def _check_card_matches_preset(entry, overrides):
    """The shipped card must record the preset's architecture: the preset is
    where it is declared, and a card that says otherwise means the weights
    (or the preset) changed. An override of a key settles it for that load."""
    card = entry.card()
    if card is None:  # The weights' sha256 check names the missing card.
        return
    recorded = {k: v for k, v in card.get("builder_kwargs", {}).items() if k not in overrides}
    differences = _differences(recorded, entry.kwargs, "preset")
    if differences:
        raise ValueError(
            f"The metrics card {entry.weights_dir / CARD_FILE} records other builder kwargs "
            f"than the preset of {entry.name!r}: {'; '.join(differences)}. The shipped weights "
            f"were trained with the card's: load them with weights=<their folder> (built from "
            f"the card), pass the card's values as overrides, or re-create them with "
            f"`{entry.command}`."
        )


def _card_kwargs(entry, folder, valid):
    """The builder kwargs the card in `folder` recorded ({} without a card)."""
    card = read_card(folder)
    if card is None:
        return {}
    kwargs = card.get("builder_kwargs", {})
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(
            f"The metrics card {Path(folder) / CARD_FILE} records builder kwargs {entry.name!r} "
            f"does not have: {', '.join(unknown)} (valid keys: {', '.join(valid)}). It was "
            "written for another entry: load with that entry's name."
        )
    return kwargs
