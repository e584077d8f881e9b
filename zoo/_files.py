"""File helpers the zoo needs without importing pipelines."""

import hashlib
import os
from pathlib import Path

CACHE_ENV_VAR = "ZOO_CACHE_DIR"


def cache_root() -> Path:
    """The user cache: ``$ZOO_CACHE_DIR`` or ``~/.cache/attention_zoo`` (datasets,
    weights and the runs of an installed package go below it)."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override).expanduser().absolute()
    return Path.home() / ".cache" / "attention_zoo"


def sha256_of(path):
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_token_list(name, value):
    """A list of strings given as a list, or as a file with one per line.

    Used for builder arguments that are data shipped beside the weights (a
    vocabulary, class names); errors name the argument `name`.
    """
    if isinstance(value, (str, Path)):
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(
                f"`{name}` must be a list of strings or a file with one per line. "
                f"Received: {name}={str(value)!r} (no such file)."
            )
        # Not splitlines(): a vocabulary's padding token is the empty first line.
        return path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    if value is None or isinstance(value, (dict, bytes)):
        raise ValueError(f"`{name}` must be a list of strings or a file path. Received: {name}={value!r}")
    return [str(item) for item in value]
