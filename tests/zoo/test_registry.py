"""Tests for the zoo registry: list_models, info, load (DESIGN.md §4, §5).

Trained weights are never read from the repository's savedmodels/: every test
that touches them points $ZOO_WEIGHTS_DIR at a temporary folder and ships
tiny weights there itself (num_features=5, num_classes=3).
"""

import inspect
import json
import pathlib

import keras
import numpy as np
import pytest

import zoo
from pipelines.cards import write_card
from zoo.registry import CARD_FILE, WEIGHTS_FILE, sha256_of
from tests.weights_isolation import use_only_weights_dir

SMALL = dict(num_features=5, num_classes=3)
TRAIN_COMMAND = "python -m pipelines.train gat_cora"


def _inputs(num_nodes=6, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "node_features": rng.random((num_nodes, SMALL["num_features"])).astype("float32"),
        "edges": np.array([[0, 1], [1, 0], [1, 2], [2, 1], [3, 4], [4, 3]], "int32"),
    }


def _predict(model, inputs):
    return keras.ops.convert_to_numpy(model(inputs, training=False))


@pytest.fixture
def weights_root(tmp_path, monkeypatch):
    """An empty $ZOO_WEIGHTS_DIR: no entry has trained weights."""
    root = tmp_path / "weights"
    root.mkdir()
    use_only_weights_dir(monkeypatch, root)
    return root


def _ship(model, root, metrics=None):
    """Puts `model`'s weights and a metrics card where zoo.load looks."""
    folder = root / "gat_cora"
    folder.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(folder / WEIGHTS_FILE))
    write_card(folder, "gat_cora", TRAIN_COMMAND, 0, metrics or {"test_accuracy": 42.0},
               builder_kwargs=SMALL)
    return folder


def test_list_models_is_sorted_and_has_gat_cora():
    names = zoo.list_models()
    assert isinstance(names, list)
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    assert "gat_cora" in names


def test_info_keys_without_trained_weights(weights_root):
    info = zoo.info("gat_cora")
    for key in ("task", "paper", "dataset", "metrics", "command", "target", "weights_available"):
        assert key in info, key
    assert info["command"] == TRAIN_COMMAND
    assert "Cora" in info["dataset"] and "83" in info["target"]
    assert info["weights_available"] is False
    assert info["metrics"] == {}


def test_info_reads_the_card(weights_root):
    _ship(zoo.load("gat_cora", weights=None, **SMALL), weights_root,
          metrics={"test_accuracy": 12.5})
    info = zoo.info("gat_cora")
    assert info["weights_available"] is True
    assert info["metrics"] == {"test_accuracy": 12.5}
    assert info["trained_with"] == TRAIN_COMMAND


def test_unknown_name_names_the_close_match():
    with pytest.raises(ValueError, match="gat_cora") as error:
        zoo.load("gat_coda")
    assert "gat_coda" in str(error.value)
    with pytest.raises(ValueError, match="gat_cora"):
        zoo.info("gat_coda")


def test_unknown_override_names_it_and_the_valid_keys():
    with pytest.raises(ValueError, match="foo") as error:
        zoo.load("gat_cora", weights=None, foo=1)
    message = str(error.value)
    builder = zoo.registry._entry("gat_cora").builder
    for key in inspect.signature(builder).parameters:
        assert key in message, f"valid key {key!r} not named in: {message}"


def _dropout_rates(model):
    rates = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Dropout):
            rates.append(layer.rate)
    return rates


def test_preset_builds_the_paper_model():
    model = zoo.load("gat_cora", weights=None)
    assert model.get_layer("gat_backbone").num_features == 1433
    assert model.get_layer("gat_output").units == 7
    rates = _dropout_rates(model)
    assert rates and all(rate == pytest.approx(0.6) for rate in rates)


def test_override_is_applied():
    model = zoo.load("gat_cora", weights=None, dropout=0.5, **SMALL)
    rates = _dropout_rates(model)
    # Input dropout of each GAT layer and the coefficient dropout inside them.
    assert len(rates) >= 4
    assert all(rate == pytest.approx(0.5) for rate in rates), rates
    assert model.get_layer("output_dropout").rate == pytest.approx(0.5)
    assert model.get_layer("gat_output").dropout == pytest.approx(0.5)
    assert model.get_layer("gat_backbone").get_layer("gat_0").dropout == pytest.approx(0.5)
    assert _predict(model, _inputs()).shape == (6, 3)


def test_missing_trained_weights_name_the_train_command(weights_root):
    with pytest.raises(FileNotFoundError, match=TRAIN_COMMAND) as error:
        zoo.load("gat_cora")
    assert str(weights_root) in str(error.value)
    assert "weights=None" in str(error.value)


def test_trained_weights_round_trip(weights_root):
    model = zoo.load("gat_cora", weights=None, **SMALL)
    _ship(model, weights_root)
    keras.utils.set_random_seed(123)  # a fresh build must not already match
    fresh = zoo.load("gat_cora", weights=None, **SMALL)
    assert not np.allclose(_predict(fresh, _inputs()), _predict(model, _inputs()))
    loaded = zoo.load("gat_cora", **SMALL)
    np.testing.assert_array_equal(_predict(loaded, _inputs()), _predict(model, _inputs()))


def test_corrupt_weights_do_not_match_the_card(weights_root):
    folder = _ship(zoo.load("gat_cora", weights=None, **SMALL), weights_root)
    path = folder / WEIGHTS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match its metrics card") as error:
        zoo.load("gat_cora", **SMALL)
    assert sha256_of(path) in str(error.value)
    assert TRAIN_COMMAND in str(error.value)


def test_weights_without_a_card_are_refused(weights_root):
    folder = _ship(zoo.load("gat_cora", weights=None, **SMALL), weights_root)
    (folder / CARD_FILE).unlink()
    with pytest.raises(ValueError, match="does not match its metrics card"):
        zoo.load("gat_cora", **SMALL)


@pytest.mark.parametrize("as_string", [True, False])
def test_weights_from_a_path(tmp_path, weights_root, as_string):
    model = zoo.load("gat_cora", weights=None, **SMALL)
    path = tmp_path / "elsewhere" / "mine.weights.h5"
    path.parent.mkdir()
    model.save_weights(str(path))
    keras.utils.set_random_seed(7)
    loaded = zoo.load("gat_cora", weights=str(path) if as_string else path, **SMALL)
    np.testing.assert_array_equal(_predict(loaded, _inputs()), _predict(model, _inputs()))


def test_missing_weights_path_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.weights.h5"):
        zoo.load("gat_cora", weights=tmp_path / "nothing.weights.h5", **SMALL)


def test_return_attention_override_keeps_trained_weights(weights_root):
    # An override that does not change the weights is fine with trained weights.
    model = zoo.load("gat_cora", weights=None, **SMALL)
    _ship(model, weights_root)
    loaded = zoo.load("gat_cora", return_attention=True, **SMALL)
    out = loaded(_inputs(), training=False)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out["logits"]),
                                  _predict(model, _inputs()))


# Keras warns about each layer it cannot fill before it raises.
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("change", [dict(hidden_units=4), dict(num_classes=4),
                                    dict(num_features=1433, num_classes=7)])
def test_architecture_change_with_trained_weights_suggests_weights_none(weights_root, change):
    _ship(zoo.load("gat_cora", weights=None, **SMALL), weights_root)
    # The last change: the preset's sizes (1433 features, 7 classes) vs the small weights.
    overrides = {**SMALL, **change}
    with pytest.raises(ValueError, match="weights=None"):
        zoo.load("gat_cora", **overrides)
    # The same overrides with fresh weights are fine.
    zoo.load("gat_cora", weights=None, **overrides)


def test_shipped_card_that_differs_from_the_preset_is_refused_naming_each_key(weights_root):
    """The preset is where the architecture lives: a card recording another
    one is an error that says what differs, not a silent merge."""
    model = zoo.load("gat_cora", weights=None, **SMALL)
    _ship(model, weights_root)  # card: builder_kwargs=SMALL, not the preset's sizes
    with pytest.raises(ValueError, match="records other builder kwargs than the preset") as error:
        zoo.load("gat_cora")
    assert "num_classes: card 3, preset 7" in str(error.value)
    assert "num_features: card 5, preset 1433" in str(error.value)
    # Overriding the differing keys settles them; weights=None never reads the card.
    loaded = zoo.load("gat_cora", **SMALL)
    np.testing.assert_array_equal(_predict(loaded, _inputs()), _predict(model, _inputs()))
    assert zoo.load("gat_cora", weights=None).get_layer("gat_backbone").num_features == 1433


def test_weights_by_path_are_rebuilt_from_the_card_beside_them(tmp_path, weights_root):
    """A model trained with other settings (here 5 features, 3 classes, 4
    hidden units) loads from its folder, or its weights file, without the
    overrides being passed again."""
    trained = dict(SMALL, hidden_units=4)
    model = zoo.load("gat_cora", weights=None, **trained)
    folder = tmp_path / "runs" / "mine"
    folder.mkdir(parents=True)
    model.save_weights(str(folder / WEIGHTS_FILE))
    write_card(folder, "gat_cora", TRAIN_COMMAND, 0, {},
               builder_kwargs={**zoo.info("gat_cora")["kwargs"], **trained})
    for weights in (folder, folder / WEIGHTS_FILE, str(folder)):
        loaded = zoo.load("gat_cora", weights=weights)
        assert loaded.get_layer("gat_backbone").hidden_units == 4
        np.testing.assert_array_equal(_predict(loaded, _inputs()), _predict(model, _inputs()))
    assert zoo.load("gat_cora", weights=folder, dropout=0.1).get_layer("gat_output").dropout == 0.1
    card = json.loads((folder / CARD_FILE).read_text())
    (folder / CARD_FILE).write_text(json.dumps(dict(card, builder_kwargs=dict(vocabulary_size=3))))
    with pytest.raises(ValueError, match="vocabulary_size"):
        zoo.load("gat_cora", weights=folder)


def test_every_presets_kwargs_are_the_whole_architecture():
    """Every builder argument is a preset kwarg, an asset file or a load
    option: the builder's defaults never decide an entry's architecture."""
    for name in zoo.list_models():
        entry = zoo.registry._entry(name)
        parameters = set(inspect.signature(entry.builder).parameters)
        assert parameters - set(zoo.registry.LOAD_OPTIONS) == set(entry.kwargs) | set(entry.assets), name
        assert set(entry.data_kwargs) <= set(entry.kwargs), name


def test_shipped_cards_record_their_presets_kwargs():
    """The repository's cards (savedmodels/, read, not their weights) record
    the architecture their preset declares; zoo.load refuses one that does not."""
    shipped = pathlib.Path(zoo.__file__).resolve().parent.parent / "savedmodels"
    for name in zoo.list_models():
        card = zoo.registry.read_card(shipped / name)
        if card is not None:
            assert card["builder_kwargs"] == zoo.registry._as_json(zoo.info(name)["kwargs"]), name


def test_weights_are_looked_for_in_the_own_folder_then_the_shipped_then_the_cache(tmp_path, monkeypatch):
    """keras-hub/timm-like lookup (issue 21): $ZOO_WEIGHTS_DIR, the package's
    weights, the user cache; the first folder holding the file wins, and a
    file in none of them names every folder tried."""
    own, shipped, cache = tmp_path / "own", tmp_path / "shipped", tmp_path / "cache"
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(own))
    monkeypatch.setattr(zoo.registry, "SHIPPED_ROOTS", (shipped,))
    monkeypatch.setattr(zoo.registry, "cache_root", lambda: cache)
    model = zoo.load("gat_cora", weights=None, **SMALL)
    for accuracy, root in [(1.0, own), (2.0, shipped), (3.0, cache / "weights")]:
        _ship(model, root, {"test_accuracy": accuracy})
    for expected, remove in [(1.0, own), (2.0, shipped), (3.0, cache / "weights")]:
        assert zoo.info("gat_cora")["metrics"] == {"test_accuracy": expected}
        assert zoo.load("gat_cora", **SMALL) is not None  # the checksum of that folder's card
        (remove / "gat_cora" / WEIGHTS_FILE).unlink()
    with pytest.raises(FileNotFoundError) as error:
        zoo.load("gat_cora", **SMALL)
    for root in (own, shipped, cache / "weights"):
        assert str(root / "gat_cora") in str(error.value)
