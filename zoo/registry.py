"""The zoo's registry: entry name -> builder, preset kwargs, weights, metadata.

`load`, `list_models` and `info` are the public face (re-exported by `zoo`).
Trained weights live in `savedmodels/<name>/` (or `$ZOO_WEIGHTS_DIR/<name>/`):

    model.weights.h5   the Keras weights
    <asset files>      builder inputs that are data, not code (e.g. a
                       vocabulary.txt), named by the entry's `assets`
    metrics.json       the metrics card: command, seed, date, measured
                       metrics, sha256 of the weights file and of every
                       asset file (``assets_sha256``), builder kwargs
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

from zoo._files import sha256_of
from zoo.models import FAMILIES

WEIGHTS_FILE = "model.weights.h5"
CARD_FILE = "metrics.json"


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

    @property
    def weights_dir(self) -> Path:
        root = os.environ.get("ZOO_WEIGHTS_DIR")
        base = Path(root) if root else Path(__file__).resolve().parent.parent / "savedmodels"
        return base / self.name

    def card(self):
        """The metrics card as a dict, or None if no trained weights ship.
        Raises `CardError` (naming the file) for one that cannot be read."""
        return read_card(self.weights_dir / CARD_FILE)


class CardError(ValueError):
    """A metrics card that is not a JSON object (the message names the file)."""


def read_card(path):
    """The metrics card at `path` as a dict, None if there is no file.

    Raises:
        CardError: the file is empty, not UTF-8, not JSON, or not a JSON
            object; the message names the file and what to do.
    """
    path = Path(path)
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
    weights_available, weights_dir, and the preset's builder kwargs."""
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
        "kwargs": dict(entry.kwargs),
        "assets": dict(entry.assets),
        "card_error": card_error,
    }


def _asset_paths(entry, card, overrides):
    """builder argument -> path of each asset file in the weights folder that
    `overrides` does not replace. An optional asset that is absent is left
    to the builder's default, unless the card lists it (the weights were
    trained with it): then, as for a required one, the error names the file."""
    recorded = card.get("assets_sha256") or {}
    assets = {}
    for argument, file_name in entry.assets.items():
        if argument in overrides:
            continue
        path = entry.weights_dir / file_name
        if not path.is_file() and argument in entry.optional_assets and file_name not in recorded:
            continue
        if not path.is_file():
            listed = " (its metrics card lists it)" if file_name in recorded else ""
            raise FileNotFoundError(
                f"{entry.name!r} needs its {argument} file {path}{listed}, which ships with the "
                f"trained weights. Train them with `{entry.command}`, or pass {argument}=... ."
            )
        assets[argument] = str(path)
    return assets


def load(name, weights="trained", **overrides):
    """Builds a zoo entry, with its trained weights by default.

    Args:
        name: a name from `list_models()`.
        weights: ``"trained"`` (the shipped weights), None (fresh weights),
            or a path to a ``.weights.h5`` file.
        **overrides: keyword arguments of the entry's builder that replace
            the preset's (e.g. ``dropout=0.5``, ``return_attention=True``).
            The builder gets the preset's kwargs, then those the metrics card
            recorded for the shipped weights, then the entry's asset files,
            then these.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: unknown name (naming close matches), unknown override
            (naming the valid keys), a `weights` that is not one of the
            three kinds, a weights file that does not match its metrics
            card, cannot be read (truncated, corrupt) or does not fit.
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
        raise ValueError(f"`weights` must be 'trained', None or a path to a .weights.h5 file. "
                         f"Received: weights={weights!r}")
    valid = list(inspect.signature(entry.builder).parameters)
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ValueError(
            f"Unknown override(s) {', '.join(unknown)} for {name!r}. "
            f"Valid keys: {', '.join(valid)}."
        )
    # The trained weights need their card (it pins their sha256); fresh ones
    # read it only for the kwargs the shipped weights were trained with.
    card = (entry.card() or {}) if weights == "trained" else card_or_warning(entry)
    assets = _asset_paths(entry, card, overrides)
    check_assets(entry, card, assets)
    trained_kwargs = card.get("builder_kwargs", {})
    model = entry.builder(**{**entry.kwargs, **trained_kwargs, **assets, **overrides})
    if weights is None:
        return model
    path = entry.weights_dir / WEIGHTS_FILE if weights == "trained" else Path(weights)
    if not path.is_file():
        if weights == "trained":
            raise FileNotFoundError(
                f"No weights for {name!r} at {path}. Train them with `{entry.command}` "
                "(or pass weights=None for a fresh model)."
            )
        raise FileNotFoundError(
            f"No weights file at {path}. `weights` must be 'trained' (the shipped weights), "
            f"None (fresh weights) or the path of a .weights.h5 file. Received: weights={weights!r}"
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
