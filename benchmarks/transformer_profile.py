"""Where a training step of the transformer encoders spends its time.

    python -m benchmarks.transformer_profile \\
        --output benchmarks/results/transformer_profile.json \\
        [--shape large] [--variants zoo zoo_dense keras_mha] [--steps 3] [--warmup 3]

`benchmarks.transformer_throughput` says how fast each encoder trains and
what fraction of the machine's matmul peak that is; this says why the
fraction is what it is. For each variant (the same models, batch and
compiled train step as the throughput benchmark, TF graph, no XLA) it runs
`--steps` steps under TensorFlow's profiler and sums the time of every op
the executor ran, by kind:

  matmul     MatMul, BatchMatMul and oneDNN's fused versions of them (the
             only ops the FLOP count credits)
  random     the stateless random-number kernels that dropout draws from
  optimizer  the Adam update (ops under the optimizer's name scope)
  other      everything else: elementwise ops, softmax, layer norm,
             reductions, gathers and scatters, transposes

Op times are summed over TensorFlow's inter-op threads, which run
independent ops at the same time, so the total exceeds the wall time; the
shares are of that total. Beside them, with the same machine in the same
run: the float32 SGEMM peak (`transformer_throughput.matmul_peak`), each of
the step's matmul shapes alone, and three ops on a `[B, H, T, T]` tensor
of the attention weights' size: a multiply (memory-bound), a
softmax, and the uniform draw that dropout makes.

The profile is read from the XSpace protobuf the profiler writes
(`tensorflow.tsl.profiler.protobuf.xplane_pb2`, shipped with TensorFlow):
TensorBoard's profile plugin shows the same data but has no API to query.
Writes FILE.json and FILE.md (`benchmarks/report.py`).
"""

import argparse
import collections
import glob
import os
import re
import tempfile
import time

import tensorflow as tf

from benchmarks import report as report_io
from benchmarks import transformer_throughput as throughput

KINDS = ("matmul", "random", "optimizer", "other")
# "<op name>:<op type>", as the executor's trace names each op it runs.
OP_EVENT = re.compile(r"^(?P<name>[^:]+):(?P<type>[_A-Za-z][_A-Za-z0-9]*)$")


def op_kind(name, op_type, optimizer_scope):
    """The kind (see `KINDS`) of an op, from its type and name."""
    if "MatMul" in op_type or "Einsum" in op_type:
        return "matmul"
    if op_type.startswith(("StatelessRandom", "RandomUniform")):
        return "random"
    if f"/{optimizer_scope}/" in f"/{name}":
        return "optimizer"
    return "other"


def op_times(xspace, optimizer_scope):
    """Picoseconds per (kind, op type), summed over the executor's threads
    (the host plane's `tf_Compute` lines) of a parsed XSpace."""
    times = collections.Counter()
    for plane in xspace.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                match = OP_EVENT.match(plane.event_metadata[event.metadata_id].name)
                if match:
                    kind = op_kind(match["name"], match["type"], optimizer_scope)
                    times[(kind, match["type"])] += event.duration_ps
    return times


def read_xspace(logdir):
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb"))
    if len(files) != 1:
        raise RuntimeError(f"expected one profile under {logdir}, found {files}")
    xspace = xplane_pb2.XSpace()
    with open(files[0], "rb") as f:
        xspace.ParseFromString(f.read())
    return xspace


def profile_step(step, steps, optimizer_scope):
    """Wall ms per step and op ms per step by kind and type, over `steps` calls."""
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        for _ in range(steps):
            outputs = step()
        throughput._wait(outputs)
        wall = time.perf_counter() - start
        tf.profiler.experimental.stop()
        times = op_times(read_xspace(logdir), optimizer_scope)
    per_step = {key: ps / steps / 1e9 for key, ps in times.items()}  # ms
    return wall / steps * 1e3, per_step


def summarize(wall_ms, op_ms, flops_per_step, top=12):
    total = sum(op_ms.values())
    if total == 0:
        raise RuntimeError("the profile holds no op of the step: has TensorFlow renamed its trace lines?")
    by_kind = {kind: sum(ms for (k, _), ms in op_ms.items() if k == kind) for kind in KINDS}
    return dict(
        wall_ms_per_step=round(wall_ms, 1),
        gflops=round(flops_per_step / wall_ms / 1e6, 1),
        op_ms_per_step=round(total, 1),
        op_ms_by_kind={kind: round(ms, 3) for kind, ms in by_kind.items()},
        op_share_by_kind={kind: round(ms / total, 4) for kind, ms in by_kind.items()},
        top_op_types=[dict(kind=k, type=t, ms=round(ms, 2))
                      for (k, t), ms in sorted(op_ms.items(), key=lambda kv: -kv[1])[:top]],
    )


def profile_variants(variants, shape, steps, warmup):
    tokens, labels = throughput.synthetic_batch(shape)
    results = {}
    for variant in variants:
        model = throughput.build_model(variant, shape, tokens, jit_compile=False)
        step = throughput.train_step(model, tokens, labels)
        for _ in range(warmup):
            throughput._wait(step())
        wall_ms, op_ms = profile_step(step, steps, model.optimizer.name)
        flops = 3 * throughput.executed_forward_flops(variant, shape, tokens, jit_compile=False)
        results[variant] = summarize(wall_ms, op_ms, flops)
        print(f"{variant}: {wall_ms:.0f} ms/step, op time by kind "
              f"{results[variant]['op_share_by_kind']}", flush=True)
    return results


def _best_seconds(fn, calls=10, runs=5):
    """Seconds per call of `fn`: the best of `runs` timings of `calls` calls."""
    return min(throughput.time_steps(fn, steps=calls, warmup=1, repeats=runs)) / calls


def gemm_rates(shape, calls=10, runs=5):
    """GFLOP/s of each matmul of a block's forward pass alone, best of `runs`
    timings of `calls` calls: [M, K] · [K, N], and the scores Q Kᵀ per head."""
    def gflops(flops, seconds):
        return round(flops * calls / min(seconds) / 1e9, 1)

    rows, d, ff = shape["batch"] * shape["length"], shape["dim"], shape["ff_dim"]
    rates = {}
    for name, (m, k, n) in {"qkv": (rows, d, 3 * d), "output": (rows, d, d),
                            "ff_hidden": (rows, d, ff), "ff_output": (rows, ff, d)}.items():
        seconds = throughput.matmul_seconds((m, k), (k, n), calls, runs)
        rates[name] = dict(m=m, k=k, n=n, gflops=gflops(2 * m * k * n, seconds))
    batch, length, head_dim = shape["batch"] * shape["heads"], shape["length"], d // shape["heads"]
    q = (batch, length, head_dim)  # [B·H, T, d/H], and K the same
    seconds = throughput.matmul_seconds(q, q, calls, runs, transpose_b=True)
    rates["scores"] = dict(batch=batch, m=length, k=head_dim, n=length,
                           gflops=gflops(2 * batch * length * head_dim * length, seconds))
    return rates


def elementwise_rates(shape):
    """ms, GB/s moved and ns per element of three ops on `[B, H, T, T]` floats."""
    size = (shape["batch"], shape["heads"], shape["length"], shape["length"])
    elements = shape["batch"] * shape["heads"] * shape["length"] ** 2
    a = tf.random.stateless_uniform(size, seed=(0, 0))
    b = tf.random.stateless_uniform(size, seed=(0, 1))
    ops = {  # name: (function, bytes read + written)
        "multiply": (lambda: a * b, 12 * elements),
        "softmax": (lambda: tf.nn.softmax(a), 8 * elements),
        "uniform_draw": (lambda: tf.random.stateless_uniform(size, seed=(1, 2)), 4 * elements),
    }
    rates = {}
    for name, (fn, moved) in ops.items():
        seconds = _best_seconds(tf.function(fn))
        rates[name] = dict(ms=round(seconds * 1e3, 2), gb_per_s=round(moved / seconds / 1e9, 1),
                           ns_per_element=round(seconds / elements * 1e9, 3))
    return dict(shape=list(size), ops=rates)


def markdown(report):
    s = report["shape"]
    peak = report["matmul_peak"]["gflops"]
    lines = [
        "# Where a transformer encoder's training step spends its time",
        "",
        f"{report['date']}, {report['machine']}, tensorflow {report['versions']['tensorflow']}, "
        f"keras {report['versions']['keras']}. Command: `{report['command']}`",
        "",
        f"Shape `{report['shape_name']}`: batch {s['batch']}, length {s['length']}, d {s['dim']}, "
        f"{s['heads']} heads, ff {s['ff_dim']}, {s['layers']} layers; TF graph (no XLA), dropout "
        f"{throughput.DROPOUT}, {report['steps']} profiled steps after {report['warmup']} warm-up "
        f"steps. Op time is summed over TensorFlow's inter-op threads (they overlap), so it exceeds "
        f"the wall time.",
        "",
        "| variant | wall ms/step (profiled) | GFLOP/s (% of peak) | op ms/step | "
        + " | ".join(f"{kind} % of op time" for kind in KINDS) + " |",
        "|---|---|---|---|" + "---|" * len(KINDS),
    ]
    for variant, r in report["results"].items():
        shares = " | ".join(f"{100 * r['op_share_by_kind'][k]:.1f}" for k in KINDS)
        lines.append(f"| {variant} | {r['wall_ms_per_step']:.0f} | {r['gflops']:.0f} "
                     f"({100 * r['gflops'] / peak:.1f}) | {r['op_ms_per_step']:.0f} | {shares} |")
    lines += ["", f"float32 SGEMM peak (tf.matmul {report['matmul_peak']['size']}², best of "
                  f"{report['matmul_peak']['runs']}): **{peak:.1f} GFLOP/s**. The step's matmuls alone:", "",
              "| matmul | shape | GFLOP/s | % of peak |", "|---|---|---|---|"]
    for name, g in report["gemm"].items():
        dims = f"{g['m']}×{g['k']} · {g['k']}×{g['n']}" + (f", batch {g['batch']}" if "batch" in g else "")
        lines.append(f"| {name} | {dims} | {g['gflops']:.0f} | {100 * g['gflops'] / peak:.1f} |")
    e = report["elementwise"]
    lines += ["", f"Ops on a `{e['shape']}` float32 tensor (the attention weights' size):", "",
              "| op | ms | GB/s moved | ns per element |", "|---|---|---|---|"]
    for name, r in e["ops"].items():
        lines.append(f"| {name} | {r['ms']:.2f} | {r['gb_per_s']:.1f} | {r['ns_per_element']:.3f} |")
    for variant, r in report["results"].items():
        lines += ["", f"Top op types, {variant} (ms per step):", "",
                  ", ".join(f"{t['type']} ({t['kind']}) {t['ms']:.1f}" for t in r["top_op_types"])]
    lines.append("")
    return "\n".join(lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="FILE.json (FILE.md is written too)")
    parser.add_argument("--shape", default="large", choices=throughput.SHAPES)
    parser.add_argument("--variants", nargs="+", default=["zoo", "zoo_dense", "keras_mha"],
                        choices=throughput.VARIANTS)
    parser.add_argument("--steps", type=int, default=3, help="profiled steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    args = parser.parse_args(argv)
    if min(args.steps, args.warmup) < 1:
        parser.error(f"--steps and --warmup must be >= 1, got {args.steps} and {args.warmup}")
    return args


def main(argv=None):
    args = parse_args(argv)
    shape = throughput.SHAPES[args.shape]
    results = profile_variants(args.variants, shape, args.steps, args.warmup)
    report = dict(
        benchmark="transformer_profile",
        **report_io.metadata("benchmarks.transformer_profile", argv),
        versions=report_io.versions(),
        shape_name=args.shape, shape=shape, steps=args.steps, warmup=args.warmup,
        kinds=KINDS,
        matmul_peak=throughput.matmul_peak(),
        gemm=gemm_rates(shape),
        elementwise=elementwise_rates(shape),
        results=results,
    )
    text = markdown(report)
    report_io.write(args.output, report, text)
    print(text)


if __name__ == "__main__":
    main()
