"""Metrics cards and asset files as `zoo.load` reads them: every asset is
checked against the sha256 its card recorded, an optional asset the card
lists must be there, and a card that cannot be read is named (and does not
break fresh loads, `info` or `python -m zoo list`).

Nothing is read from the repository's savedmodels/ but its cards (to check
they pin every shipped asset); toy entries go to a temporary $ZOO_WEIGHTS_DIR.
"""

import json
import pathlib
import re

import pytest

import zoo
from pipelines.cards import write_card
from zoo.__main__ import main
from zoo.models.transformer_encoder.subword_tokenizer import subword_vocabulary
from zoo.registry import CARD_FILE, WEIGHTS_FILE, CardError, sha256_of
from tests.pipelines.toy_entries import toy_preset
from tests.weights_isolation import use_only_weights_dir

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAME = "transformer_encoder_sst2"
VOCABULARY = ["", "[UNK]", "good", "bad", "movie", "not"]
KWARGS = dict(max_length=5, num_layers=1, num_heads=2, hidden_dim=8, ff_dim=16)


@pytest.fixture
def weights_root(tmp_path, monkeypatch):
    root = tmp_path / "weights"
    root.mkdir()
    use_only_weights_dir(monkeypatch, root)
    return root


def _ship_classifier(root, monkeypatch, subwords=False):
    """A tiny text classifier shipped the way pipelines.train ships it:
    weights, assets, then the card (its kwargs made the preset, which a
    shipped card must match). Returns its folder."""
    folder = root / NAME
    folder.mkdir()
    assets = {"vocabulary.txt": VOCABULARY, "labels.txt": ["neg", "pos"]}
    kwargs = dict(KWARGS, subword_lengths=None)
    if subwords:
        assets["subwords.txt"] = subword_vocabulary(VOCABULARY[2:], (3, 4))
        kwargs["subword_lengths"] = [3, 4]
    toy_preset(monkeypatch, NAME, **kwargs)
    model = zoo.load(NAME, weights=None, vocabulary=VOCABULARY, class_names=["neg", "pos"],
                     subwords=assets.get("subwords.txt"), **kwargs)
    model.save_weights(str(folder / WEIGHTS_FILE))
    for file_name, lines in assets.items():
        (folder / file_name).write_text("\n".join(lines) + "\n")
    write_card(folder, NAME, "test", 0, {}, builder_kwargs=kwargs)
    return folder


def test_the_card_records_every_asset_and_load_accepts_them(weights_root, monkeypatch):
    folder = _ship_classifier(weights_root, monkeypatch, subwords=True)
    card = json.loads((folder / CARD_FILE).read_text())
    assert card["assets_sha256"] == {name: sha256_of(folder / name)
                                     for name in ("labels.txt", "subwords.txt", "vocabulary.txt")}
    assert zoo.load(NAME).classify(["good movie"])["labels"][0] in ("neg", "pos")


@pytest.mark.parametrize("file_name, edit", [
    ("vocabulary.txt", lambda lines: lines[:2] + [lines[3], lines[2]] + lines[4:]),  # two words swapped
    ("labels.txt", lambda lines: lines[::-1]),  # classes reordered
])
def test_an_edited_asset_is_refused_and_named(weights_root, monkeypatch, file_name, edit):
    folder = _ship_classifier(weights_root, monkeypatch)
    path = folder / file_name
    path.write_text("\n".join(edit(path.read_text().rstrip("\n").split("\n"))) + "\n")
    argument = {"vocabulary.txt": "vocabulary", "labels.txt": "class_names"}[file_name]
    with pytest.raises(ValueError, match=re.escape(
            f"The {argument} file {path} does not match its metrics card (sha256 {sha256_of(path)}, card "
            "says ") + r"[0-9a-f]{64}\): it was edited or replaced"):
        zoo.load(NAME)


def test_a_missing_optional_asset_the_card_lists_is_named(weights_root, monkeypatch):
    folder = _ship_classifier(weights_root, monkeypatch, subwords=True)
    (folder / "subwords.txt").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"'{NAME}' needs its subwords file {folder / 'subwords.txt'} (its metrics card lists it), "
            "which ships with the trained weights.")):
        zoo.load(NAME)
    with pytest.raises(FileNotFoundError, match=re.escape("subwords.txt")):
        zoo.load(NAME, weights=None)


def test_an_optional_asset_the_card_does_not_list_falls_back_to_the_default(weights_root, monkeypatch):
    """Trained without subwords: no subwords.txt, no subwords (the documented default)."""
    folder = _ship_classifier(weights_root, monkeypatch)
    assert "subwords.txt" not in json.loads((folder / CARD_FILE).read_text())["assets_sha256"]
    assert zoo.load(NAME).subwords is None


def test_a_card_from_before_asset_checksums_warns_and_loads(weights_root, monkeypatch):
    folder = _ship_classifier(weights_root, monkeypatch)
    card = json.loads((folder / CARD_FILE).read_text())
    del card["assets_sha256"]
    (folder / CARD_FILE).write_text(json.dumps(card))
    with pytest.warns(UserWarning, match=re.escape(
            f"The metrics card of '{NAME}' records no asset checksums (assets_sha256), so labels.txt, "
            "vocabulary.txt are not verified.")):
        zoo.load(NAME)


def test_every_shipped_card_pins_its_assets():
    for name in zoo.list_models():
        folder = ROOT / "savedmodels" / name
        card = json.loads((folder / CARD_FILE).read_text())
        files = sorted(file for file in set(zoo.info(name)["assets"].values()) if (folder / file).is_file())
        assert card["assets_sha256"] == {file: sha256_of(folder / file) for file in files}, name


BAD_CARDS = {
    "invalid JSON": (b'{"name": "gat_cora",', r"is not valid JSON \(Expecting"),
    "empty": (b"", "is empty"),
    "not UTF-8": (b'{"name": "\xff"}', r"is not UTF-8 text \(invalid start byte at byte 10\)"),
    "a list": (b'["gat_cora"]', re.escape("must hold a JSON object (name, command, metrics, ...). "
                                          "Received: a JSON list")),
}


def _bad_card(root, data):
    folder = root / "gat_cora"
    folder.mkdir()
    (folder / CARD_FILE).write_bytes(data)
    return folder / CARD_FILE


@pytest.mark.parametrize("data, problem", BAD_CARDS.values(), ids=BAD_CARDS.keys())
def test_a_bad_card_is_named_and_card_free_uses_keep_working(weights_root, data, problem, capsys):
    path = _bad_card(weights_root, data)
    message = re.escape(f"The metrics card {path} ") + problem
    with pytest.raises(CardError, match=message):
        zoo.load("gat_cora")
    with pytest.warns(UserWarning, match=message + r".*Using 'gat_cora''s preset kwargs instead\."):
        model = zoo.load("gat_cora", weights=None, num_features=5, num_classes=3)
    assert model.output_shape == (None, 3)
    info = zoo.info("gat_cora")
    assert info["metrics"] == {} and re.match(message, info["card_error"])
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == zoo.list_models()  # every entry still listed
    gat = next(line for line in lines if line.startswith("gat_cora"))
    assert re.search(r"\(metrics card unreadable: " + message, gat)
