"""Text classification data: SST-2, and any labelled TSV files of the user's.

A `TextClassificationData` holds the texts and integer labels of each split
and the class names (the label strings by class id), which ship with the
trained model (``labels.txt``).

- `read_tsv`: a TSV file with a header row; the label and text columns are
  named (``label`` and ``sentence`` by default) or given by position.
- `load_tsv_files`: train / validation / test files → the data; labels may
  be integers (classes in numeric order) or strings (sorted); a validation
  or test label that the train file does not have is an error naming the
  file and line.
- `load_sst2`: SST-2 as DESIGN.md §6 fixes it: ``train.tsv`` / ``dev.tsv`` /
  ``test.tsv`` as given, label in the first column (the files' headers
  disagree: ``sentence`` in train, ``content`` in dev and test), 0 →
  ``negative``, 1 → ``positive``. Found in ``data_dir``,
  ``$ZOO_DATA_DIR/sst2`` or the cache, else downloaded (sha256-pinned).

Example:

>>> data = load_sst2()  # doctest: +SKIP
>>> data.class_names, {s: len(t) for s, t in data.texts.items()}  # doctest: +SKIP
(['negative', 'positive'], {'train': 67349, 'validation': 872, 'test': 1821})
"""

from __future__ import annotations

import csv
import dataclasses
import pathlib

import numpy as np

from pipelines.data.download import DatasetFormatError, resolve_dataset_dir

SPLITS = ("train", "validation", "test")

# The labelled SST-2 copy of github.com/awake020/pytorch_Bert_sst2 (GLUE's
# train and dev, and the original labelled binary test split; GLUE's own test
# file has no labels), pinned to a commit.
SST2_URL = ("https://raw.githubusercontent.com/awake020/pytorch_Bert_sst2/"
            "ce2ab1719d32182e6233b24b2de246bd32814fde/SST-2/")
SST2_FILES = {"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"}
SST2_SHA256 = {
    "train.tsv": "e981ceb4fe6c9acd1c79851d0d091b9e78103f1f2a399ca83dda27915d41c56c",
    "dev.tsv": "84207e6be5873fb18db798cc6faec86871f5a426554650ff64a1c34e87665f6f",
    "test.tsv": "fcd46f967b7b8efd8b5398481dadf873886298d092195167af907fd532e81e1c",
}
SST2_CLASS_NAMES = {"0": "negative", "1": "positive"}


@dataclasses.dataclass
class TextClassificationData:
    """Texts and labels per split, and the class names."""

    class_names: list  # label strings by class id
    texts: dict        # split -> list of str
    labels: dict       # split -> int32 [N] class ids

    def __repr__(self):
        sizes = ", ".join(f"{split} {len(texts)}" for split, texts in self.texts.items())
        return f"TextClassificationData({len(self.class_names)} classes; {sizes})"


def read_tsv(path, label_column="label", text_column="sentence"):
    """Reads (labels, texts) from a tab-separated file with a header row.

    Args:
        path: the file.
        label_column, text_column: a column name from the header, or a
            0-based column index.

    Returns:
        (labels, texts, lines): lists with one item per data row: label and
        text strings, and the row's line number in the file.

    Raises:
        DatasetFormatError: a missing column, a row with too few fields, an
            empty text or label (naming the file and line).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such TSV file: {path}")
    labels, texts, lines = [], [], []
    # QUOTE_NONE: texts contain quote characters that are not CSV quoting.
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        try:
            header = next(reader, None)
            if header is None:
                raise DatasetFormatError(f"{path}: the file is empty; expected a header row")
            columns = [_column_index(path, header, label_column, "label_column"),
                       _column_index(path, header, text_column, "text_column")]
            for row in reader:
                line = reader.line_num
                if not row:
                    continue  # blank line
                if len(row) <= max(columns):
                    raise DatasetFormatError(
                        f"{path}: line {line} has {len(row)} fields, expected at least "
                        f"{max(columns) + 1} ({header})")
                label, text = (row[i].strip() for i in columns)
                if not label or not text:
                    raise DatasetFormatError(f"{path}: line {line} has an empty label or text: {row!r}")
                labels.append(label)
                texts.append(text)
                lines.append(line)
        except UnicodeDecodeError as err:
            raise DatasetFormatError(f"{path}: not valid UTF-8 ({err})") from err
    return labels, texts, lines


def _column_index(path, header, column, argument):
    if isinstance(column, int) and not isinstance(column, bool):
        if not 0 <= column < len(header):
            raise DatasetFormatError(
                f"{path}: `{argument}`={column} is outside the header's {len(header)} columns {header}")
        return column
    if column not in header:
        raise DatasetFormatError(
            f"{path}: no column {column!r} (`{argument}`) in the header {header}; "
            "name one of these, or pass a 0-based column index")
    return header.index(column)


def class_names_of(labels):
    """The sorted distinct labels: numerically if all are integers."""
    distinct = set(labels)
    if all(_is_int(label) for label in distinct):
        return sorted(distinct, key=int)
    return sorted(distinct)


def _is_int(text):
    try:
        int(text)
    except ValueError:
        return False
    return True


def load_tsv_files(files, label_column="label", text_column="sentence", class_names=None,
                   rename=None):
    """Loads labelled TSV files, one per split.

    Args:
        files: ``{"train": path, "validation": path, "test": path}``; the
            test file may be None.
        label_column, text_column: see `read_tsv`.
        class_names: the label strings by class id (default: those of the
            train file, see `class_names_of`).
        rename: optional mapping from label strings in the files to the
            class names (e.g. ``{"0": "negative"}``).

    Raises:
        DatasetFormatError: a validation or test label that is not a class
            (naming the file and line), or fewer than 2 classes.
    """
    rename = rename or {}
    raw = {split: read_tsv(path, label_column, text_column)
           for split, path in files.items() if path is not None}
    if "train" not in raw:
        raise ValueError(f"`files` needs a train file. Received: files={files!r}")
    if class_names is None:
        class_names = [rename.get(label, label) for label in class_names_of(raw["train"][0])]
    if len(class_names) < 2:
        raise DatasetFormatError(f"{files['train']}: needs at least 2 distinct labels; found {class_names}")
    index = {name: i for i, name in enumerate(class_names)}
    texts, labels = {}, {}
    for split, (split_labels, split_texts, lines) in raw.items():
        ids = []
        for label, line in zip(split_labels, lines):
            name = rename.get(label, label)
            if name not in index:
                raise DatasetFormatError(
                    f"{files[split]}: line {line} has label {label!r}, which is not one of the "
                    f"classes {class_names} (from the train file)")
            ids.append(index[name])
        texts[split] = split_texts
        labels[split] = np.array(ids, "int32")
    return TextClassificationData(list(class_names), texts, labels)


def load_sst2(data_dir=None):
    """SST-2 with its fixed split (see the module docstring)."""
    folder = resolve_dataset_dir("sst2", list(SST2_SHA256), data_dir=data_dir, urls=SST2_URL,
                                 sha256=SST2_SHA256)
    files = {split: folder / name for split, name in SST2_FILES.items()}
    return load_tsv_files(files, label_column=0, text_column=1,
                          class_names=list(SST2_CLASS_NAMES.values()), rename=SST2_CLASS_NAMES)
