"""The shipped show_attend_tell_flickr8k weights on the real Flickr8k subset
(slow: needs ZOO_DATA_DIR)."""

import os

import pytest

import zoo

pytestmark = [pytest.mark.slow, pytest.mark.tf_only]
NAME = "show_attend_tell_flickr8k"


def test_shipped_captioner_matches_its_card_and_beats_chance():
    if not os.environ.get("ZOO_DATA_DIR"):
        pytest.skip("set ZOO_DATA_DIR (e.g. ../shared/data) to run the real-data tests")
    from pipelines import evaluate

    metrics = evaluate.main([NAME])  # the README's evaluation command
    card = zoo.info(NAME)["metrics"]
    for key, value in metrics.items():
        assert value == pytest.approx(card[key], abs=0.3), key
    # Far above what a model that ignores the image could reach on BLEU-4.
    assert metrics["test_bleu4_beam3"] >= 8.0, metrics
