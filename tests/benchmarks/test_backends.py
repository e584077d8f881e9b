"""The backends benchmark's bookkeeping (`benchmarks.backends`): which
processes it runs per variant, how it summarises their speeds, and its
report; the measurements themselves are fresh training processes."""

import pytest

from benchmarks import backends as bench


def _fake_measurements(monkeypatch, speed):
    """Replaces the training processes by records of what was asked."""
    calls = []

    def measure(name, variant, budget, evaluate):
        calls.append((variant, budget, evaluate))
        result = dict(backend=bench.VARIANTS[variant][0])
        if "epochs" in budget and bench.BUDGETS[name]["unit"] == "ms/epoch" or "steps" in budget:
            result[bench.speed_key(bench.BUDGETS[name]["unit"])] = speed[variant] + len(calls)
        if evaluate:
            result["metrics"] = {"test_accuracy": 80.0}
        return result

    monkeypatch.setattr(bench, "_measure_in_process", measure)
    return calls


def test_a_metric_run_of_the_same_unit_counts_as_a_timing_run(monkeypatch):
    calls = _fake_measurements(monkeypatch, {"tensorflow": 20, "jax": 60, "jax_data_parallel_2": 70})
    entry = bench.run_entry("gat_cora", repeats=3)
    assert len(calls) == 9  # per variant: the metric run and two timing runs
    assert [evaluate for _, _, evaluate in calls[:3]] == [True, False, False]
    tf_ = entry["variants"]["tensorflow"]
    assert (tf_["best"], tf_["median"], tf_["processes"]) == (21, 22, 3)  # ms: lowest is best
    assert tf_["metrics"] == {"test_accuracy": 80.0}
    assert entry["jax_vs_tensorflow"] == pytest.approx(22 / 65, abs=1e-3)  # < 1: JAX slower


def test_a_metric_run_of_another_unit_adds_timing_runs(monkeypatch):
    calls = _fake_measurements(monkeypatch, {"tensorflow": 7000, "jax": 5000,
                                             "jax_data_parallel_2": 4000})
    entry = bench.run_entry("transformer_encoder_sst2", repeats=2)
    assert len(calls) == 9  # per variant: the 1-epoch metric run, then two 300-step runs
    assert calls[0][1] == {"epochs": 1} and calls[1][1] == {"steps": 300}
    tf_ = entry["variants"]["tensorflow"]
    assert tf_["processes"] == 2 and tf_["best"] == 7003  # tokens/s: highest is best


def test_the_report_has_every_entry_the_ratios_and_the_gat_target(monkeypatch):
    _fake_measurements(monkeypatch, {"tensorflow": 20, "jax": 60, "jax_data_parallel_2": 70})
    report = dict(date="today", machine="here", command="python -m benchmarks.backends",
                  repeats=3, entries={"gat_cora": bench.run_entry("gat_cora", repeats=3)})
    text = bench.markdown(report)
    assert "| gat_cora | ms/epoch |" in text and "0.34" in text
    assert "gat_cora on JAX >= 83.0 Cora test accuracy with one seed: **80.0** (NOT met)" in text
