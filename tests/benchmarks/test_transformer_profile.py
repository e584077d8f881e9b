"""The training-step profile on a tiny shape: every op of the step is found
and sorted into matmul, random, optimizer and other."""

import json

import pytest

from benchmarks import transformer_profile as profile
from benchmarks import transformer_throughput as throughput

pytestmark = pytest.mark.tf_only  # the TensorFlow profiler

TINY = throughput.SHAPES["tiny"]


@pytest.mark.parametrize("name, op_type, kind", [
    ("model/block/qkv/MatMul", "_MklNativeFusedMatMul", "matmul"),
    ("gradient_tape/model/block/MatMul_1", "_MklBatchMatMulV2", "matmul"),
    ("model/block/stateless_random_uniform/StatelessRandomUniformV2", "StatelessRandomUniformV2", "random"),
    ("adam/Sub_4", "Sub", "optimizer"),
    ("StatefulPartitionedCall/adam/Mul", "Mul", "optimizer"),
    ("model/block/ff_norm/Mul", "Mul", "other"),
    ("model/adamant/Mul", "Mul", "other"),  # a scope that only starts with the optimizer's name
])
def test_op_kind(name, op_type, kind):
    assert profile.op_kind(name, op_type, "adam") == kind


def test_profile_finds_every_kind_of_op_in_a_training_step():
    results = profile.profile_variants(["zoo"], TINY, steps=2, warmup=1)
    r = results["zoo"]
    assert r["wall_ms_per_step"] > 0
    # Dropout (0.1) draws random numbers, Adam updates, the blocks multiply.
    assert all(r["op_ms_by_kind"][kind] > 0 for kind in profile.KINDS), r["op_ms_by_kind"]
    assert sum(r["op_share_by_kind"].values()) == pytest.approx(1.0, abs=1e-3)
    assert r["op_ms_per_step"] == pytest.approx(sum(r["op_ms_by_kind"].values()), abs=0.5)
    assert {t["kind"] for t in r["top_op_types"]} <= set(profile.KINDS)


def test_main_writes_json_and_markdown(tmp_path):
    output = tmp_path / "profile.json"
    profile.main(["--shape", "tiny", "--variants", "zoo", "--steps", "1", "--warmup", "1",
                  "--output", str(output)])
    report = json.loads(output.read_text())
    assert set(report["results"]) == {"zoo"} and set(report["gemm"]) == {"qkv", "output", "ff_hidden",
                                                                          "ff_output", "scores"}
    assert report["matmul_peak"]["gflops"] > 0
    text = (tmp_path / "profile.md").read_text()
    assert "| zoo |" in text and "uniform_draw" in text and report["command"] in text


def test_an_empty_profile_is_an_error_not_a_zero():
    with pytest.raises(RuntimeError, match="no op"):
        profile.summarize(1.0, {}, flops_per_step=1)


def test_steps_must_be_positive():
    with pytest.raises(SystemExit):
        profile.parse_args(["--output", "x.json", "--steps", "0"])
