"""The transformer throughput harness on a tiny shape (zoo and keras_mha, no XLA)."""

import pytest

from benchmarks import transformer_throughput as bench

pytestmark = pytest.mark.tf_only  # tf.data and tf.function

TINY = dict(batch=2, length=8, dim=16, heads=2, ff_dim=32, layers=1)
VOCABULARY = 50


def test_synthetic_batch_pads_after_random_lengths():
    tokens, labels = bench.synthetic_batch(dict(TINY, batch=64), VOCABULARY)
    lengths = (tokens != 0).sum(axis=1)
    assert lengths.min() >= TINY["length"] // 4 and lengths.max() <= TINY["length"]
    # Padding only at the end: every real token comes before every pad.
    assert ((tokens != 0) == (range(TINY["length"]) < lengths[:, None])).all()
    assert set(labels) <= {0, 1}


def test_zoo_and_keras_mha_measure_with_equal_parameter_counts():
    results = bench.measure_variants(("zoo", "keras_mha"), TINY, jit_compile=False, steps=2,
                                     warmup=1, repeats=2, vocabulary=VOCABULARY)
    assert results["zoo"]["parameters"] == results["keras_mha"]["parameters"] \
        == bench.expected_parameters(TINY, VOCABULARY)
    for result in results.values():
        for mode in ("train", "predict"):
            assert result[mode]["tokens_per_second"] > 0
            assert len(result[mode]["seconds"]) == 2
