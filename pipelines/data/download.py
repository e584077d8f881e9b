"""Dataset file resolution, checksums and atomic downloads (stdlib only).

Every loader in `pipelines/data/` finds its files the same way (DESIGN.md §6):

1. an explicit ``data_dir`` argument (the folder that holds the files),
2. ``$ZOO_DATA_DIR/<subdir>``,
3. the cache ``~/.cache/attention_zoo/<subdir>`` (``$ZOO_CACHE_DIR`` replaces
   ``~/.cache/attention_zoo``),

and, if none of them holds every file, downloads the missing files into the
cache. A download goes to a temporary file in the destination folder, is
checked against its pinned sha256 and only then renamed into place, so an
interrupted or corrupt download never leaves a file that looks complete.

Example:

>>> folder = resolve_dataset_dir(
...     "planetoid",
...     ["ind.cora.x", "ind.cora.y"],
...     urls="https://github.com/kimiyoung/planetoid/raw/master/data/",
...     sha256={"ind.cora.x": "23cfa55d...", "ind.cora.y": "94465c14..."},
... )  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import http.client
import os
import pathlib
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence

from zoo._files import CACHE_ENV_VAR, cache_root

__all__ = [
    "CACHE_ENV_VAR",
    "DATA_ENV_VAR",
    "ChecksumMismatchError",
    "DatasetFormatError",
    "DatasetNotFoundError",
    "DownloadError",
    "default_cache_dir",
    "download_file",
    "resolve_dataset_dir",
    "sha256_file",
]

DATA_ENV_VAR = "ZOO_DATA_DIR"

_CHUNK_SIZE = 1 << 20
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_URL_SCHEMES = ("http", "https", "file")


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are in none of the searched folders and could not be downloaded.

    Attributes:
        missing: file names that are absent from the download target (the cache).
        searched: the folders that were searched, in resolution order.
    """

    def __init__(self, message, *, missing=(), searched=()):
        super().__init__(message)
        self.missing = tuple(missing)
        self.searched = tuple(searched)

    def __str__(self):
        # FileNotFoundError's default str() is built for (errno, strerror)
        # pairs; with one argument it is just that argument.
        return self.args[0]


class ChecksumMismatchError(OSError):
    """A file's sha256 differs from its pinned digest (corrupt or tampered file).

    Attributes:
        path: the offending file (for a failed download: its destination).
        expected: the pinned hex digest.
        actual: the hex digest of the bytes that were read.
    """

    def __init__(self, message, *, path, expected, actual):
        super().__init__(message)
        self.path = pathlib.Path(path)
        self.expected = expected
        self.actual = actual

    def __str__(self):
        return self.args[0]


class DownloadError(OSError):
    """A download failed (network error, HTTP error status, truncated body)."""

    def __str__(self):
        return self.args[0]


class DatasetFormatError(ValueError):
    """A dataset file is present but cannot be parsed (truncated, corrupt, wrong format)."""


def default_cache_dir() -> pathlib.Path:
    """Returns the cache root: ``$ZOO_CACHE_DIR`` or ``~/.cache/attention_zoo``."""
    return cache_root()


def sha256_file(path) -> str:
    """Returns the lower-case hex sha256 digest of a file, read in 1 MiB chunks.

    Args:
        path: the file to hash (str or os.PathLike).
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url, dest, sha256=None, timeout=60) -> pathlib.Path:
    """Downloads ``url`` to ``dest`` atomically, optionally verifying its sha256.

    The body is streamed into a temporary file in ``dest``'s folder (same
    file system, so the final ``os.replace`` is an atomic rename), hashed on
    the way, verified, flushed to disk and renamed to ``dest``. On any failure
    the temporary file is deleted and ``dest`` is left as it was.

    Args:
        url: ``http://``, ``https://`` or ``file://`` URL.
        dest: destination file path; missing parent folders are created.
        sha256: expected hex digest, or None to skip verification (a body
            shorter than its ``Content-Length`` is still rejected).
        timeout: socket timeout in seconds for connecting and each read.

    Returns:
        ``dest`` as a ``pathlib.Path``.

    Raises:
        ValueError: an argument is malformed.
        DownloadError: network failure, HTTP error status or truncated body.
        ChecksumMismatchError: the downloaded bytes do not match ``sha256``.
    """
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in _URL_SCHEMES:
        raise ValueError(
            f"`url` must be a string URL with scheme in {_URL_SCHEMES}. Received: url={url!r}"
        )
    sha256 = _check_digest(sha256, "sha256")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"`timeout` must be a positive number of seconds. Received: timeout={timeout!r}")
    dest = pathlib.Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)

    # A hidden ".part" name in the destination folder: never mistaken for the
    # real file by a concurrent reader, and renamed without copying.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = pathlib.Path(tmp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    expected_length = response.headers.get("Content-Length")
                    for chunk in iter(lambda: response.read(_CHUNK_SIZE), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
            except urllib.error.HTTPError as err:
                err.close()  # the error body is an open response; do not leak it
                raise DownloadError(f"Download of {url} failed: HTTP {err.code} {err.reason}.") from err
            except (OSError, http.client.HTTPException) as err:
                # URLError and socket timeouts are OSError; IncompleteRead and
                # friends are HTTPException.
                raise DownloadError(f"Download of {url} failed: {type(err).__name__}: {err}.") from err
            if expected_length is not None and expected_length.isdigit() and received != int(expected_length):
                raise DownloadError(
                    f"Download of {url} is truncated: received {received} bytes, "
                    f"Content-Length is {expected_length}."
                )
            out.flush()
            # Durable before the rename, so a crash cannot leave a renamed
            # but empty file behind.
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256:
            raise ChecksumMismatchError(
                f"Checksum mismatch for {dest.name} downloaded from {url}: "
                f"expected sha256 {sha256}, got {actual}. Nothing was written to {dest}.",
                path=dest,
                expected=sha256,
                actual=actual,
            )
        os.replace(tmp, dest)
    except BaseException:
        # BaseException: a Ctrl-C mid-download must not leave a .part file.
        tmp.unlink(missing_ok=True)
        raise
    return dest


def resolve_dataset_dir(subdir, files, *, data_dir=None, urls=None, sha256=None) -> pathlib.Path:
    """Finds (or downloads) the folder that holds all of a dataset's files.

    Folders are tried in this order; the first one that holds every file in
    ``files`` is used:

    1. ``data_dir`` (the folder holding the files directly), if given;
    2. ``$ZOO_DATA_DIR/<subdir>``, if ``ZOO_DATA_DIR`` is set;
    3. the cache ``<cache root>/<subdir>``, where the cache root is
       ``$ZOO_CACHE_DIR`` or ``~/.cache/attention_zoo``.

    Each file of the chosen folder that has a pinned digest in ``sha256`` is
    verified; a mismatch raises instead of falling through, so a corrupt file
    is reported and never used. If no folder is complete and ``urls`` is
    given, the files missing from the cache are downloaded into it with
    ``download_file`` (files already in the cache are verified and kept).

    Args:
        subdir: dataset folder name below ``$ZOO_DATA_DIR`` and the cache root,
            e.g. ``"planetoid"``.
        files: relative file names that must all be present.
        data_dir: optional explicit folder that holds the files.
        urls: None (never download), a base URL (``base + name`` per file)
            or a mapping ``{name: url}``.
        sha256: optional mapping ``{name: hex digest or None}``; None (or an
            absent name) means the file is not pinned.

    Returns:
        The folder holding all files, as a ``pathlib.Path``.

    Raises:
        ValueError: an argument is malformed.
        ChecksumMismatchError: a present or downloaded file fails its pinned
            digest.
        DatasetNotFoundError: the files are absent and could not be downloaded
            (no URL, offline, HTTP error).
    """
    subdir = _check_relative_name(subdir, "subdir")
    if isinstance(files, str) or not isinstance(files, Sequence) or not files:
        raise ValueError(f"`files` must be a non-empty sequence of file names. Received: files={files!r}")
    files = [_check_relative_name(name, "files") for name in files]
    digests = _check_digest_map(sha256, files)
    url_map = _check_urls(urls, files)

    # (folder, how it was found) in resolution order.
    candidates = []
    if data_dir is not None:
        candidates.append((pathlib.Path(data_dir).expanduser(), "data_dir argument"))
    env_root = os.environ.get(DATA_ENV_VAR)
    if env_root:
        candidates.append((pathlib.Path(env_root).expanduser() / subdir, f"${DATA_ENV_VAR}/{subdir}"))
    cache_dir = default_cache_dir() / subdir
    candidates.append((cache_dir, "cache"))

    report = []
    for folder, origin in candidates:
        missing = [name for name in files if not (folder / name).is_file()]
        if not missing:
            for name in files:
                _verify(folder / name, digests.get(name))
            return folder
        report.append((folder, origin, missing))

    cache_missing = [name for name in files if not (cache_dir / name).is_file()]
    searched = [folder for folder, _, _ in report]
    if url_map is None or any(name not in url_map for name in cache_missing):
        no_url = "" if url_map is None else " (no download URL for: " + ", ".join(
            name for name in cache_missing if name not in url_map) + ")"
        raise DatasetNotFoundError(
            _not_found_message(subdir, report, cache_dir, reason=f"Downloading is not possible{no_url}."),
            missing=cache_missing,
            searched=searched,
        )

    # Verify what is already cached first: a corrupt cached file is an error
    # to report, not something to silently paper over with a download.
    for name in files:
        if name not in cache_missing:
            _verify(cache_dir / name, digests.get(name))
    for name in cache_missing:
        try:
            download_file(url_map[name], cache_dir / name, sha256=digests.get(name))
        except DownloadError as err:
            raise DatasetNotFoundError(
                _not_found_message(subdir, report, cache_dir, reason=f"Download failed: {err}"),
                missing=[n for n in files if not (cache_dir / n).is_file()],
                searched=searched,
            ) from err
    return cache_dir


def _verify(path, expected):
    if expected is None:
        return
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumMismatchError(
            f"Checksum mismatch for {path.name} at {path}: expected sha256 {expected}, got {actual}. "
            "The file is corrupt or a different version; delete or replace it "
            "(a file deleted from the cache is downloaded again).",
            path=path,
            expected=expected,
            actual=actual,
        )


def _not_found_message(subdir, report, cache_dir, *, reason):
    lines = [f"Dataset files for {subdir!r} were not found. Searched, in order:"]
    for folder, origin, missing in report:
        state = "does not exist" if not folder.is_dir() else "missing " + ", ".join(missing)
        lines.append(f"  - {folder} ({origin}): {state}")
    if not os.environ.get(DATA_ENV_VAR):
        lines.append(f"  (${DATA_ENV_VAR} is not set)")
    lines.append(reason)
    lines.append(
        f"Put the files in a folder and pass it as data_dir=..., or put them in "
        f"<dir>/{subdir}/ and set {DATA_ENV_VAR}=<dir>, or place them in the cache "
        f"{cache_dir} (cache root overridable with ${CACHE_ENV_VAR})."
    )
    return "\n".join(lines)


def _check_relative_name(name, arg):
    # Names are joined to folders and URLs: refuse anything that could escape.
    path = pathlib.PurePosixPath(name) if isinstance(name, str) else None
    if (path is None or not name or path.is_absolute() or "\\" in name
            or any(part in ("", ".", "..") for part in name.split("/"))):
        raise ValueError(
            f"`{arg}` must hold relative names without '.', '..' or backslashes. Received: {arg}={name!r}"
        )
    return name


def _check_digest(digest, arg):
    if digest is None:
        return None
    if not isinstance(digest, str) or not _SHA256_RE.match(digest):
        raise ValueError(f"`{arg}` must be a 64-character hex sha256 digest or None. Received: {arg}={digest!r}")
    return digest.lower()


def _check_digest_map(sha256, files):
    if sha256 is None:
        return {}
    if not isinstance(sha256, Mapping):
        raise ValueError(f"`sha256` must be a mapping {{file name: hex digest}} or None. Received: sha256={sha256!r}")
    unknown = sorted(set(sha256) - set(files))
    if unknown:
        raise ValueError(f"`sha256` has digests for names not in `files`: {unknown}. Allowed names: {files}")
    return {name: _check_digest(digest, f"sha256[{name!r}]") for name, digest in sha256.items()}


def _check_urls(urls, files):
    if urls is None:
        return None
    if isinstance(urls, str):
        return {name: urls + name for name in files}
    if isinstance(urls, Mapping):
        unknown = sorted(set(urls) - set(files))
        if unknown:
            raise ValueError(f"`urls` has URLs for names not in `files`: {unknown}. Allowed names: {files}")
        return dict(urls)
    raise ValueError(f"`urls` must be None, a base URL string or a mapping {{name: url}}. Received: urls={urls!r}")
