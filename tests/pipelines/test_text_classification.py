"""The text classification pipeline on toy TSV files: train, log, evaluate,
save, load, and the CLI for the user's own files."""

import dataclasses
import json

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from pipelines import evaluate as evaluate_cli
from pipelines import tasks
from pipelines import text_classification as task
from pipelines import train as train_cli
from pipelines.configs import get_config
from pipelines.data import text_classification as text_data
from tests.pipelines.test_captioning import _summary_tags
from tests.weights_isolation import use_only_weights_dir

NAME = "transformer_encoder_sst2"
ASSETS = zoo.info(NAME)["assets"]  # builder kwarg -> file name

pytestmark = [pytest.mark.tf_only, pytest.mark.usefixtures("offline_env")]


def _toy_texts(count, seed):
    """Sentiment a bag of words can learn: one cue word among fillers."""
    rng = np.random.default_rng(seed)
    fillers = ["the", "film", "story", "acting", "was", "and", "plot", "cast"]
    rows = []
    for i in range(count):
        positive = i % 2 == 0
        words = list(rng.choice(fillers, rng.integers(1, 12)))
        words.insert(int(rng.integers(0, len(words) + 1)),
                     rng.choice(["good", "great"] if positive else ["bad", "awful"]))
        rows.append(("pos" if positive else "neg", " ".join(words)))
    return rows


def write_toy_tsv_files(folder, sizes=(128, 32, 32)):
    """train/validation/test TSV files of `_toy_texts`; returns {split: path}."""
    files = {}
    for seed, (split, count) in enumerate(zip(("train", "validation", "test"), sizes)):
        path = folder / f"{split}.tsv"
        path.write_text("label\tsentence\n" + "".join(f"{y}\t{x}\n" for y, x in _toy_texts(count, seed)))
        files[split] = str(path)
    return files


@pytest.fixture
def toy_files(tmp_path):
    return write_toy_tsv_files(tmp_path)


# A tiny words-only architecture, put in the entry's preset for each test.
TINY = dict(max_length=16, num_layers=1, num_heads=2, hidden_dim=8, ff_dim=16, dropout=0.0,
            merge="concat", norm_first=False, standardize="lower", subword_lengths=None,
            whole_word_dropout=0.0)


@pytest.fixture
def config(toy_files, monkeypatch):
    from tests.pipelines.toy_entries import toy_preset  # it imports this module

    toy_preset(monkeypatch, NAME, **TINY)
    return dict(get_config(NAME), files=toy_files, dataset="tsv", batch_size=8,
                learning_rate=1e-2, max_epochs=8, patience=8, logged_texts=2)


def test_bucketed_batches_have_static_padded_lengths(config):
    data = task.load_data(config)
    model = zoo.load(NAME, weights=None, vocabulary=task.build_vocabulary(data.texts["train"], "lower"),
                     class_names=data.class_names)
    assert task.bucket_boundaries(16) == [9, 17] and task.bucket_boundaries(64) == [9, 17, 33, 65]
    ds = task.train_dataset(model, data.texts["train"], data.labels["train"], batch_size=8)
    shapes = {tuple(ids.shape) for ids, _ in ds}
    assert shapes <= {(8, 8), (8, 16)} and len(shapes) == 2
    ids, labels = next(iter(task.eval_dataset(model, data.texts["test"], data.labels["test"])))
    assert ids.shape == (32, 16) and ids.dtype == tf.int32


def test_static_shape_evaluation_batches_are_full_and_weigh_the_fill_zero(config):
    """What JAX and keras.distribution need: every batch the same shape, the
    copies that fill the last one weighted 0, so the metrics are those of
    the texts alone (the same as from plain `predict`)."""
    data = task.load_data(config)
    model = zoo.load(NAME, weights=None, vocabulary=task.build_vocabulary(data.texts["train"], "lower"),
                     class_names=data.class_names)
    texts, labels = data.texts["test"][:30], data.labels["test"][:30]
    batches = list(task.eval_dataset(model, texts, labels, batch_size=8, static_shapes=True))
    assert [tuple(ids.shape) for ids, _, _ in batches] == [(8, 16)] * 4
    weights = np.concatenate([w.numpy() for _, _, w in batches])
    assert weights.tolist() == [1.0] * 30 + [0.0] * 2
    logits = model.predict(task.eval_dataset(model, texts, labels), verbose=0)
    expected_loss = np.mean(keras.losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True))
    first_30 = dataclasses.replace(data, texts=dict(data.texts, test=texts),
                                   labels=dict(data.labels, test=labels))
    metrics = task.split_metrics(model, first_30, "test")
    assert metrics["test_accuracy"] == round(100 * np.mean(np.argmax(logits, -1) == labels), 2)
    assert metrics["test_loss"] == pytest.approx(float(expected_loss), abs=1e-4)


def test_train_learns_logs_saves_and_loads(config, tmp_path):
    logdir = tmp_path / "logs"
    model, data, builder_kwargs, history = task.train(NAME, config, seed=0, logdir=str(logdir),
                                                      verbose=0)
    assert data.class_names == ["neg", "pos"] and model.class_names == ["neg", "pos"]
    assert model.vocabulary[:2] == ["", "[UNK]"] and "great" in model.vocabulary
    metrics = task.evaluate(model, data)
    assert set(metrics) == {"validation_accuracy", "validation_loss", "test_accuracy", "test_loss"}
    assert metrics["test_accuracy"] >= 90.0, metrics  # the cue word decides
    assert 1 <= history.best_epoch <= history.epochs_run
    assert {"self_attention/text_0", "self_attention/text_1"} <= _summary_tags(logdir / "attention")

    output = tmp_path / "weights" / NAME
    tasks.save(model, output, NAME)
    with h5py.File(output / zoo.registry.WEIGHTS_FILE) as f:
        assert "optimizer" not in f  # inference weights only
    loaded = zoo.load(NAME, weights=str(output / zoo.registry.WEIGHTS_FILE),
                      vocabulary=str(output / ASSETS["vocabulary"]),
                      class_names=str(output / ASSETS["class_names"]), **builder_kwargs)
    assert loaded.vocabulary == model.vocabulary and loaded.class_names == model.class_names
    ids = model.preprocessor(["good film", "awful plot and cast"])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(ids)),
                                  keras.ops.convert_to_numpy(model(ids)))
    assert loaded.classify(["the good film", "an awful plot"])["labels"] == ["pos", "neg"]


def test_train_cli_on_the_users_tsv_files(toy_files, config, tmp_path, monkeypatch):
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(
        config, files=None, dataset="sst2") if name == NAME else get_config(name))
    output = tmp_path / "mine"
    metrics = train_cli.main([NAME, "--train-file", toy_files["train"], "--validation-file",
                              toy_files["validation"], "--test-file", toy_files["test"],
                              "--epochs", "2", "--verbose", "0", "--output-dir", str(output),
                              "--logdir", str(tmp_path / "logs")])
    card = json.loads((output / zoo.registry.CARD_FILE).read_text())
    assert card["metrics"] == metrics and card["dataset"] == "tsv"
    assert (output / "labels.txt").read_text() == "neg\npos\n"
    with pytest.raises(SystemExit, match="--validation-file"):
        train_cli.main([NAME, "--train-file", toy_files["train"]])
    with pytest.raises(SystemExit, match="text classification"):
        train_cli.main(["gat_cora", "--train-file", toy_files["train"]])


def test_shipped_entry_card_is_reproduced_by_evaluate(config, tmp_path, monkeypatch):
    """The entry's own dataset (SST-2, here a toy stand-in) goes to the
    registry's weights folder, and `pipelines.evaluate` reproduces the card."""
    toy = text_data.load_tsv_files(config["files"])
    monkeypatch.setattr(text_data, "load_sst2", lambda data_dir=None: toy)
    sst2_config = dict(config, files=None, dataset="sst2")
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(sst2_config))
    metrics = train_cli.main([NAME, "--epochs", "1", "--verbose", "0",
                              "--logdir", str(tmp_path / "logs")])
    assert zoo.load(NAME).class_names == ["neg", "pos"]  # assets and sha256-checked weights
    monkeypatch.setattr(evaluate_cli, "get_config", lambda name: dict(sst2_config))
    again = evaluate_cli.main([NAME, "--output", str(tmp_path / "eval.json")])
    assert again == {k: v for k, v in metrics.items() if k.endswith(("accuracy", "loss"))}


def test_subwords_train_save_load_and_read_words_never_seen(config, tmp_path, monkeypatch):
    model, data, builder_kwargs, _ = task.train(
        NAME, config, seed=0, verbose=0, model_kwargs=dict(subword_lengths=(3, 4),
                                                           whole_word_dropout=0.3))
    assert "greatly" not in model.vocabulary and "awfully" not in model.vocabulary
    assert task.evaluate(model, data)["test_accuracy"] >= 90.0
    # Both are [UNK] to the word vocabulary: only their n-grams can tell them apart.
    assert model.classify(["the greatly plot", "the awfully plot"])["labels"] == ["pos", "neg"]

    use_only_weights_dir(monkeypatch, tmp_path)
    tasks.save(model, tmp_path / NAME, NAME)
    assert (tmp_path / NAME / ASSETS["subwords"]).read_text() == "\n".join(model.subwords) + "\n"
    loaded = zoo.load(NAME, weights=str(tmp_path / NAME / zoo.registry.WEIGHTS_FILE), **builder_kwargs)
    assert loaded.subwords == model.subwords
    inputs = model.preprocessor(["the greatly plot", "awful"])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(inputs)),
                                  keras.ops.convert_to_numpy(model(inputs)))
