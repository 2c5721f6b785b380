"""Where the memory goes: resident memory of one workload, stage by stage.

Run by hand, never by CI. Each contender runs in a fresh process of its own
(this script with `--worker`), builds exactly what `speed_worker.py` times
(same model sizes, batch and workloads), and reads its own
`/proc/self/status` after each stage:

1. the interpreter alone;
2. the imports (transformers: torch + transformers; ours: the backend,
   Keras and keras_electra, which brings TensorFlow and TF Text on every
   backend for its tokenizer);
3. the model built (and compiled, for training);
4. the first step, then `--steps` more.

Per stage: `VmRSS` (resident now), `RssAnon` (private memory: tensors,
heaps), `RssFile` (pages of the shared libraries and files mapped, shared
between processes and dropped by the kernel under pressure) and `VmHWM`
(the peak so far, what `speed.py` reports as peak RSS).

    python benchmarks/memory.py --size base --workload pretrain \\
        --contenders transformers,keras-tensorflow,keras-jax
    python benchmarks/memory.py --size small --workload inference
    # The same without dropout, in both libraries:
    python benchmarks/memory.py --size base --workload pretrain --dropout 0

Results and their reading: `benchmarks/RESULTS.md`, "Memory".
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

# Its siblings, beside it on `sys.path` as for any script run by path.
import speed  # the driver: model sizes
import speed_worker  # the worker: model and step setup

CONTENDERS = ("transformers", "keras-tensorflow", "keras-jax", "keras-torch")
FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def status_mib():
    """This process's `FIELDS` from `/proc/self/status`, in MiB."""
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in FIELDS:
                values[name] = int(rest.split()[0]) / 1024
    return values


def worker(args):
    stages = []

    def mark(name):
        stages.append({"stage": name, **status_mib()})

    mark("interpreter")
    model = dict(speed.model_sizes()[0][args.size])
    if args.dropout is not None:
        model["dropout"] = args.dropout
    wargs = speed_worker.parse_args([
        "--contender",
        "transformers" if args.contender == "transformers" else "keras",
        "--workload", args.workload, "--model", json.dumps(model),
        "--batch-size", str(args.batch_size), "--seq-len", str(args.seq_len),
        "--out", os.devnull,
    ])
    batch = speed_worker.make_batch(model, args.batch_size, args.seq_len, 0)
    if args.contender == "transformers":
        import torch  # noqa: F401
        import transformers  # noqa: F401

        mark("imports")
        step, _ = speed_worker.hf_setup(wargs, model, batch)
    else:
        import keras  # noqa: F401

        import keras_electra  # noqa: F401

        mark("imports")
        step, _ = speed_worker.keras_setup(wargs, model, batch)
    mark("model built" + ("" if args.workload == "inference"
                          else " and compiled"))
    step()
    mark("first step")
    for _ in range(args.steps):
        step()
    mark(f"{args.steps} more steps")
    with open(args.out, "w") as f:
        json.dump({"contender": args.contender, "stages": stages}, f)


def run_contender(args, name, tmp):
    out = os.path.join(tmp, f"{name}.json")
    env = dict(os.environ)
    if name.startswith("keras-"):
        env["KERAS_BACKEND"] = name.split("-", 1)[1]
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker",
        "--contender", name, "--size", args.size, "--workload", args.workload,
        "--batch-size", str(args.batch_size), "--seq-len", str(args.seq_len),
        "--steps", str(args.steps), "--out", out,
    ] + ([] if args.dropout is None else ["--dropout", str(args.dropout)])
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return {"contender": name, "error": done.stderr[-2000:]}
    with open(out) as f:
        return json.load(f)


def table(results):
    lines = ["| contender | stage | " + " | ".join(f"{f} MiB" for f in FIELDS)
             + " |", "| --- | --- | " + " | ".join("---" for _ in FIELDS)
             + " |"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['contender']} | failed: "
                         f"{r['error'].strip().splitlines()[-1][:200]} |")
            continue
        for s in r["stages"]:
            lines.append(f"| {r['contender']} | {s['stage']} | "
                         + " | ".join(f"{s[f]:,.0f}" for f in FIELDS) + " |")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--contenders", default=",".join(CONTENDERS))
    p.add_argument("--size", default="small", choices=["tiny", "small", "base"])
    p.add_argument("--workload", default="inference",
                   choices=["inference", "finetune", "pretrain"])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--dropout", type=float, default=None,
                   help="dropout rate of both libraries' models (default: "
                   "ELECTRA's 0.1)")
    p.add_argument("--json", default=None, help="also write the results here")
    # Internal: one contender's process.
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--contender", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.contenders = [c for c in args.contenders.split(",") if c]
    unknown = sorted(set(args.contenders) - set(CONTENDERS))
    if unknown:
        p.error(f"unknown contenders {unknown}; choose from {CONTENDERS}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return
    with tempfile.TemporaryDirectory(prefix="memory_") as tmp:
        results = [run_contender(args, name, tmp) for name in args.contenders]
    machine, machine_text = speed.machine_summary()
    print(f"{args.size} {args.workload} {args.batch_size}x{args.seq_len}, "
          f"dropout {'0.1' if args.dropout is None else args.dropout}\n"
          f"{machine_text}")
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "machine": machine,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
