"""Sentence pairs from manythings.org / Tatoeba, for the Spanish → English translator.

A pair file (``spa.txt`` in manythings' ``spa-eng.zip``) holds one pair per
line, ``english<TAB>spanish``, UTF-8. Newer manythings exports add a third
column (attribution), which is ignored. The source sentence is the second
column and the target the first: the translator reads Spanish and writes
English.

The split is fixed (DESIGN.md §6): with ``i`` the 0-based line index, a pair
is test if ``i % 50 == 0``, validation if ``i % 50 == 1``, else train.

- `read_pairs`: a pair file → (sources, targets) in file order; a malformed
  line is an error naming the file and line.
- `load_pairs_file`: any local pair file (the training CLI's
  ``--pairs FILE``) → `TranslationData`, split by the rule above.
- `load_tatoeba_spa_eng`: the pinned 2018-05-13 ``spa.txt`` (118,964 pairs),
  found in ``data_dir``, ``$ZOO_DATA_DIR/tatoeba_spa_eng`` or the cache, else
  extracted from a download of ``spa-eng.zip`` into the cache.

The data is CC-BY 2.0 FR; attribution: "www.manythings.org/anki and
tatoeba.org".

Example:

>>> data = load_tatoeba_spa_eng()  # doctest: +SKIP
>>> data  # doctest: +SKIP
TranslationData(spa -> eng; train 114204, validation 2380, test 2380)
>>> data.sources["test"][0], data.targets["test"][0]  # doctest: +SKIP
('Ve.', 'Go.')
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import pathlib
import shutil
import tempfile
import zipfile

from pipelines.data.download import (
    ChecksumMismatchError,
    DatasetFormatError,
    DatasetNotFoundError,
    DownloadError,
    default_cache_dir,
    download_file,
    resolve_dataset_dir,
    sha256_file,
)

__all__ = [
    "SPLITS",
    "TATOEBA_FILE",
    "TATOEBA_SHA256",
    "TATOEBA_SUBDIR",
    "TATOEBA_ZIP_MEMBER",
    "TATOEBA_ZIP_SHA256",
    "TATOEBA_ZIP_URL",
    "TranslationData",
    "load_pairs_file",
    "load_tatoeba_spa_eng",
    "read_pairs",
    "split_of",
]

SPLITS = ("train", "validation", "test")

TATOEBA_SUBDIR = "tatoeba_spa_eng"
TATOEBA_FILE = "spa.txt"
# The 2018-05-13 manythings release: 118,964 lines, 8,042,772 bytes.
TATOEBA_SHA256 = "6ec60e212f812ee3430f7568ea6f33b6fb080e32193c5952e8da0ee8ba45574c"
# The zip TensorFlow's nmt_with_attention tutorial downloads. Its digest and
# size (2,767,131 bytes) are those of a byte copy of that zip kept in a git
# repository (see SOURCE.txt beside the shared spa.txt), whose spa.txt has the
# digest above; that the bytes served at this URL hash to the same digest
# could not be checked online. The extracted spa.txt is verified either way.
TATOEBA_ZIP_URL = "https://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
TATOEBA_ZIP_SHA256 = "f80e581ae291aa34dd3aba7bd98b5e9505234da4318e2f3295df70a1520c7f61"
TATOEBA_ZIP_MEMBER = "spa-eng/spa.txt"

@dataclasses.dataclass(frozen=True)
class TranslationData:
    """Source and target sentences per split (``sources[s][k]`` translates to ``targets[s][k]``).

    Attributes:
        sources: split -> list of source sentences (str), in file order.
        targets: split -> list of target sentences (str), aligned with ``sources``.
        source_language, target_language: language codes, e.g. ``"spa"``, ``"eng"``.
    """

    sources: dict
    targets: dict
    source_language: str
    target_language: str

    def __repr__(self):
        # The default repr would print every sentence.
        sizes = ", ".join(f"{split} {len(self.sources[split])}" for split in SPLITS)
        return f"TranslationData({self.source_language} -> {self.target_language}; {sizes})"


def split_of(index) -> str:
    """Returns the split of the pair on 0-based line ``index`` (DESIGN.md §6).

    ``"test"`` if ``index % 50 == 0``, ``"validation"`` if ``index % 50 == 1``,
    else ``"train"``.
    """
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
        raise ValueError(f"`index` must be a non-negative int (0-based line index). Received: index={index!r}")
    return {0: "test", 1: "validation"}.get(int(index) % 50, "train")


def read_pairs(path):
    """Reads a pair file: one ``target<TAB>source`` pair per line.

    Columns after the second (manythings' attribution) are ignored, and so
    are a trailing ``"\\r"`` on each line and the empty string after the
    file's final newline. Sentences are stripped of surrounding whitespace.

    Args:
        path: the file (str or os.PathLike), UTF-8 (a BOM is allowed).

    Returns:
        (sources, targets): lists of str in file order; ``sources`` is the
        second column (Spanish in ``spa.txt``), ``targets`` the first
        (English).

    Raises:
        FileNotFoundError: no such file.
        DatasetFormatError: the file is empty or not UTF-8, or a line has
            fewer than 2 tab-separated columns or an empty sentence (naming
            the file and the 1-based line number).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such sentence-pair file: {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DatasetFormatError(f"{path}: line {line} is not valid UTF-8 ({err.reason})") from err
    lines = text.split("\n")  # not splitlines(): sentences may hold other line separators
    if lines[-1] == "":
        lines.pop()  # the final newline
    if not lines:
        raise DatasetFormatError(f"{path}: the file is empty; expected lines of english<TAB>other language")
    sources, targets = [], []
    for number, line in enumerate(lines, start=1):
        columns = line.removesuffix("\r").split("\t")
        if len(columns) < 2:
            raise DatasetFormatError(
                f"{path}: line {number} has {len(columns)} tab-separated column, expected at least 2 "
                f"(english<TAB>other language): {line[:80]!r}")
        target, source = columns[0].strip(), columns[1].strip()
        if not target or not source:
            raise DatasetFormatError(f"{path}: line {number} has an empty sentence: {line[:80]!r}")
        sources.append(source)
        targets.append(target)
    return sources, targets


def load_pairs_file(path, source_language="spa", target_language="eng") -> TranslationData:
    """Loads any local pair file (see `read_pairs`), split by line index (`split_of`).

    The source is always the file's second column and the target its first;
    the language codes only label the data. A split may be empty in a file
    of fewer than 3 lines.

    Args:
        path: the pair file, e.g. manythings' ``fra.txt``.
        source_language, target_language: codes of the second and first
            columns' languages.

    Raises:
        ValueError: a language code is not a non-empty string.
        FileNotFoundError, DatasetFormatError: see `read_pairs`.
    """
    for arg, value in (("source_language", source_language), ("target_language", target_language)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"`{arg}` must be a non-empty string such as 'spa'. Received: {arg}={value!r}")
    all_sources, all_targets = read_pairs(path)
    sources = {split: [] for split in SPLITS}
    targets = {split: [] for split in SPLITS}
    for index, (source, target) in enumerate(zip(all_sources, all_targets)):
        split = split_of(index)
        sources[split].append(source)
        targets[split].append(target)
    return TranslationData(sources, targets, source_language, target_language)


def load_tatoeba_spa_eng(data_dir=None) -> TranslationData:
    """The pinned Tatoeba ``spa.txt`` with its fixed split, Spanish → English.

    ``spa.txt`` is found with ``resolve_dataset_dir``: ``data_dir``, then
    ``$ZOO_DATA_DIR/tatoeba_spa_eng``, then the cache
    ``~/.cache/attention_zoo/tatoeba_spa_eng``, and checked against
    ``TATOEBA_SHA256``. When it is in none of them, ``TATOEBA_ZIP_URL`` is
    downloaded into the cache (``download_file``: atomic, sha256-checked),
    ``spa-eng/spa.txt`` is extracted from it, verified and renamed into place,
    and the zip is deleted. On any failure no file is left behind in the cache.

    Args:
        data_dir: optional folder holding ``spa.txt``.

    Raises:
        ChecksumMismatchError: a found, downloaded or extracted file differs
            from its pinned digest.
        DatasetNotFoundError: ``spa.txt`` is nowhere and the download failed
            (offline, HTTP error); the message lists the folders searched.
        DatasetFormatError: the download is not a zip holding
            ``spa-eng/spa.txt``, or ``spa.txt`` is malformed.
    """
    try:
        folder = resolve_dataset_dir(TATOEBA_SUBDIR, [TATOEBA_FILE], data_dir=data_dir,
                                     sha256={TATOEBA_FILE: TATOEBA_SHA256})
    except DatasetNotFoundError as err:
        folder = default_cache_dir() / TATOEBA_SUBDIR
        try:
            _download_and_extract(folder)
        except DownloadError as download_err:
            # resolve_dataset_dir's report of the searched folders, plus why the zip did not come.
            raise DatasetNotFoundError(
                f"{err}\n{TATOEBA_FILE} comes from {TATOEBA_ZIP_URL} (its {TATOEBA_ZIP_MEMBER}), "
                f"which could not be downloaded: {download_err}",
                missing=err.missing,
                searched=err.searched,
            ) from download_err
    return load_pairs_file(folder / TATOEBA_FILE, source_language="spa", target_language="eng")


def _download_and_extract(folder):
    """Downloads the zip into ``folder``, extracts and verifies ``spa.txt``; deletes the zip."""
    folder.mkdir(parents=True, exist_ok=True)
    # Unique hidden names in the destination folder: never mistaken for the
    # real file, never shared with a concurrent loader, renamed without copying.
    fd, zip_name = tempfile.mkstemp(prefix=".spa-eng.", suffix=".zip", dir=folder)
    os.close(fd)
    fd, part_name = tempfile.mkstemp(prefix=f".{TATOEBA_FILE}.", suffix=".part", dir=folder)
    os.close(fd)
    zip_path, part = pathlib.Path(zip_name), pathlib.Path(part_name)
    try:
        download_file(TATOEBA_ZIP_URL, zip_path, sha256=TATOEBA_ZIP_SHA256)
        try:
            with (zipfile.ZipFile(zip_path) as archive, archive.open(TATOEBA_ZIP_MEMBER) as member,
                  open(part, "wb") as out):
                shutil.copyfileobj(member, out)
                out.flush()
                os.fsync(out.fileno())  # durable before the rename
        except (zipfile.BadZipFile, KeyError) as err:
            # BadZipFile: not a zip, or a CRC error; KeyError: no such member.
            raise DatasetFormatError(
                f"The download of {TATOEBA_ZIP_URL} is not a zip holding {TATOEBA_ZIP_MEMBER}: {err}"
            ) from err
        actual = sha256_file(part)
        if actual != TATOEBA_SHA256:
            raise ChecksumMismatchError(
                f"Checksum mismatch for {TATOEBA_ZIP_MEMBER} extracted from {TATOEBA_ZIP_URL}: "
                f"expected sha256 {TATOEBA_SHA256}, got {actual}. Nothing was written to {folder}.",
                path=folder / TATOEBA_FILE,
                expected=TATOEBA_SHA256,
                actual=actual,
            )
        os.replace(part, folder / TATOEBA_FILE)
    finally:
        # Also on BaseException: a Ctrl-C mid-extraction must not leave a file behind.
        part.unlink(missing_ok=True)
        zip_path.unlink(missing_ok=True)
