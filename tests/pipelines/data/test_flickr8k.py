"""Tests for pipelines.data.flickr8k on a tiny synthetic Flickr8k folder."""

import hashlib
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from pipelines.data.download import ChecksumMismatchError, DatasetFormatError, DatasetNotFoundError
from pipelines.data.flickr8k import (
    Flickr8k,
    build_vocabulary,
    decode_image,
    image_dataset,
    load_flickr8k,
    load_image,
    split_images,
    standardize_caption,
)

NAMES = [f"img{i:02d}_{i * 7919 % 1000:03d}.jpg" for i in range(12)]
# img00 and img01 have quoted captions (commas, doubled quotes); img02 has one
# caption only: the loader needs no fixed 5 per image.
QUOTED = ["A dog, running!  Fast.", 'He said "hi", then left .']
CAPTIONS_CSV = (
    "image,caption\r\n"
    f'{NAMES[0]},"A dog, running!  Fast."\r\n'
    f"{NAMES[0]},A dog runs .\r\n"
    f'{NAMES[1]},"He said ""hi"", then left ."\r\n'
    f"{NAMES[2]},A cat sleeps\r\n"
    + "".join(f"{name},A dog and a cat number {i} .\r\n{name},Two dogs play\r\n"
              for i, name in enumerate(NAMES[1:]))
)
NUM_TEST, NUM_VALIDATION = 3, 2


def write_toy_flickr8k(folder, sums=True):
    folder = pathlib.Path(folder)
    (folder / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, name in enumerate(NAMES):
        pixels = rng.integers(0, 256, size=(6 + i, 9, 3), dtype=np.uint8)
        (folder / "images" / name).write_bytes(tf.io.encode_jpeg(pixels).numpy())
    (folder / "captions.txt").write_bytes(CAPTIONS_CSV.encode())
    if sums:
        files = ["captions.txt"] + [f"images/{name}" for name in NAMES]
        lines = [f"{hashlib.sha256((folder / f).read_bytes()).hexdigest()}  {f}\n" for f in files]
        (folder / "SHA256SUMS").write_text("".join(lines))
    return folder


@pytest.fixture(autouse=True)
def isolated_env(request, tmp_path, monkeypatch):
    """Cache in tmp_path and HOME moved; ZOO_DATA_DIR removed except for the real-data test."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.delenv("ZOO_DATA_DIR", raising=False)


@pytest.fixture
def toy(tmp_path):
    return write_toy_flickr8k(tmp_path / "flickr8k")


def _expected_split(names, num_test, num_validation):
    digests = {name: hashlib.sha1(name.encode("utf-8")).hexdigest() for name in names}
    ranked = [name for _, name in sorted((digest, name) for name, digest in digests.items())]
    return ranked[:num_test], ranked[num_test:num_test + num_validation], ranked[num_test + num_validation:]


def test_split_follows_sha1_rank_and_is_deterministic():
    test, validation, train = _expected_split(NAMES, NUM_TEST, NUM_VALIDATION)
    splits = split_images(NAMES, num_test=NUM_TEST, num_validation=NUM_VALIDATION)
    assert splits == {"train": train, "validation": validation, "test": test}
    assert split_images(NAMES[::-1], num_test=NUM_TEST, num_validation=NUM_VALIDATION) == splits
    assert (len(train), len(validation), len(test)) == (7, 2, 3)
    # The rule does not depend on the sizes: a bigger test set extends the ranking.
    assert split_images(NAMES, num_test=5, num_validation=0)["test"] == test + validation


def test_split_argument_errors():
    with pytest.raises(ValueError, match=r"num_test=10.*num_validation=2"):
        split_images(NAMES, num_test=10, num_validation=2)  # 12 names, train would be empty
    split_images(NAMES, num_test=10, num_validation=1)  # 11 + 1 train is fine
    with pytest.raises(ValueError, match="num_test=-1"):
        split_images(NAMES, num_test=-1)
    with pytest.raises(ValueError, match="num_validation=2.0"):
        split_images(NAMES, num_test=1, num_validation=2.0)
    with pytest.raises(ValueError, match="distinct"):
        split_images(NAMES + NAMES[:1], num_test=1, num_validation=1)


def test_load_toy(toy):
    data = load_flickr8k(data_dir=toy, num_test=NUM_TEST, num_validation=NUM_VALIDATION)
    assert isinstance(data, Flickr8k) and data.folder == toy
    assert sorted(data.captions) == sorted(NAMES)
    assert data.captions[NAMES[0]] == [QUOTED[0], "A dog runs ."]
    assert data.captions[NAMES[1]] == [QUOTED[1], "A dog and a cat number 0 .", "Two dogs play"]
    assert data.captions[NAMES[2]] == ["A cat sleeps", "A dog and a cat number 1 .", "Two dogs play"]
    assert sum(map(len, data.captions.values())) == 4 + 2 * 11

    test, validation, train = _expected_split(NAMES, NUM_TEST, NUM_VALIDATION)
    assert data.splits == {"train": train, "validation": validation, "test": test}
    paths = data.image_paths("test")
    assert paths == [str(toy.absolute() / "images" / name) for name in test]
    assert all(isinstance(p, str) and os.path.isfile(p) for p in paths)
    assert data.references("validation") == [data.captions[name] for name in validation]
    assert "num_images=12" in repr(data) and "7/2/3" in repr(data)
    with pytest.raises(ValueError, match="split='val'"):
        data.image_paths("val")


def test_default_split_needs_151_images(toy):
    with pytest.raises(ValueError, match="num_test=100"):
        load_flickr8k(data_dir=toy)


def test_missing_folder_names_files_and_source(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_flickr8k(data_dir=tmp_path / "nowhere")
    message = str(info.value)
    for text in ("captions.txt", "images/", "image,caption", "University of Illinois", "Hodosh",
                 str(tmp_path / "nowhere")):
        assert text in message
    assert info.value.missing == ("captions.txt",)


def test_corrupt_image_is_a_checksum_mismatch(toy):
    image = toy / "images" / NAMES[5]
    image.write_bytes(image.read_bytes()[:-10])
    with pytest.raises(ChecksumMismatchError, match=NAMES[5]) as info:
        load_flickr8k(data_dir=toy, num_test=NUM_TEST, num_validation=NUM_VALIDATION)
    assert info.value.path == image
    # Without verification the (still decodable-looking) folder loads.
    load_flickr8k(data_dir=toy, num_test=NUM_TEST, num_validation=NUM_VALIDATION, verify=False)


def test_file_listed_in_sums_but_missing(toy):
    (toy / "images" / NAMES[3]).unlink()
    with pytest.raises(DatasetFormatError, match=rf"SHA256SUMS: line 5 lists images/{NAMES[3]}"):
        load_flickr8k(data_dir=toy, num_test=NUM_TEST, num_validation=NUM_VALIDATION)


def test_missing_image_is_a_format_error(tmp_path):
    folder = write_toy_flickr8k(tmp_path / "flickr8k", sums=False)
    (folder / "images" / NAMES[2]).unlink()
    # NAMES[2] first appears on line 5 of captions.txt.
    with pytest.raises(DatasetFormatError, match=rf"captions.txt: line 5 names image {NAMES[2]}"):
        load_flickr8k(data_dir=folder, num_test=NUM_TEST, num_validation=NUM_VALIDATION)


@pytest.mark.parametrize(
    "text, match",
    [
        ("image;caption\r\n", r"line 1 is \['image;caption'\]"),
        ("", "line 1 is None"),
        (CAPTIONS_CSV + f"{NAMES[0]},A dog, unquoted\r\n", "line 28 has 3 fields"),
        (CAPTIONS_CSV + f"{NAMES[0]}\r\n", "line 28 has 1 fields"),
        (CAPTIONS_CSV + f'{NAMES[0]},"  "\r\n', "line 28 has an empty caption"),
        (CAPTIONS_CSV + "../secret.jpg,A dog\r\n", "line 28 has image '../secret.jpg'"),
    ],
)
def test_bad_captions_file(tmp_path, text, match):
    folder = write_toy_flickr8k(tmp_path / "flickr8k", sums=False)
    (folder / "captions.txt").write_text(text, newline="")
    with pytest.raises(DatasetFormatError, match=match):
        load_flickr8k(data_dir=folder, num_test=NUM_TEST, num_validation=NUM_VALIDATION)


def test_images_without_captions_are_ignored(tmp_path):
    folder = write_toy_flickr8k(tmp_path / "flickr8k", sums=False)
    (folder / "images" / "extra.jpg").write_bytes((folder / "images" / NAMES[0]).read_bytes())
    data = load_flickr8k(data_dir=folder, num_test=NUM_TEST, num_validation=NUM_VALIDATION)
    assert "extra.jpg" not in data.captions


def test_standardize_caption():
    assert standardize_caption("A dog, running!  Fast.").numpy() == b"a dog running fast"
    out = standardize_caption(tf.constant([["  Dog's\tBALL ", "42 cats?!"], ["", "café au lait"]]))
    assert out.shape == (2, 2)
    assert out.numpy().tolist() == [[b"dog s ball", b"42 cats"], [b"", b"caf au lait"]]
    graph_fn = tf.function(standardize_caption, input_signature=[tf.TensorSpec([None], tf.string)])
    assert graph_fn(tf.constant(["Hi, THERE."])).numpy().tolist() == [b"hi there"]
    mapped = tf.data.Dataset.from_tensor_slices(["A, B", "c!"]).map(standardize_caption)
    assert list(mapped.as_numpy_iterator()) == [b"a b", b"c"]


def test_build_vocabulary_min_count():
    captions = ["A dog runs.", "a DOG sleeps", "The cat, the dog!", "zebra the"]
    # dog 3, the 3, a 2; runs, sleeps, cat, zebra 1.
    assert build_vocabulary(captions) == ["[START]", "[END]", "dog", "the", "a"]
    assert build_vocabulary(captions, min_count=3) == ["[START]", "[END]", "dog", "the"]
    assert build_vocabulary(captions, min_count=1)[5:] == ["cat", "runs", "sleeps", "zebra"]
    assert build_vocabulary([]) == ["[START]", "[END]"]
    with pytest.raises(ValueError, match="min_count=0"):
        build_vocabulary(captions, min_count=0)


def test_load_image_grayscale_and_rgba_png(tmp_path):
    gray = tmp_path / "gray.png"
    gray.write_bytes(tf.io.encode_png(np.full((5, 8, 1), 200, np.uint8)).numpy())
    rgba = tmp_path / "rgba.png"
    pixels = np.zeros((9, 4, 4), np.uint8)
    pixels[..., 0], pixels[..., 3] = 255, 10  # red, almost transparent: alpha is dropped
    rgba.write_bytes(tf.io.encode_png(pixels).numpy())

    image = load_image(str(gray), 6)
    assert image.shape == (6, 6, 3) and image.dtype == tf.float32
    np.testing.assert_allclose(image.numpy(), 200.0)
    image = load_image(tf.constant(str(rgba)), 6)
    assert image.shape == (6, 6, 3)
    np.testing.assert_allclose(image.numpy()[..., 0], 255.0)
    np.testing.assert_allclose(image.numpy()[..., 1:], 0.0)

    # Static shape inside a graph whose input size is unknown.
    decode = tf.function(lambda data: decode_image(data, 16), input_signature=[tf.TensorSpec([], tf.string)])
    out = decode.get_concrete_function().structured_outputs
    assert out.shape.as_list() == [16, 16, 3]
    assert decode(tf.io.read_file(str(rgba))).shape == (16, 16, 3)
    with pytest.raises(ValueError, match="image_size=0"):
        load_image(str(gray), 0)


def test_image_dataset_batches(toy):
    data = load_flickr8k(data_dir=toy, num_test=NUM_TEST, num_validation=NUM_VALIDATION)
    paths = data.image_paths("train")  # 7 images
    dataset = image_dataset(paths, image_size=10, batch_size=3)
    assert dataset.element_spec.shape.as_list() == [None, 10, 10, 3]
    batches = list(dataset.as_numpy_iterator())
    assert [b.shape for b in batches] == [(3, 10, 10, 3), (3, 10, 10, 3), (1, 10, 10, 3)]
    assert all(b.dtype == np.float32 and b.min() >= 0 and b.max() <= 255 for b in batches)
    # Ordered: batch rows are the paths in order.
    np.testing.assert_array_equal(batches[2][0], load_image(paths[6], 10).numpy())
    with pytest.raises(ValueError, match="batch_size=0"):
        image_dataset(paths, image_size=10, batch_size=0)


@pytest.mark.slow
def test_real_flickr8k_from_zoo_data_dir():
    # The slow suite runs with ZOO_DATA_DIR set: its absence is a failure, not a skip.
    root = os.environ.get("ZOO_DATA_DIR")
    assert root, "ZOO_DATA_DIR is not set; point it at the shared data folder (e.g. ../shared/data)"
    data = load_flickr8k()  # verifies all 801 SHA256SUMS entries
    assert data.folder == pathlib.Path(root) / "flickr8k"
    assert {split: len(names) for split, names in data.splits.items()} == {
        "train": 650, "validation": 50, "test": 100}
    assert len(data.captions) == 800
    assert sum(map(len, data.captions.values())) == 4000
    assert all(len(captions) == 5 for captions in data.captions.values())
    test, validation, train = _expected_split(list(data.captions), 100, 50)
    assert (data.splits["test"], data.splits["validation"], data.splits["train"]) == (test, validation, train)
    assert any("," in c for captions in data.captions.values() for c in captions)  # quoted rows parsed
    batch = next(iter(image_dataset(data.image_paths("test")[:4], image_size=64, batch_size=4)))
    assert batch.shape == (4, 64, 64, 3)
    vocabulary = build_vocabulary([c for name in train for c in data.captions[name]])
    assert vocabulary[:2] == ["[START]", "[END]"] and "dog" in vocabulary and len(vocabulary) > 500
