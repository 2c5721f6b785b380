"""Profile one keras_electra (or transformers) step: top ops by time.

Run by hand, never by CI. Builds exactly what `speed_worker.py` times
(same model sizes, batch and workloads), runs the warm-up steps, then
profiles `--steps` steps with the backend's own profiler and prints the
ops that took the most time:

- TensorFlow and JAX: `tf.profiler` / `jax.profiler` traces (XPlane), read
  with TensorFlow's `xplane_pb2`; events of the host's op lines, summed by
  name (TF: executor ops; JAX: XLA thunks / fusions).
- PyTorch (ours and transformers): `torch.profiler`, self CPU time.

    KERAS_BACKEND=jax python benchmarks/profile_step.py --size small \\
        --workload pretrain
    python benchmarks/profile_step.py --contender transformers \\
        --size small --workload inference

It also prints the step's user/system CPU time and minor page faults, so
that "where does the time go" includes the kernel.
"""

import argparse
import collections
import glob
import json
import os
import tempfile

# Its siblings, beside it on `sys.path` as for any script run by path.
import speed  # the driver: model sizes
import speed_worker  # the worker: model and step setup


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--contender", choices=["keras", "transformers"],
                   default="keras")
    p.add_argument("--size", default="small", choices=["tiny", "small", "base"])
    p.add_argument("--workload", default="pretrain",
                   choices=["inference", "finetune", "pretrain"])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--jit", choices=["auto", "true"], default="auto")
    p.add_argument("--quantize", choices=["int8"], default=None,
                   help="keras inference: profile the int8 backbone")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--trace-dir", default=None,
                   help="keep the trace here (default: a temporary folder)")
    return p.parse_args(argv)


def worker_args(args, model):
    argv = [
        "--contender", args.contender, "--workload", args.workload,
        "--model", json.dumps(model), "--batch-size", str(args.batch_size),
        "--seq-len", str(args.seq_len), "--jit", args.jit, "--out", os.devnull,
    ] + (["--quantize", args.quantize] if args.quantize else [])
    return speed_worker.parse_args(argv)


def xplane_top(trace_dir, top, steps):
    """Sum the host's op events of an XPlane trace by name."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    paths = glob.glob(os.path.join(trace_dir, "**", "*.xplane.pb"),
                      recursive=True)
    if not paths:
        raise SystemExit(f"no .xplane.pb under {trace_dir}")
    space = xplane_pb2.XSpace()
    with open(max(paths, key=os.path.getmtime), "rb") as f:
        space.ParseFromString(f.read())
    totals = collections.defaultdict(lambda: [0, 0.0])
    lines_seen = collections.Counter()
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            lines_seen[line.name] += len(line.events)
            # TF: "TensorFlow Ops" is absent on CPU; ops sit on the
            # executor threads. JAX: XLA thunks on "tf_XLA..." threads.
            for event in line.events:
                name = names.get(event.metadata_id, "?")
                entry = totals[(line.name.split("/")[0][:24], name)]
                entry[0] += 1
                entry[1] += event.duration_ps / 1e9  # ms
    print("trace lines (events):", dict(lines_seen.most_common(8)))
    rows = sorted(totals.items(), key=lambda kv: -kv[1][1])[:top]
    print(f"{'thread':16} {'event (last 80 characters of its name)':80} "
          f"{'count':>6} {'ms/step':>8}")
    for (thread, name), (count, ms) in rows:
        print(f"{thread[:16]:16} {name[-80:]:80} {count // steps:6d} "
              f"{ms / steps:8.1f}")
    # TensorFlow's executor ops are named "<node>:<OpType>": summed by type.
    by_type = collections.defaultdict(lambda: [0, 0.0])
    for (thread, name), (count, ms) in totals.items():
        if (thread.startswith("tf_Compute") and ":" in name
                and not name.startswith("ExecutorState")):
            entry = by_type[name.rsplit(":", 1)[1]]
            entry[0] += count
            entry[1] += ms
    if by_type:
        print(f"\n{'TensorFlow op type':40} {'count':>6} {'ms/step':>8}")
        for op, (count, ms) in sorted(by_type.items(),
                                      key=lambda kv: -kv[1][1])[:top]:
            print(f"{op:40} {count // steps:6d} {ms / steps:8.1f}")


def main(argv=None):
    args = parse_args(argv)
    sizes, _ = speed.model_sizes()
    model = sizes[args.size]
    wargs = worker_args(args, model)
    batch = speed_worker.make_batch(model, args.batch_size, args.seq_len, 0)
    if args.contender == "transformers":
        step, info = speed_worker.hf_setup(wargs, model, batch)
        backend = "torch"
    else:
        step, info = speed_worker.keras_setup(wargs, model, batch)
        backend = info["backend"]
    print(info.get("mode"), info.get("quantize") or "float32",
          f"{args.size} {args.workload} "
          f"{args.batch_size}x{args.seq_len} ({backend})")
    # The worker's own timing: first call, warm-up, then the timed steps.
    m = speed_worker.measure(step, args.steps, args.warmup)
    cpu = m["user_s"] + m["system_s"]
    print(
        f"first call: {m['first_call_s']:.2f} s; per step: median wall "
        f"{m['median_s']:.3f} s, user {m['user_s'] / args.steps:.3f} s, "
        f"system {m['system_s'] / args.steps:.3f} s "
        f"({100 * m['system_s'] / max(cpu, 1e-9):.0f}% of CPU time), "
        f"{m['minor_faults_per_step']:,.0f} minor page faults"
    )

    trace_dir = args.trace_dir or tempfile.mkdtemp(prefix="profile_")
    if backend == "torch":
        import torch

        with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]
        ) as prof:
            for _ in range(args.steps):
                step()
        print(prof.key_averages().table(
            sort_by="self_cpu_time_total", row_limit=args.top))
        return
    if backend == "jax":
        import jax

        with jax.profiler.trace(trace_dir):
            for _ in range(args.steps):
                step()
    else:
        import tensorflow as tf

        tf.profiler.experimental.start(trace_dir)
        for _ in range(args.steps):
            step()
        tf.profiler.experimental.stop()
    xplane_top(trace_dir, args.top, args.steps)


if __name__ == "__main__":
    main()
