"""Tatoeba sentence-pair loader: file format, fixed split, resolution and the zip download."""

import hashlib
import io
import zipfile

import pytest

from pipelines.data import tatoeba
from pipelines.data.download import ChecksumMismatchError, DatasetFormatError, DatasetNotFoundError
from tests.http_server import serve_folder
from tests.shared_data import shared_dataset_dir

CLOSED_PORT_URL = "http://127.0.0.1:9/spa-eng.zip"  # nothing listens on the discard port


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tatoeba, "TATOEBA_ZIP_URL", CLOSED_PORT_URL)  # no test reaches the network


def _write(path, lines, newline="\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return path


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _pin(monkeypatch, path):
    """Pins TATOEBA_SHA256 to a toy spa.txt."""
    monkeypatch.setattr(tatoeba, "TATOEBA_SHA256", _sha256(path.read_bytes()))


TOY = ["Go.\tVe.", "Where is it?\t¿Dónde está?", "Thanks.\tGracias."]


def test_split_of_rule():
    assert [tatoeba.split_of(i) for i in (0, 1, 2, 49, 50, 51, 52, 100)] == [
        "test", "validation", "train", "train", "test", "validation", "train", "test"]
    for bad in (-1, 1.0, True, "3"):
        with pytest.raises(ValueError, match="`index` must be a non-negative int"):
            tatoeba.split_of(bad)


def test_pairs_file_is_split_by_line_index(tmp_path):
    path = _write(tmp_path / "pairs.txt", [f"en {i}\tes {i}" for i in range(120)])
    data = tatoeba.load_pairs_file(path)
    assert {split: len(data.sources[split]) for split in tatoeba.SPLITS} == {
        "train": 114, "validation": 3, "test": 3}
    assert data.sources["test"] == ["es 0", "es 50", "es 100"]
    assert data.targets["validation"] == ["en 1", "en 51", "en 101"]
    assert data.sources["train"][:3] == ["es 2", "es 3", "es 4"]
    assert data.targets["train"][48:50] == ["en 52", "en 53"]  # 50 and 51 are skipped
    assert (data.source_language, data.target_language) == ("spa", "eng")
    assert repr(data) == "TranslationData(spa -> eng; train 114, validation 3, test 3)"


def test_attribution_column_crlf_and_unicode(tmp_path):
    lines = [f"{line}\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i} (CK)" for i, line in enumerate(TOY)]
    path = _write(tmp_path / "spa.txt", lines, newline="\r\n")
    assert tatoeba.read_pairs(path) == (["Ve.", "¿Dónde está?", "Gracias."], ["Go.", "Where is it?", "Thanks."])
    # No final newline is fine too.
    path.write_text("\n".join(TOY), encoding="utf-8")
    assert tatoeba.read_pairs(path)[0] == ["Ve.", "¿Dónde está?", "Gracias."]


@pytest.mark.parametrize("lines, match", [
    (["Go.\tVe.", "no tab here"], r"pairs.txt: line 2 has 1 tab-separated column, expected at least 2"),
    (["Go.\tVe.", "", "Hi.\tHola."], r"pairs.txt: line 2 has 1 tab-separated column"),
    (["Go.\tVe.", "Go.\tVe.", "Hi.\t  "], r"pairs.txt: line 3 has an empty sentence"),
    (["\tVe."], r"pairs.txt: line 1 has an empty sentence"),
    (["Go.\tVe.", "", ""], r"pairs.txt: line 2 has 1"),  # only the final newline is ignored
])
def test_malformed_line_names_file_and_line(tmp_path, lines, match):
    path = _write(tmp_path / "pairs.txt", lines)
    with pytest.raises(DatasetFormatError, match=match):
        tatoeba.load_pairs_file(path)


def test_empty_missing_and_non_utf8_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(DatasetFormatError, match="empty.txt: the file is empty"):
        tatoeba.read_pairs(tmp_path / "empty.txt")
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        tatoeba.read_pairs(tmp_path / "nope.txt")
    (tmp_path / "latin1.txt").write_bytes("Go.\tVe.\nWhere?\t¿Dónde?\n".encode("latin-1"))
    with pytest.raises(DatasetFormatError, match="latin1.txt: line 2 is not valid UTF-8"):
        tatoeba.read_pairs(tmp_path / "latin1.txt")


def test_language_codes_are_checked(tmp_path):
    path = _write(tmp_path / "fra.txt", TOY)
    assert repr(tatoeba.load_pairs_file(path, "fra", "eng")).startswith("TranslationData(fra -> eng;")
    with pytest.raises(ValueError, match="`target_language` must be a non-empty string"):
        tatoeba.load_pairs_file(path, "fra", "")


def test_resolution_data_dir_then_zoo_data_dir(tmp_path, monkeypatch):
    env_file = _write(tmp_path / "shared" / "tatoeba_spa_eng" / "spa.txt", TOY)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "shared"))
    _pin(monkeypatch, env_file)
    assert tatoeba.load_tatoeba_spa_eng().sources["test"] == ["Ve."]

    own_file = _write(tmp_path / "mine" / "spa.txt", ["Hi.\tHola."])
    _pin(monkeypatch, own_file)
    assert tatoeba.load_tatoeba_spa_eng(tmp_path / "mine").sources["test"] == ["Hola."]


def test_corrupt_file_is_detected_not_used(tmp_path, monkeypatch):
    path = _write(tmp_path / "mine" / "spa.txt", TOY)
    _pin(monkeypatch, path)
    _write(path, [*TOY[:-1], "Thanks.\tGracias!"])
    with pytest.raises(ChecksumMismatchError, match=r"spa.txt at .*mine"):
        tatoeba.load_tatoeba_spa_eng(tmp_path / "mine")


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _serve_zip(tmp_path, monkeypatch, zip_bytes, spa_bytes):
    """Puts zip_bytes in a served folder and pins both digests (the zip's and spa.txt's)."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "spa-eng.zip").write_bytes(zip_bytes)
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setattr(tatoeba, "TATOEBA_ZIP_SHA256", _sha256(zip_bytes))
    monkeypatch.setattr(tatoeba, "TATOEBA_SHA256", _sha256(spa_bytes))
    return served


def test_download_extracts_spa_txt_into_the_cache(tmp_path, monkeypatch):
    spa = ("\n".join(TOY) + "\n").encode("utf-8")
    served = _serve_zip(tmp_path, monkeypatch, _zip({"spa-eng/_about.txt": b"about", "spa-eng/spa.txt": spa}), spa)
    with serve_folder(served) as url:
        monkeypatch.setattr(tatoeba, "TATOEBA_ZIP_URL", url + "spa-eng.zip")
        data = tatoeba.load_tatoeba_spa_eng()
    cache = tmp_path / "cache" / "tatoeba_spa_eng"
    assert [p.name for p in cache.iterdir()] == ["spa.txt"]  # the zip is deleted
    assert (cache / "spa.txt").read_bytes() == spa
    assert data.sources["validation"] == ["¿Dónde está?"] and data.targets["train"] == ["Thanks."]
    # The server is gone: the second load is served by the cache.
    assert tatoeba.load_tatoeba_spa_eng().sources == data.sources


@pytest.mark.parametrize("case, error, match", [
    ("wrong zip digest", ChecksumMismatchError, "Checksum mismatch for .*spa-eng.zip"),
    ("not a zip", DatasetFormatError, "is not a zip holding spa-eng/spa.txt"),
    ("no spa.txt in the zip", DatasetFormatError, "is not a zip holding spa-eng/spa.txt"),
    ("wrong spa.txt", ChecksumMismatchError, "Checksum mismatch for spa-eng/spa.txt extracted from"),
])
def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch, case, error, match):
    spa = ("\n".join(TOY) + "\n").encode("utf-8")
    zip_bytes = {"not a zip": b"<html>Not found</html>",
                 "no spa.txt in the zip": _zip({"spa-eng/_about.txt": b"about"})}.get(
        case, _zip({"spa-eng/spa.txt": spa}))
    served = _serve_zip(tmp_path, monkeypatch, zip_bytes, spa)
    if case == "wrong zip digest":
        monkeypatch.setattr(tatoeba, "TATOEBA_ZIP_SHA256", "0" * 64)
    if case == "wrong spa.txt":
        monkeypatch.setattr(tatoeba, "TATOEBA_SHA256", "0" * 64)
    with serve_folder(served) as url:
        monkeypatch.setattr(tatoeba, "TATOEBA_ZIP_URL", url + "spa-eng.zip")
        with pytest.raises(error, match=match):
            tatoeba.load_tatoeba_spa_eng()
    assert list((tmp_path / "cache" / "tatoeba_spa_eng").iterdir()) == []


def test_offline_and_absent_says_what_to_put_where(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    with pytest.raises(DatasetNotFoundError) as info:
        tatoeba.load_tatoeba_spa_eng(tmp_path / "mine")
    message = str(info.value)
    cache = tmp_path / "cache" / "tatoeba_spa_eng"
    for expected in (f"{tmp_path / 'mine'} (data_dir argument): does not exist", f"{cache} (cache)",
                     "$ZOO_DATA_DIR is not set", "pass it as data_dir=...", "spa.txt comes from",
                     f"{CLOSED_PORT_URL} (its spa-eng/spa.txt), which could not be downloaded"):
        assert expected in message
    assert info.value.missing == ("spa.txt",)
    assert info.value.searched == (tmp_path / "mine", cache)
    assert list(cache.iterdir()) == []


@pytest.mark.slow
def test_real_spa_eng_split():
    folder = shared_dataset_dir("tatoeba_spa_eng")
    data = tatoeba.load_tatoeba_spa_eng()  # via $ZOO_DATA_DIR, checked against the pinned digest
    sizes = {split: len(data.sources[split]) for split in tatoeba.SPLITS}
    assert sizes == {"train": 114204, "validation": 2380, "test": 2380}
    assert sum(sizes.values()) == 118964
    assert all(len(data.sources[s]) == len(data.targets[s]) for s in tatoeba.SPLITS)
    with open(folder / "spa.txt", encoding="utf-8") as f:
        line0, line1, line2 = (next(f).rstrip("\n").split("\t") for _ in range(3))
    assert (data.targets["test"][0], data.sources["test"][0]) == tuple(line0) == ("Go.", "Ve.")
    assert (data.targets["validation"][0], data.sources["validation"][0]) == tuple(line1)
    assert (data.targets["train"][0], data.sources["train"][0]) == tuple(line2)
