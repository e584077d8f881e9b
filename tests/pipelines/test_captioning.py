"""The captioning pipeline on a toy Flickr8k: train, log, evaluate, save, load."""

import functools
import json
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from sacrebleu.metrics import BLEU

import zoo
from pipelines import captioning as task
from pipelines import evaluate as evaluate_cli
from pipelines import tasks
from pipelines import train as train_cli
from pipelines.configs import get_config
from pipelines.data import flickr8k
from tests.pipelines.data.test_flickr8k import NUM_TEST, NUM_VALIDATION, write_toy_flickr8k

NAME = "show_attend_tell_flickr8k"


pytestmark = [pytest.mark.tf_only, pytest.mark.usefixtures("offline_env")]


@pytest.fixture
def toy(tmp_path, monkeypatch):
    folder = write_toy_flickr8k(tmp_path / "flickr8k")
    monkeypatch.setattr(flickr8k, "load_flickr8k", functools.partial(
        flickr8k.load_flickr8k, num_test=NUM_TEST, num_validation=NUM_VALIDATION))
    return folder


@pytest.fixture
def config(monkeypatch):
    from tests.pipelines.toy_entries import toy_preset  # it imports this module

    # A tiny architecture, put in the entry's preset.
    toy_preset(monkeypatch, NAME, image_size=64, embedding_dim=8, units=8, attention_units=4,
               dropout=0.0, attention_regularization=1.0, use_attention=True, max_length=6)
    return dict(get_config(NAME), encoder_weights=None, min_count=1, batch_size=4,
                max_epochs=2, logged_images=1, log_images_every=1)


def _summary_tags(folder):
    tags = set()
    for path in tf.io.gfile.glob(str(folder / "**" / "events.out.tfevents.*")) + \
            tf.io.gfile.glob(str(folder / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {value.tag for value in event.summary.value}
    return tags


def test_train_logs_evaluates_saves_and_loads(toy, config, tmp_path):
    logdir = tmp_path / "logs"
    model, data, builder_kwargs, history = task.train(
        NAME, config, seed=0, logdir=str(logdir), epochs=2, verbose=0, data_dir=toy)
    assert history.epochs_run == 2 and 1 <= history.best_epoch <= 2
    assert len(history.history["val_loss"]) == 2
    assert data.vocabulary[:4] == ["", "[UNK]", "[START]", "[END]"]
    assert data.features["train"].shape[1:] == (4, 256)  # 64 px -> a 2 × 2 grid
    assert data.tokens["train"].shape[1] == model.max_length + 1 == 7
    assert np.all(data.tokens["train"][:, 0] == 2)  # every caption starts with [START]
    tags = _summary_tags(logdir / "captions")
    assert {"attention/image_0", "caption/image_0"} <= tags

    metrics = task.evaluate(model, data, split="test", beam_widths=(1, 2))
    assert set(metrics) == {f"test_bleu{n}_{tag}" for n in range(1, 5) for tag in ("greedy", "beam2")}
    assert all(0 <= v <= 100 for v in metrics.values())

    output = tmp_path / "weights" / NAME
    tasks.save(model, output, NAME)
    loaded = zoo.load(NAME, weights=str(output / zoo.registry.WEIGHTS_FILE), **builder_kwargs)
    assert loaded.vocabulary == model.vocabulary
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    tokens = np.array([[2, 4, 5, 3, 0, 0]] * 2, "int32")
    for key in ("logits", "attention"):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(loaded({"images": images, "tokens": tokens})[key]),
            keras.ops.convert_to_numpy(model({"images": images, "tokens": tokens})[key]))


def test_train_cli_writes_a_card_that_zoo_load_checks(toy, config, tmp_path, monkeypatch):
    monkeypatch.setattr(train_cli, "get_config", lambda name: dict(config))
    metrics = train_cli.main([NAME, "--epochs", "1", "--data-dir", str(toy), "--verbose", "0",
                              "--logdir", str(tmp_path / "logs")])
    card = json.loads((tmp_path / "weights" / NAME / zoo.registry.CARD_FILE).read_text())
    assert card["metrics"] == metrics and "test_bleu4_beam3" in metrics
    assert zoo.load(NAME).encoder.image_size == 64  # the card's kwargs, sha256-checked
    monkeypatch.setattr(evaluate_cli, "get_config", lambda name: dict(config))
    output = tmp_path / "eval.json"
    again = evaluate_cli.main([NAME, "--data-dir", str(toy), "--output", str(output)])
    bleu = {k: v for k, v in metrics.items() if k.startswith("test_bleu")}
    assert again == bleu  # the shipped weights reproduce their card
    assert json.loads(output.read_text())["metrics"] == bleu


def test_static_shape_features_are_those_of_each_image(toy):
    """Full batches (JAX, keras.distribution): the copies that fill the last
    one are cut off, and every image keeps its own features."""
    encoder = zoo.load(NAME, weights=None, vocabulary=["", "[UNK]", "[START]", "[END]", "a"],
                       encoder_weights=None, image_size=64).encoder
    paths = flickr8k.load_flickr8k(str(toy)).image_paths("test")[:3]
    full = task.encode_images(encoder, paths, batch_size=2, static_shapes=True)
    plain = task.encode_images(encoder, paths, batch_size=2)
    assert full.shape == plain.shape and full.shape[0] == 3
    np.testing.assert_allclose(full, plain, atol=1e-5)


def test_several_processes_are_refused_naming_the_reason(toy, config):
    several = types.SimpleNamespace(num_processes=2)  # What a 2-process JAX Runtime reports.
    with pytest.raises(ValueError, match=r"trains on one process.*num_processes=2"):
        task.train(NAME, config, seed=0, data_dir=str(toy), runtime=several)


def test_corpus_bleu_standardises_references_and_matches_sacrebleu():
    hypotheses = ["a dog runs on the grass", "two people walk"]
    references = [["A dog runs on the grass .", "A brown dog is running ."],
                  ["Two people walk down a street .", "People walking ."]]
    scores = task.corpus_bleu(hypotheses, references)
    streams = [["a dog runs on the grass", "two people walk down a street"],
               ["a brown dog is running", "people walking"]]
    for n in range(1, 5):
        expected = BLEU(max_ngram_order=n).corpus_score(hypotheses, streams).score
        assert scores[f"bleu{n}"] == pytest.approx(expected, abs=0.01)
    assert task.corpus_bleu(["a dog"], [["A dog !", "A cat ."]])["bleu1"] == 100.0
    with pytest.raises(ValueError, match="same number of references"):
        task.corpus_bleu(["a", "b"], [["a"], ["b", "c"]])
