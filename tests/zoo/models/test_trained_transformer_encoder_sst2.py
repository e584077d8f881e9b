"""The shipped transformer_encoder_sst2 weights on the real SST-2 (slow:
needs ZOO_DATA_DIR)."""

import os

import pytest

import zoo

pytestmark = [pytest.mark.slow, pytest.mark.tf_only]
NAME = "transformer_encoder_sst2"
# A regression floor. The target, 83.0, is not reached yet (about
# 82.5 over seeds; see pipelines/configs/transformer_encoder_sst2.py).
TARGET = 82.0


def test_shipped_classifier_matches_its_card_and_the_target():
    if not os.environ.get("ZOO_DATA_DIR"):
        pytest.skip("set ZOO_DATA_DIR (e.g. ../shared/data) to run the real-data tests")
    from pipelines import evaluate

    metrics = evaluate.main([NAME])  # the README's evaluation command
    card = zoo.info(NAME)["metrics"]
    for key, value in metrics.items():
        assert value == pytest.approx(card[key], abs=0.06), key
    assert metrics["test_accuracy"] >= TARGET, metrics


def test_shipped_classifier_reads_raw_text():
    model = zoo.load(NAME)
    result = model.classify(["a gorgeous , witty , seductive movie .",
                             "the plot is nothing but boilerplate clichés from start to finish ."])
    assert result["labels"] == ["positive", "negative"]
