"""The shipped gat_cora weights, on the real Cora (slow: needs ZOO_DATA_DIR)."""

import os

import pytest

import zoo

pytestmark = [pytest.mark.slow, pytest.mark.tf_only]


@pytest.fixture(scope="module")
def cora():
    if not os.environ.get("ZOO_DATA_DIR"):
        pytest.skip("set ZOO_DATA_DIR (e.g. ../shared/data) to run the real-data tests")
    from pipelines.data.planetoid import load_planetoid

    return load_planetoid("cora")


def test_shipped_weights_reach_the_target_and_match_their_card(cora):
    from pipelines import node_classification as task

    metrics = task.evaluate(zoo.load("gat_cora"), cora)
    card = zoo.info("gat_cora")["metrics"]
    assert metrics["test_accuracy"] >= 83.0, metrics
    for key in ("train_accuracy", "val_accuracy", "test_accuracy"):
        assert metrics[key] == pytest.approx(card[key], abs=0.1), key
