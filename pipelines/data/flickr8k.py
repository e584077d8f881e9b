"""Flickr8k subset (800 images, 5 captions each) for the captioning zoo entry.

The folder holds ``images/<name>.jpg``, ``captions.txt`` (CSV with header
``image,caption``, one row per caption; captions that contain commas are
quoted, so it is read with the ``csv`` module) and optionally ``SHA256SUMS``
(``sha256sum`` format, paths relative to the folder). The images and captions
come from Flickr8k (Hodosh, Young, Hockenmaier, "Framing Image Description as
a Ranking Task", JAIR 2013), which the University of Illinois distributes for
research, non-commercial use. This subset has no public download: it must be
placed in ``data_dir``, ``$ZOO_DATA_DIR/flickr8k`` or
``~/.cache/attention_zoo/flickr8k``.

The split is fixed (DESIGN.md §6): images ranked by the sha1 hex digest of
their file name; the first 100 are test, the next 50 validation, the rest
train.

Captions are standardised as the captioner's preprocessor standardises them
(``standardize_caption``: lower case, ``[a-z0-9 ]`` only), which the vocabulary
is built from; the preprocessor turns them into ids. Images are decoded and
resized to a square float32 ``[S, S, 3]`` in ``[0, 255]``. Every image function
is a TensorFlow op, usable inside ``tf.data`` and ``tf.function`` (and so inside
an exported serving graph).

Example:

>>> data = load_flickr8k()  # doctest: +SKIP
>>> {split: len(names) for split, names in data.splits.items()}  # doctest: +SKIP
{'train': 650, 'validation': 50, 'test': 100}
>>> vocabulary = build_vocabulary(
...     [c for name in data.splits["train"] for c in data.captions[name]])  # doctest: +SKIP
>>> images = image_dataset(data.image_paths("test"), image_size=224, batch_size=32)  # doctest: +SKIP
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import hashlib
import pathlib
import re

import tensorflow as tf

from pipelines.data.download import (
    ChecksumMismatchError,
    DatasetFormatError,
    DatasetNotFoundError,
    resolve_dataset_dir,
    sha256_file,
)
from zoo.models.show_attend_tell.show_attend_tell_preprocessor import standardize_caption
from zoo.models.word_tokenizer import END, START

__all__ = [
    "Flickr8k",
    "build_vocabulary",
    "decode_image",
    "image_dataset",
    "load_flickr8k",
    "load_image",
    "split_images",
    "standardize_caption",
]

SPLITS = ("train", "validation", "test")
_CAPTIONS_FILE = "captions.txt"
_SUMS_FILE = "SHA256SUMS"
_IMAGES_DIR = "images"
_HEADER = ["image", "caption"]
# sha256sum output: digest, a space, then " " (text mode) or "*" (binary mode).
_SUMS_LINE_RE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
_NOT_FOUND_HINT = (
    "Flickr8k subset layout: a folder holding images/<name>.jpg and captions.txt, "
    "a CSV file with header `image,caption` and one row per caption (quote captions "
    "that contain commas); an optional SHA256SUMS (sha256sum format, relative paths) "
    "is verified. This 800-image subset has no public download. The full Flickr8k is "
    "distributed by the University of Illinois (Hodosh, Young, Hockenmaier, JAIR 2013) "
    "for research, non-commercial use."
)


@dataclasses.dataclass(frozen=True)
class Flickr8k:
    """The Flickr8k subset: captions per image and the fixed split.

    Attributes:
        folder: the dataset folder (holds ``images/`` and ``captions.txt``).
        captions: image file name -> list of its raw captions, in file order.
            Only images with at least one caption are present.
        splits: ``"train"``, ``"validation"``, ``"test"`` -> image file names
            in sha1 rank order (see ``split_images``).
    """

    folder: pathlib.Path
    captions: dict
    splits: dict

    def image_paths(self, split) -> list[str]:
        """Returns the absolute image paths (as ``str``) of ``split``, in split order."""
        images = self.folder.absolute() / _IMAGES_DIR
        return [str(images / name) for name in self._names(split)]

    def references(self, split) -> list[list[str]]:
        """Returns the raw captions of each image of ``split``, aligned with ``image_paths``."""
        return [list(self.captions[name]) for name in self._names(split)]

    def _names(self, split):
        if split not in SPLITS:
            raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
        return self.splits[split]

    def __repr__(self):
        # The default repr would print all 4000 captions.
        sizes = "/".join(str(len(self.splits[split])) for split in SPLITS)
        num_captions = sum(len(captions) for captions in self.captions.values())
        return (
            f"Flickr8k(folder={str(self.folder)!r}, num_images={len(self.captions)}, "
            f"num_captions={num_captions}, train/validation/test={sizes})"
        )


def split_images(names, num_test=100, num_validation=50) -> dict:
    """Splits image file names by the rank of ``sha1(name)`` (DESIGN.md §6).

    Names are sorted by ``hashlib.sha1(name.encode()).hexdigest()``; the first
    ``num_test`` are test, the next ``num_validation`` validation and the
    rest train. The split of a name depends only on the set of names, never
    on their order or on a random seed.

    Args:
        names: distinct image file names (e.g. ``"1000268201_693b08cb0e.jpg"``).
        num_test: number of test images, >= 0.
        num_validation: number of validation images, >= 0.

    Returns:
        ``{"train": [...], "validation": [...], "test": [...]}``, each list in
        rank order.

    Raises:
        ValueError: a count is not a non-negative int, names repeat or are
            not strings, or there are fewer than
            ``num_test + num_validation + 1`` names (train would be empty).
    """
    for arg, value in (("num_test", num_test), ("num_validation", num_validation)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"`{arg}` must be a non-negative int. Received: {arg}={value!r}")
    names = list(names)
    if not all(isinstance(name, str) for name in names):
        raise ValueError(f"`names` must hold strings. Received: names={names[:5]!r}...")
    if len(set(names)) != len(names):
        repeated = sorted(name for name, count in collections.Counter(names).items() if count > 1)
        raise ValueError(f"`names` must be distinct. Received repeated names: {repeated[:5]}")
    if len(names) < num_test + num_validation + 1:
        raise ValueError(
            f"Need at least num_test + num_validation + 1 = {num_test + num_validation + 1} "
            f"images so that train is not empty. Received: {len(names)} names, "
            f"num_test={num_test}, num_validation={num_validation}"
        )
    ranked = sorted(names, key=lambda name: hashlib.sha1(name.encode()).hexdigest())
    return {
        "train": ranked[num_test + num_validation:],
        "validation": ranked[num_test:num_test + num_validation],
        "test": ranked[:num_test],
    }


def load_flickr8k(data_dir=None, num_test=100, num_validation=50, verify=True) -> Flickr8k:
    """Loads the Flickr8k subset's captions and fixed split (images stay on disk).

    The folder is found with ``resolve_dataset_dir("flickr8k", ...)``:
    ``data_dir``, then ``$ZOO_DATA_DIR/flickr8k``, then
    ``~/.cache/attention_zoo/flickr8k``. Nothing is downloaded.

    Args:
        data_dir: optional folder holding ``images/`` and ``captions.txt``.
        num_test: number of test images (see ``split_images``).
        num_validation: number of validation images.
        verify: if True and the folder has a ``SHA256SUMS``, every file it
            lists is hashed and compared before anything is parsed.

    Returns:
        A ``Flickr8k``. Every image with at least one caption is in the split.

    Raises:
        DatasetNotFoundError: no searched folder holds ``captions.txt``.
        ChecksumMismatchError: a file differs from its ``SHA256SUMS`` digest.
        DatasetFormatError: a malformed ``SHA256SUMS`` line or a file it lists
            is missing; ``captions.txt`` has a wrong header, a row without
            exactly 2 fields, an empty image name or caption, or names an
            image missing from ``images/`` (messages give file and line).
        ValueError: bad ``num_test``/``num_validation`` or too few images.
    """
    try:
        folder = resolve_dataset_dir("flickr8k", [_CAPTIONS_FILE], data_dir=data_dir)
    except DatasetNotFoundError as err:
        # Same error, plus what the folder must look like and where the data comes from.
        raise DatasetNotFoundError(
            f"{err}\n{_NOT_FOUND_HINT}", missing=err.missing, searched=err.searched
        ) from None
    if verify and (folder / _SUMS_FILE).is_file():
        _verify_sums(folder)
    captions = _read_captions(folder)
    splits = split_images(list(captions), num_test=num_test, num_validation=num_validation)
    return Flickr8k(folder=folder, captions=captions, splits=splits)


def _verify_sums(folder):
    sums = folder / _SUMS_FILE
    with open(sums, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _SUMS_LINE_RE.match(line)
        name = match.group(2) if match else ""
        parts = name.split("/")
        # Paths are joined to the folder: refuse anything that could escape it.
        if not match or name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
            raise DatasetFormatError(
                f"{sums}: line {line_number} is {line!r}, expected '<64 hex digits>  <relative path>'"
            )
        path = folder / name
        if not path.is_file():
            raise DatasetFormatError(f"{sums}: line {line_number} lists {name}, which is missing: {path}")
        expected = match.group(1).lower()
        actual = sha256_file(path)
        if actual != expected:
            raise ChecksumMismatchError(
                f"Checksum mismatch for {name} at {path}: expected sha256 {expected} "
                f"({_SUMS_FILE} line {line_number}), got {actual}. The file is corrupt or "
                "a different version; replace it.",
                path=path,
                expected=expected,
                actual=actual,
            )


def _read_captions(folder):
    path = folder / _CAPTIONS_FILE
    images = folder / _IMAGES_DIR
    captions = {}
    first_line = {}
    # newline="" lets the csv module handle CRLF and newlines inside quotes.
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        try:
            header = next(reader, None)
            if header != _HEADER:
                raise DatasetFormatError(
                    f"{path}: line 1 is {header!r}, expected the header {','.join(_HEADER)!r}"
                )
            for row in reader:
                line = reader.line_num  # last physical line of the row
                if not row:
                    continue  # blank line
                if len(row) != 2:
                    raise DatasetFormatError(
                        f"{path}: line {line} has {len(row)} fields {row!r}, expected 2 (image,caption); "
                        "quote captions that contain commas"
                    )
                name, caption = row
                if not name or "/" in name or "\\" in name or name in (".", ".."):
                    raise DatasetFormatError(
                        f"{path}: line {line} has image {name!r}, expected a file name in {_IMAGES_DIR}/"
                    )
                if not caption.strip():
                    raise DatasetFormatError(f"{path}: line {line} has an empty caption for {name}")
                captions.setdefault(name, []).append(caption)
                first_line.setdefault(name, line)
        except csv.Error as err:
            raise DatasetFormatError(f"{path}: line {reader.line_num}: {err}") from err
        except UnicodeDecodeError as err:
            raise DatasetFormatError(f"{path}: not valid UTF-8 ({err})") from err
    for name, line in first_line.items():
        if not (images / name).is_file():
            raise DatasetFormatError(f"{path}: line {line} names image {name}, which is missing: {images / name}")
    return captions


def build_vocabulary(captions, min_count=2) -> list[str]:
    """Builds the caption vocabulary's words from raw captions.

    Captions are standardized with ``standardize_caption`` and split on
    spaces. Words seen at least ``min_count`` times are kept, most frequent
    first, ties alphabetical, after ``[START]`` and ``[END]``. The padding token
    ``""`` and ``"[UNK]"`` are not included: the vocabulary is
    ``["", "[UNK]"] + words``, so ``[START]`` is id 2 and ``[END]`` id 3.

    Args:
        captions: iterable of raw caption strings (e.g. the train captions).
        min_count: minimum number of occurrences of a kept word, >= 1.

    Returns:
        ``["[START]", "[END]", word, ...]``.
    """
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"`min_count` must be an int >= 1. Received: min_count={min_count!r}")
    if isinstance(captions, (str, bytes)):
        raise ValueError(f"`captions` must be an iterable of strings, not one string. Received: captions={captions!r}")
    captions = list(captions)
    counts = collections.Counter()
    if captions:
        for text in standardize_caption(tf.constant(captions, dtype=tf.string)).numpy():
            counts.update(text.decode("utf-8").split())
    words = sorted((word for word, count in counts.items() if count >= min_count),
                   key=lambda word: (-counts[word], word))
    return [START, END] + words


def decode_image(image_bytes, image_size):
    """Decodes encoded image bytes to a float32 ``[image_size, image_size, 3]`` in ``[0, 255]``.

    JPEG, PNG, GIF (first frame) and BMP are accepted; grayscale is repeated
    to 3 channels and an alpha channel is dropped. The image is resized with
    bilinear interpolation straight to a square, so the aspect ratio is not
    kept. Values are not normalised: apply the CNN's own preprocessing.

    Args:
        image_bytes: scalar string tensor with the encoded file content.
        image_size: output height and width, an int >= 1.
    """
    image_size = _check_image_size(image_size)
    image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)  # [H, W, 3] uint8
    image = tf.image.resize(image, [image_size, image_size], method="bilinear")  # float32
    image.set_shape([image_size, image_size, 3])
    return image


def load_image(path, image_size):
    """Reads an image file and returns ``decode_image`` of its bytes.

    Args:
        path: scalar string tensor (or str) with the file path.
        image_size: output height and width, an int >= 1.

    Returns:
        float32 ``[image_size, image_size, 3]`` in ``[0, 255]`` (aspect ratio
        not kept; see ``decode_image``).
    """
    return decode_image(tf.io.read_file(path), image_size)


def image_dataset(paths, image_size, batch_size) -> tf.data.Dataset:
    """Returns an ordered ``tf.data.Dataset`` of image batches for ``paths``.

    read -> decode and resize (parallel, order kept) -> batch -> prefetch.
    The last batch is smaller when ``len(paths)`` is not a multiple of
    ``batch_size``.

    Args:
        paths: sequence of image paths (str or os.PathLike).
        image_size: output height and width, an int >= 1.
        batch_size: images per batch, an int >= 1.

    Returns:
        A dataset of float32 ``[b, image_size, image_size, 3]`` in ``[0, 255]``.
    """
    image_size = _check_image_size(image_size)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an int >= 1. Received: batch_size={batch_size!r}")
    paths = tf.constant([str(path) for path in paths], dtype=tf.string)
    return (
        tf.data.Dataset.from_tensor_slices(paths)
        .map(lambda path: load_image(path, image_size), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )


def _check_image_size(image_size):
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"`image_size` must be an int >= 1. Received: image_size={image_size!r}")
    return image_size
