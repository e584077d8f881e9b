"""Text classification loaders: TSV files of any layout, and SST-2."""


import numpy as np
import pytest

from pipelines.data import text_classification as text_data
from pipelines.data.download import ChecksumMismatchError, DatasetFormatError, DatasetNotFoundError
from tests.http_server import serve_folder
from tests.shared_data import shared_dataset_dir


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _files(tmp_path, header="label\tsentence", train=None, validation=None):
    train = train or ["pos\ta great film", "neg\ta dull \"film\"", "", "pos\tgreat"]
    validation = validation or ["neg\tdull", "pos\tgreat fun"]
    return {"train": _write(tmp_path / "train.tsv", [header, *train]),
            "validation": _write(tmp_path / "dev.tsv", [header, *validation]),
            "test": None}


def test_string_labels_are_sorted_and_quotes_are_text(tmp_path):
    data = text_data.load_tsv_files(_files(tmp_path))
    assert data.class_names == ["neg", "pos"]
    assert data.texts["train"] == ["a great film", 'a dull "film"', "great"]  # blank line skipped
    np.testing.assert_array_equal(data.labels["train"], [1, 0, 1])
    np.testing.assert_array_equal(data.labels["validation"], [0, 1])
    assert "test" not in data.texts


def test_integer_labels_sort_numerically_and_columns_can_be_named_or_indexed(tmp_path):
    files = _files(tmp_path, header="text\tid\tstars",
                   train=["ok\t1\t10", "bad\t2\t2", "fine\t3\t9"], validation=["meh\t4\t2"])
    data = text_data.load_tsv_files(files, label_column="stars", text_column="text")
    assert data.class_names == ["2", "9", "10"]
    np.testing.assert_array_equal(data.labels["train"], [2, 0, 1])
    same = text_data.load_tsv_files(files, label_column=2, text_column=0)
    assert same.class_names == data.class_names and same.texts == data.texts


def test_unknown_validation_label_names_file_and_line(tmp_path):
    files = _files(tmp_path, validation=["neg\tdull", "", "maybe\tso so"])
    with pytest.raises(DatasetFormatError, match=r"dev.tsv: line 4 has label 'maybe'.*\['neg', 'pos'\]"):
        text_data.load_tsv_files(files)


@pytest.mark.parametrize("header, train, kwargs, match", [
    ("label\tsentence", ["pos\tgood"], dict(text_column="review"), "no column 'review'"),
    ("label\tsentence", ["pos\tgood"], dict(label_column=5), "outside the header's 2 columns"),
    ("label\tsentence", ["pos"], {}, "line 2 has 1 fields"),
    ("label\tsentence", ["pos\t  "], {}, "line 2 has an empty label or text"),
    ("label\tsentence", ["pos\tgood", "pos\tfine"], {}, "at least 2 distinct labels"),
])
def test_format_errors_name_the_problem(tmp_path, header, train, kwargs, match):
    files = _files(tmp_path, header=header, train=train, validation=["pos\tgood"])
    with pytest.raises(DatasetFormatError, match=match):
        text_data.load_tsv_files(files, **kwargs)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.tsv"):
        text_data.read_tsv(tmp_path / "nope.tsv")
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(DatasetFormatError, match="empty"):
        text_data.read_tsv(tmp_path / "empty.tsv")


def _toy_sst2(folder):
    folder.mkdir(parents=True)
    _write(folder / "train.tsv", ["label\tsentence", "1\ta gorgeous film", "0\tdull"])
    _write(folder / "dev.tsv", ["label\tcontent", "0\tboring", "1\tfun"])
    _write(folder / "test.tsv", ["label\tcontent", "1\tjoyous"])
    return folder


def test_sst2_reads_label_first_whatever_the_header_and_names_the_classes(tmp_path, monkeypatch):
    folder = _toy_sst2(tmp_path / "sst2")
    monkeypatch.setattr(text_data, "SST2_SHA256", dict.fromkeys(text_data.SST2_SHA256))  # unpinned toy
    data = text_data.load_sst2(folder)
    assert data.class_names == ["negative", "positive"]
    assert data.texts["validation"] == ["boring", "fun"]
    np.testing.assert_array_equal(data.labels["train"], [1, 0])


def test_sst2_corrupt_file_is_detected(tmp_path):
    folder = _toy_sst2(tmp_path / "sst2")
    with pytest.raises(ChecksumMismatchError, match="train.tsv"):
        text_data.load_sst2(folder)


def test_sst2_offline_and_missing_names_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setattr(text_data, "SST2_URL", "http://127.0.0.1:9/")  # nothing listens
    with pytest.raises(DatasetNotFoundError, match="train.tsv"):
        text_data.load_sst2()


def _check_sst2(data):
    assert {s: len(t) for s, t in data.texts.items()} == {"train": 67349, "validation": 872, "test": 1821}
    assert [np.bincount(data.labels[s]).tolist() for s in ("train", "validation", "test")] == [
        [29780, 37569], [428, 444], [912, 909]]


@pytest.mark.slow
def test_real_sst2_download_into_cache(tmp_path, monkeypatch):
    """The download path with the real pinned digests, served from 127.0.0.1."""
    source = shared_dataset_dir("sst2")
    monkeypatch.delenv("ZOO_DATA_DIR")
    with serve_folder(source) as url:
        monkeypatch.setattr(text_data, "SST2_URL", url)
        data = text_data.load_sst2()
    assert sorted(p.name for p in (tmp_path / "cache" / "sst2").iterdir()) == [
        "dev.tsv", "test.tsv", "train.tsv"]
    _check_sst2(data)
