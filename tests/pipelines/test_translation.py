"""The translation pipeline on a toy pair file: batches, train, log,
evaluate, save, load, and the CLI for the user's own pairs."""

import json

import h5py
import numpy as np
import pytest

import zoo
from pipelines import evaluate as evaluate_cli
from pipelines import tasks
from pipelines import train as train_cli
from pipelines import translation as task
from pipelines.configs import get_config
from pipelines.data import tatoeba
from tests.pipelines.test_captioning import _summary_tags

NAME = "seq2seq_attn_spa_eng"
ASSETS = zoo.info(NAME)["assets"]  # builder kwarg -> file name

pytestmark = [pytest.mark.tf_only, pytest.mark.usefixtures("offline_env")]

# A word-for-word language: the target is the source read through this
# dictionary, so attention can align position to position.
WORDS = {"uno": "one", "dos": "two", "tres": "three", "cuatro": "four", "cinco": "five",
         "rojo": "red", "verde": "green", "azul": "blue"}


def write_toy_pairs(path, count=600, seed=0):
    """`count` lines of "english<TAB>spanish" (the Tatoeba layout)."""
    rng = np.random.default_rng(seed)
    spanish = list(WORDS)
    lines = []
    for _ in range(count):
        words = list(rng.choice(spanish, rng.integers(1, 6)))
        lines.append(" ".join(WORDS[w] for w in words).capitalize() + ".\t"
                     + " ".join(words).capitalize() + ".")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def pairs_file(tmp_path):
    return write_toy_pairs(tmp_path / "pairs.txt")


@pytest.fixture
def config(pairs_file, monkeypatch):
    from tests.pipelines.toy_entries import toy_preset  # it imports this module

    # A tiny architecture, put in the entry's preset.
    toy_preset(monkeypatch, NAME, embedding_dim=16, units=32, cell="gru", score="additive",
               use_attention=True, dropout=0.0, max_source_length=8, max_target_length=8)
    return dict(get_config(NAME), pairs_file=pairs_file, dataset="pairs", batch_size=16,
                learning_rate=1e-2, max_epochs=12, patience=12, logged_sentences=2)


def _model(config, data):
    return zoo.load(NAME, weights=None,
                    source_vocabulary=task.build_vocabulary(data.sources["train"]),
                    target_vocabulary=task.build_vocabulary(data.targets["train"],
                                                            add_start_end=True))


def test_vocabularies_hold_the_standardised_training_words(config):
    data = task.load_data(config)
    source = task.build_vocabulary(data.sources["train"])
    target = task.build_vocabulary(data.targets["train"], add_start_end=True)
    assert source[:2] == ["", "[UNK]"] and set(source[2:]) == set(WORDS) | {"."}
    assert target[2:4] == ["[START]", "[END]"]  # the most frequent tokens
    assert set(target[4:]) == set(WORDS.values()) | {"."}
    assert len(task.build_vocabulary(data.sources["train"], max_tokens=5)) == 5


def test_batches_are_bucketed_static_and_teacher_forced(config):
    data = task.load_data(config)
    model = _model(config, data)
    shapes = set()
    for inputs, labels, weights in task.batches(model, data.sources["train"],
                                                data.targets["train"], 16, shuffle=True):
        source, target = inputs["source_tokens"].numpy(), inputs["target_tokens"].numpy()
        shapes.add((source.shape, target.shape))
        assert source.shape[0] == 16  # drop_remainder: one static batch size
        assert source.shape[1] == target.shape[1] + 1  # padded to the bucket: boundary - 1
        np.testing.assert_array_equal(target[:, 0], model.start_id)
        np.testing.assert_array_equal(target[:, 1:], labels.numpy()[:, :-1])  # shifted by one
        np.testing.assert_array_equal(weights.numpy(), labels.numpy() != 0)
        assert np.all(np.sum(labels.numpy() == model.end_id, axis=1) == 1)
    assert {s[0][1] for s in shapes} == {7, 9}  # buckets below 8 and below max length + 2


def test_static_shape_evaluation_batches_are_full_and_weigh_the_fill_zero(config):
    """Under static shapes (JAX) evaluation batches have one shape too; the
    pairs copied in to fill the last one weigh 0 at every token."""
    data = task.load_data(config)
    model = _model(config, data)
    sources, targets = data.sources["train"][:21], data.targets["train"][:21]
    batches = list(task.batches(model, sources, targets, 8, static_shapes=True))
    longest = max(model.max_source_length, model.max_target_length + 1)
    assert [tuple(i["source_tokens"].shape) for i, _, _ in batches] == [(8, longest)] * 3
    weights = np.concatenate([w.numpy() for _, _, w in batches])  # [24, m]
    labels = np.concatenate([y.numpy() for _, y, _ in batches])
    np.testing.assert_array_equal(weights[:21], labels[:21] != 0)
    assert not weights[21:].any()


def test_train_learns_logs_saves_and_loads(config, tmp_path):
    logdir = tmp_path / "logs"
    model, data, builder_kwargs, history = task.train(NAME, config, seed=0, logdir=str(logdir),
                                                      verbose=0)
    metrics = task.evaluate(model, data, beam_widths=(1, 2))
    assert set(metrics) == {"test_bleu_greedy", "test_chrf_greedy", "test_bleu_beam2",
                            "test_chrf_beam2"}
    assert metrics["test_bleu_greedy"] >= 80.0, metrics  # a dictionary language
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    assert 1 <= history.best_epoch <= history.epochs_run
    assert {"alignment/sentence_0", "alignment/sentence_1"} <= _summary_tags(logdir / "alignments")
    _, alignments = model.translate(["Uno dos tres."], return_attention=True)
    diagonal = np.argmax(alignments[0]["attention"][:3], axis=1)
    np.testing.assert_array_equal(diagonal, [0, 1, 2])  # each word looks at its source word

    output = tmp_path / "weights" / NAME
    tasks.save(model, output, NAME)
    with h5py.File(output / zoo.registry.WEIGHTS_FILE) as f:
        assert "optimizer" not in f  # inference weights only
    loaded = zoo.load(NAME, weights=str(output / zoo.registry.WEIGHTS_FILE),
                      source_vocabulary=str(output / ASSETS["source_vocabulary"]),
                      target_vocabulary=str(output / ASSETS["target_vocabulary"]),
                      **builder_kwargs)
    assert loaded.target_vocabulary == model.target_vocabulary
    texts = ["Cinco rojo.", "Azul azul verde dos."]
    assert loaded.translate(texts, beam_width=2) == model.translate(texts, beam_width=2)


def test_train_cli_on_a_pairs_file_and_evaluate_reproduces_the_card(config, pairs_file,
                                                                    tmp_path, monkeypatch):
    """The entry's own dataset (Tatoeba, here a toy stand-in) goes to the
    registry's weights folder and `pipelines.evaluate` reproduces the card;
    --pairs trains on a file of the user's."""
    toy = tatoeba.load_pairs_file(pairs_file)
    monkeypatch.setattr(tatoeba, "load_tatoeba_spa_eng", lambda data_dir=None: toy)
    entry_config = dict(config, pairs_file=None, dataset="tatoeba_spa_eng", max_epochs=2)
    for cli in (train_cli, evaluate_cli):
        monkeypatch.setattr(cli, "get_config", lambda name: dict(entry_config) if name == NAME
                            else get_config(name))
    metrics = train_cli.main([NAME, "--verbose", "0", "--logdir", str(tmp_path / "logs")])
    assert zoo.load(NAME).translate(["Uno."])  # assets and sha256-checked weights
    again = evaluate_cli.main([NAME, "--output", str(tmp_path / "eval.json")])
    assert again == {k: v for k, v in metrics.items() if k.startswith("test_")}

    output = tmp_path / "mine"
    mine = train_cli.main([NAME, "--pairs", pairs_file, "--epochs", "1", "--verbose", "0",
                           "--output-dir", str(output), "--logdir", str(tmp_path / "logs2")])
    card = json.loads((output / zoo.registry.CARD_FILE).read_text())
    assert card["metrics"] == mine and card["dataset"] == "pairs"
    assert (output / ASSETS["source_vocabulary"]).is_file()
    with pytest.raises(SystemExit, match="translation"):
        train_cli.main(["gat_cora", "--pairs", pairs_file])
