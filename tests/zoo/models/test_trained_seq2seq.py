"""The shipped seq2seq translators on the real Tatoeba test split (slow:
needs ZOO_DATA_DIR)."""

import os

import pytest

import zoo

pytestmark = [pytest.mark.slow, pytest.mark.tf_only]


@pytest.mark.parametrize("name", ["seq2seq_attn_spa_eng", "seq2seq_spa_eng"])
def test_shipped_translator_matches_its_card(name):
    if not os.environ.get("ZOO_DATA_DIR"):
        pytest.skip("set ZOO_DATA_DIR (e.g. ../shared/data) to run the real-data tests")
    from pipelines import evaluate

    metrics = evaluate.main([name])  # the README's evaluation command
    card = zoo.info(name)["metrics"]
    for key, value in metrics.items():
        assert value == pytest.approx(card[key], abs=0.06), key


def test_attention_beats_no_attention():
    with_attention = zoo.info("seq2seq_attn_spa_eng")["metrics"]
    without = zoo.info("seq2seq_spa_eng")["metrics"]
    assert with_attention["test_bleu_beam4"] > without["test_bleu_beam4"] + 5.0


def test_shipped_translator_translates_raw_text():
    model = zoo.load("seq2seq_attn_spa_eng")
    translations, alignments = model.translate(["¿Dónde está el baño?", ""], return_attention=True)
    assert "where" in translations[0].lower() and translations[1] == ""
    assert alignments[0]["source"][:2] == ["¿", "dónde"]
