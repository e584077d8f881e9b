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
                       metrics, sha256 of the weights file and of every
                       asset file (``assets_sha256``), builder kwargs

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
import warnings
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
_CHECKOUT_WEIGHTS = _PACKAGE.parent / "savedmodels"
SHIPPED_ROOTS = (_PACKAGE / "_savedmodels", _CHECKOUT_WEIGHTS)


def weights_roots():
    """The folders searched for `<root>/<name>/model.weights.h5`, in order."""
    own = os.environ.get("ZOO_WEIGHTS_DIR")
    return [*([Path(own)] if own else []), *SHIPPED_ROOTS, cache_root() / "weights"]


def is_development_install():
    """True when `zoo` is imported from a checkout (its savedmodels/ beside it)."""
    return _CHECKOUT_WEIGHTS.is_dir()


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
        """The metrics card as a dict, or None if no trained weights ship.
        Raises `CardError` (naming the file) for one that cannot be read."""
        return read_card(self.weights_dir)


class CardError(ValueError):
    """A metrics card that is not a JSON object (the message names the file)."""


def read_card(folder):
    """The metrics card in `folder` as a dict, None if it has none.

    Raises:
        CardError: the file is empty, not UTF-8, not JSON, or not a JSON
            object; the message names the file and what to do.
    """
    path = Path(folder) / CARD_FILE
    if not path.is_file():
        return None
    fix = ("Restore it from the repository, or re-create it with the training command "
           "(zoo.load(..., weights=None) does not need it).")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise CardError(f"The metrics card {path} is not UTF-8 text ({error.reason} at byte "
                        f"{error.start}). {fix}") from None
    except json.JSONDecodeError as error:
        problem = "is empty" if not error.doc.strip() else f"is not valid JSON ({error})"
        raise CardError(f"The metrics card {path} {problem}. {fix}") from None
    if not isinstance(card, dict):
        raise CardError(f"The metrics card {path} must hold a JSON object (name, command, metrics, "
                        f"...). Received: a JSON {type(card).__name__}. {fix}")
    return card


def card_or_warning(entry):
    """`entry.card()`, or {} with a warning naming the file when it cannot be
    read: for what works without the card (fresh weights, listings)."""
    try:
        return entry.card() or {}
    except CardError as error:
        warnings.warn(f"{error} Using {entry.name!r}'s preset kwargs instead.", stacklevel=3)
        return {}


def check_assets(entry, card, assets):
    """Checks each asset file in `assets` (builder argument -> path) against
    the sha256 the card `card` recorded for it (``assets_sha256``).

    Raises:
        ValueError: a file differs from its card (naming the file), or the
            card records asset hashes but not this file's.
    """
    recorded = card.get("assets_sha256")
    if recorded is None:
        if card and assets:  # a card written before asset checksums
            warnings.warn(f"The metrics card of {entry.name!r} records no asset checksums "
                          f"(assets_sha256), so {', '.join(sorted(Path(p).name for p in assets.values()))} "
                          "are not verified. Re-create the card with the training command.",
                          stacklevel=3)
        return
    for argument, path in assets.items():
        path = Path(path)
        expected = recorded.get(path.name) if isinstance(recorded, dict) else None
        actual = sha256_of(path)
        if expected != actual:
            raise ValueError(
                f"The {argument} file {path} does not match its metrics card (sha256 {actual}, card "
                f"says {expected}): it was edited or replaced, and the model would read it silently "
                f"wrong. Restore it, or re-create both with `{entry.command}`.")


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
    try:
        card, card_error = entry.card() or {}, None
    except CardError as error:  # listings and card-free loads keep working
        card, card_error = {}, str(error)
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
        "card_error": card_error,
    }


def _asset_paths(entry, card, overrides, folder, by_path=False):
    """builder argument -> path of each asset file in `folder` that
    `overrides` does not replace. An optional asset that is absent is left
    to the builder's default, unless the card lists it (the weights were
    trained with it): then, as for a required one, the error names the file."""
    recorded = card.get("assets_sha256") or {}
    assets = {}
    for argument, file_name in entry.assets.items():
        if argument in overrides:
            continue
        path = Path(folder) / file_name
        if not path.is_file() and argument in entry.optional_assets and file_name not in recorded:
            continue
        if not path.is_file():
            listed = " (its metrics card lists it)" if file_name in recorded else ""
            source = (f"which a training writes beside {WEIGHTS_FILE}. Train with `{entry.command} "
                      f"--output-dir {folder}`" if by_path else
                      f"which ships with the trained weights. Train them with `{entry.command}`")
            raise FileNotFoundError(
                f"{entry.name!r} needs its {argument} file {path}{listed}, {source}, "
                f"or pass {argument}=... ."
            )
        assets[argument] = str(path)
    return assets


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
            An asset file (vocabulary, labels) that differs from the sha256
            its card recorded, naming the file; a card that cannot be read
            (`CardError`, naming it; with ``weights=None`` only a warning,
            and the preset's kwargs are used).
        FileNotFoundError: the weights file is not there (for the trained
            weights: naming the command that trains them), or an asset file
            (also an optional one the card lists, e.g. subwords.txt).
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
    # The trained weights need their card (it pins their sha256 and the
    # assets'); fresh ones read it only to check the assets they read.
    if weights == "trained":
        card = entry.card() or {}
        _check_card_matches_preset(entry, card, overrides)
    elif by_path:
        card = read_card(folder) or {}
        kwargs.update(_card_kwargs(entry, card, folder, valid))
    else:
        card = card_or_warning(entry)
    assets = _asset_paths(entry, card, overrides, folder, by_path)
    check_assets(entry, card, assets)
    model = entry.builder(**{**kwargs, **assets, **overrides})
    if weights is None:
        return model
    if not path.is_file():
        searched = ", ".join(str(place / WEIGHTS_FILE) for place in entry.weights_searched)
        raise FileNotFoundError(
            f"No weights for {name!r} at {path}. Looked for {WEIGHTS_FILE} in: {searched}. "
            f"Train them with `{entry.command}` and pass weights=<its output folder> or set "
            "ZOO_WEIGHTS_DIR (or pass weights=None for a fresh model)."
        )
    if weights == "trained":
        expected = card.get("weights_sha256")
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


def _check_card_matches_preset(entry, card, overrides):
    """The shipped card must record the preset's architecture: the preset is
    where it is declared, and a card that says otherwise means the weights
    (or the preset) changed. An override of a key settles it for that load."""
    if not card:  # The weights' sha256 check names the missing card.
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


def _card_kwargs(entry, card, folder, valid):
    """The builder kwargs `card`, the card in `folder`, recorded ({} without one)."""
    kwargs = card.get("builder_kwargs", {})
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(
            f"The metrics card {Path(folder) / CARD_FILE} records builder kwargs {entry.name!r} "
            f"does not have: {', '.join(unknown)} (valid keys: {', '.join(valid)}). It was "
            "written for another entry: load with that entry's name."
        )
    return kwargs
