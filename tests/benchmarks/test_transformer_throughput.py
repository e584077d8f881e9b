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
    results = bench.measure_variants(("zoo", "zoo_dense", "keras_mha"), TINY, jit_compile=False, steps=2,
                                     warmup=1, repeats=2, vocabulary=VOCABULARY)
    assert results["zoo"]["parameters"] == results["zoo_dense"]["parameters"] == results["keras_mha"]["parameters"] \
        == bench.expected_parameters(TINY, VOCABULARY)
    for result in results.values():
        for mode in ("train", "predict"):
            assert result[mode]["tokens_per_second"] > 0
            assert len(result[mode]["seconds"]) == 2


def test_executed_flops_count_only_the_tokens_zoo_projects():
    tokens, _ = bench.synthetic_batch(TINY, VOCABULARY)
    real = int((tokens != 0).sum())
    assert real < TINY["batch"] * TINY["length"]  # some padding
    full = bench.forward_flops(TINY)
    assert bench.executed_forward_flops("zoo_dense", TINY, tokens, jit_compile=False) == full
    assert bench.executed_forward_flops("zoo", TINY, tokens, jit_compile=True) == full
    skipped = bench.executed_forward_flops("zoo", TINY, tokens, jit_compile=False)
    d, ff = TINY["dim"], TINY["ff_dim"]
    assert full - skipped == TINY["layers"] * 2 * (TINY["batch"] * TINY["length"] - real) * (4 * d * d + 2 * d * ff)


def test_ratios_pair_both_zoo_variants_with_each_baseline():
    result = {mode: {"tokens_per_second": 10.0} for mode in ("train", "predict")}
    fast = {mode: {"tokens_per_second": 20.0} for mode in ("train", "predict")}
    ratios = bench.ratios({"tiny": {"xla_off": {"zoo": fast, "zoo_dense": result, "keras_mha": result}}})
    assert ratios["tiny"]["xla_off"] == {"zoo/keras_mha": {"train": 2.0, "predict": 2.0},
                                         "zoo_dense/keras_mha": {"train": 1.0, "predict": 1.0}}


def test_variants_default_to_those_that_import_here(monkeypatch):
    hub_installed = []
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: object() if hub_installed else None)
    assert bench.parse_args(["--output", "x.json"]).only == ["zoo", "zoo_dense", "keras_mha"]
    hub_installed.append(True)  # the benchmark's venv: keras_hub is timed in this process too
    assert bench.parse_args(["--output", "x.json"]).only == list(bench.VARIANTS)
    # --keras-hub-python moves keras_hub to that venv's subprocess.
    args = bench.parse_args(["--output", "x.json", "--keras-hub-python", "py"])
    assert args.only == ["zoo", "zoo_dense", "keras_mha"]
    with pytest.raises(SystemExit):
        bench.parse_args(["--output", "x.json", "--keras-hub-python", "py", "--only", "keras_hub"])
