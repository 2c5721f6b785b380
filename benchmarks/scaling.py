"""Data-parallel scaling of `keras-electra pretrain`: measured, then modelled.

Run by hand, never by CI. Four parts, each printed as a markdown table;
`--json` keeps every raw number:

1. **Step time** of the real command, `python -m keras_electra.cli
   pretrain`, in three topologies: 1 process x 1 device, 1 process x 2
   devices (`--devices 2`) and 2 processes x 1 device (`--workers
   127.0.0.1:P0,127.0.0.1:P1 --process-id {0,1}`, free ports), for the
   tiny model (the command's own default, 2 layers, hidden 128) and
   ELECTRA-small, on JAX and TensorFlow, on the bundled novels; and, for
   the model, `1x1-half`: 1 x 1 at half the global batch (one replica's
   share). The chief runs on a pseudo-terminal, so the command draws its
   per-step progress bar; each bar update is time-stamped as it arrives,
   and the step time is the median of the per-step intervals after the
   first `--skip` steps (no start-up, compilation or checkpoint in it).
   The bar's own ms/step figure (its mean over the steps after the first)
   is kept beside it.
2. **Gradient all-reduce bytes** per step: the trainable variables of the
   pre-trainer (discriminator + generator; the embeddings shared, counted
   once, as `trainable_weights` lists them), float32, for tiny, small,
   base and large, counted on pre-trainers built by the command's own
   builder (`keras_electra.cli.pretrain.new_pretrainer`).
3. **All-reduce time** over loopback: 2 processes on 127.0.0.1 set up by
   `keras_electra.pretraining.data_parallel` (JAX: `jax.distributed` with
   gloo CPU collectives; TensorFlow: `MultiWorkerMirroredStrategy`): a
   `psum` in `shard_map` (JAX) or `ReplicaContext.all_reduce` (TF, as
   Keras' optimizer reduces gradients) of one float32 buffer per size,
   4 KiB to 256 MiB and each model's gradient size, and of each measured
   model's gradient list (its variables' shapes). A line time = latency +
   bytes / bandwidth is fitted to the single-buffer medians (least
   squares on relative error).
4. **The model**: 2-process step = compute + all-reduce(gradient bytes),
   against the measured 2-process step, with compute taken two ways: the
   1 x 1 step at the whole global batch (the two replicas' work on the
   same cores), and 2 x the `1x1-half` step (each replica's own step at
   its half batch; on this machine the two processes take turns on the
   same 2 cores, so per-step work that does not shrink with the batch is
   paid twice; on separate machines it would be 1 x). Then the model for
   ELECTRA-Base on 8 and 64 A100s (`--a100-*` options: compute rate,
   batch per GPU, NVLink and inter-host bandwidth), against NVIDIA's
   published throughput.

    # What RESULTS.md reports (about 25 min on 2 idle cores):
    python benchmarks/scaling.py --repeats tiny=2,small=1 --json scaling.json
    python benchmarks/scaling.py --parts steps,a100 --topologies 1x1-half \
        --repeats tiny=2,small=1 --merge scaling.json --json final.json
    # Parts alone:
    python benchmarks/scaling.py --backends jax --models tiny --parts steps
    python benchmarks/scaling.py --parts counts,a100        # no training

Only measure on an otherwise idle machine: every row records the load
average (`os.getloadavg`) before and after it.
"""

import argparse
import importlib.util
import json
import math
import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# speed.py's machine description and process helpers: a sibling, beside
# this script on `sys.path` as for any script run by path.
import speed  # noqa: E402

BACKENDS = ("jax", "tensorflow")
# processes x devices; "1x1-half": 1 x 1 at half the global batch (one
# replica's share of it, for the model's compute time).
TOPOLOGIES = ("1x1", "1x2", "2x1", "1x1-half")
DEFAULT_TOPOLOGIES = ("1x1", "1x2", "2x1")
PARTS = ("steps", "counts", "allreduce", "a100")
FLOAT32_BYTES = 4

# The measured models: `pretrain` options, global batch, sequence length,
# steps in the run (one round: one checkpoint, at the end).
STEP_MODELS = {
    # The command's defaults: the quick start's --from-scratch model.
    "tiny": dict(options=[], batch=16, sequence_length=64, steps=40),
    "small": dict(
        options=["--hidden-dim", "256", "--num-layers", "12",
                 "--num-heads", "4", "--embedding-dim", "128",
                 "--intermediate-dim", "1024",
                 "--generator-hidden-fraction", "0.25"],
        batch=16, sequence_length=128, steps=14,
    ),
}
# Google's ELECTRA sizes (paper, table 6: generator 1/4, 1/3, 1/4 of the
# discriminator's width), for counting; tiny is the command's default.
ARCHITECTURES = {
    "tiny": dict(num_layers=2, hidden_dim=128, num_heads=2,
                 embedding_dim=64, intermediate_dim=512,
                 generator_hidden_fraction=0.25),
    "small": dict(num_layers=12, hidden_dim=256, num_heads=4,
                  embedding_dim=128, intermediate_dim=1024,
                  generator_hidden_fraction=0.25),
    "base": dict(num_layers=12, hidden_dim=768, num_heads=12,
                 embedding_dim=768, intermediate_dim=3072,
                 generator_hidden_fraction=1 / 3),
    "large": dict(num_layers=24, hidden_dim=1024, num_heads=16,
                  embedding_dim=1024, intermediate_dim=4096,
                  generator_hidden_fraction=0.25),
}
ALLREDUCE_SIZES = [4 ** k * 1024 for k in range(1, 10)]  # 4 KiB .. 256 MiB

# NVIDIA's published ELECTRA-Base pre-training throughput (TF2, DGX A100,
# AMP, sequence length 128), and the phase-1 batch of their DGX A100 AMP
# recipe (scripts/configs/pretrain_config.sh: 176 per GPU, gradients
# accumulated over 48 micro-batches on 8 GPUs).
NVIDIA = {"seq_per_s_1": 955.0, "seq_per_s_8": 7512.0, "batch_per_gpu": 176,
          "accumulation_8": 48}


def load_average():
    return [round(x, 2) for x in os.getloadavg()]


def loopback_workers(count):
    """`keras_electra.utils.worker_addresses.loopback_workers`, run from its
    file alone: importing `keras_electra` would import Keras into this
    driver, which only starts processes (as `speed.quickstart_config`
    reads its file)."""
    package = importlib.util.find_spec("keras_electra")
    path = os.path.join(os.path.dirname(package.origin), "utils",
                        "worker_addresses.py")
    spec = importlib.util.spec_from_file_location("worker_addresses", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.loopback_workers(count)


def child_env(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    speed.set_hugepages(env, False)
    return env


# === 1. step time of the real command ===

PROGRESS = re.compile(
    rb"(?:^|[\r\n\x08])\s*(\d+)/(\d+) [^\r\n\x08]*?"
    rb"(\d+(?:\.\d+)?)(us|ms|s)/step"
)
UNIT = {b"us": 1e-6, b"ms": 1e-3, b"s": 1.0}
# The bar's colours and bold (complete escape sequences only).
ANSI = re.compile(rb"\x1b\[[0-9;]*m")


def pretrain_command(backend, model, topology, output_dir, steps,
                     workers=None, process_id=None):
    spec = dict(STEP_MODELS[model], steps=steps)
    spec["batch"] = run_batch(model, topology)
    cmd = [sys.executable, "-m", "keras_electra.cli", "pretrain",
           "--backend", backend, "--output-dir", output_dir,
           "--steps", str(spec["steps"]), "--log-every", str(spec["steps"]),
           "--batch-size", str(spec["batch"]),
           "--sequence-length", str(spec["sequence_length"]),
           *spec["options"]]
    if topology == "1x2":
        cmd += ["--devices", "2"]
    if workers:
        cmd += ["--workers", workers, "--process-id", str(process_id)]
    return cmd


def run_batch(model, topology):
    batch = STEP_MODELS[model]["batch"]
    return batch // 2 if topology == "1x1-half" else batch


def watch_progress(cmd, env, cwd, timeout, others=()):
    """Run `cmd` on a pseudo-terminal; time-stamp each progress update.

    Returns `(returncode, output, updates)`, `updates` a list of `(step,
    seconds since start, the bar's own seconds/step)`. `others` are
    processes started beside it (killed if this one times out).
    """
    master, slave = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    buffer, output, updates, seen = b"", [], [], set()
    deadline = start + timeout
    while True:
        if time.perf_counter() > deadline:
            for p in (proc, *others):
                try:
                    os.killpg(p.pid, 9)
                except ProcessLookupError:
                    pass
            break
        ready, _, _ = select.select([master], [], [], 0.5)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        now = time.perf_counter() - start
        output.append(chunk)
        buffer = ANSI.sub(b"", buffer + chunk)
        last = 0
        for match in PROGRESS.finditer(buffer):
            step = int(match.group(1))
            if step not in seen:
                seen.add(step)
                per_step = float(match.group(3)) * UNIT[match.group(4)]
                updates.append((step, now, per_step))
            last = match.end()
        buffer = buffer[last:][-4096:]
    code = proc.wait()
    os.close(master)
    text = b"".join(output).decode("utf-8", "replace")
    return code, text, updates


def step_statistics(updates, total, skip):
    """Median per-step interval after step `skip`, and the bar's own figure
    at the last step (each step's first update comes at the step's end;
    the bar's second, final update of the last step comes after the
    round's checkpoint and is left out)."""
    points = sorted((s, t) for s, t, _ in updates if s <= total)
    intervals = [
        (t1 - t0) / (s1 - s0)
        for (s0, t0), (s1, t1) in zip(points, points[1:])
        if s0 >= skip
    ]
    bar = [p for s, _, p in sorted(updates) if s <= total]
    return {
        "step_s": statistics.median(intervals) if intervals else None,
        "intervals_s": intervals,
        "bar_s_per_step": bar[-1] if bar else None,
    }


def measure_steps(backend, model, topology, args):
    spec = dict(STEP_MODELS[model])
    spec["steps"] = args.steps or spec["steps"]
    row = {"backend": backend, "model": model, "topology": topology,
           "batch": run_batch(model, topology),
           "sequence_length": spec["sequence_length"],
           "steps": spec["steps"], "load_before": load_average()}
    directory = tempfile.mkdtemp(prefix="electra_scaling_")
    output_dir = os.path.join(directory, "run")
    env = child_env(backend)
    others, files = [], []
    try:
        if topology == "2x1":
            workers = loopback_workers(2)
            row["workers"] = workers
            chief = pretrain_command(backend, model, topology, output_dir,
                                     spec["steps"], workers, 0)
            log = open(os.path.join(directory, "worker1.log"), "w")
            files.append(log)
            others.append(subprocess.Popen(
                pretrain_command(backend, model, topology, output_dir,
                                 spec["steps"], workers, 1) + ["--quiet"],
                cwd=directory, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
        else:
            chief = pretrain_command(backend, model, topology, output_dir,
                                     spec["steps"])
        row["command"] = " ".join(chief[1:])
        start = time.perf_counter()
        code, text, updates = watch_progress(chief, env, directory,
                                             args.timeout, others)
        for p in others:
            try:
                code = code or p.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                code = code or -9
        row["wall_s"] = time.perf_counter() - start
        row["returncode"] = code
        row["load_after"] = load_average()
        if code != 0 or not updates:
            tail = text[-1500:]
            for f in files:
                f.flush()
                with open(f.name) as g:
                    tail += "\n[worker 1]\n" + g.read()[-1500:]
            row["error"] = tail
            return row
        row.update(step_statistics(updates, spec["steps"], args.skip))
        row["updates"] = [[s, round(t, 4), p] for s, t, p in updates]
        results = os.path.join(output_dir, "results.json")
        if os.path.exists(results):
            with open(results) as f:
                row["fit_seconds"] = json.load(f)["pretraining"][
                    "fit_seconds"]
        return row
    finally:
        for f in files:
            f.close()
        shutil.rmtree(directory, ignore_errors=True)


# === 2. gradient bytes (a worker process: builds the pre-trainers) ===


def count_worker(args):
    import keras

    import keras_electra
    from keras_electra import data as bundled
    from keras_electra.cli.pretrain import new_pretrainer

    tokenizer = keras_electra.ElectraTokenizer(
        vocabulary=bundled.vocabulary())
    counts = {}
    for name in args.count_models.split(","):
        recipe = argparse.Namespace(
            **ARCHITECTURES[name], sequence_length=512,
            tie_all_weights=False)
        pretrainer = new_pretrainer(tokenizer, 0, recipe)
        trainable = {id(v): v for v in pretrainer.trainable_weights}
        unique = sum(math.prod(v.shape) for v in trainable.values())
        discriminator = pretrainer.discriminator.count_params()
        generator = pretrainer.generator.count_params()
        embeddings = pretrainer.backbone.embeddings.count_params()
        counts[name] = {
            **ARCHITECTURES[name],
            "vocabulary_size": tokenizer.vocabulary_size(),
            "max_sequence_length": 512,
            "discriminator_params": discriminator,
            "generator_params": generator,
            "shared_embedding_params": embeddings,
            "trainable_params": unique,
            "gradient_bytes": unique * FLOAT32_BYTES,
            "trainable_variables": len(trainable),
            "shapes": [list(v.shape) for v in trainable.values()],
            "all_trainable_float32": all(
                v.dtype == "float32" for v in trainable.values()),
        }
        del pretrainer
        keras.backend.clear_session()
    with open(args.out, "w") as f:
        json.dump(counts, f)


def run_counts(args, models):
    out = os.path.join(tempfile.mkdtemp(prefix="electra_counts_"), "c.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--count-worker",
           "--count-models", ",".join(models), "--out", out]
    result, stderr = speed.launch(cmd, child_env(args.count_backend),
                                  os.path.dirname(out), out, args.timeout)
    if result.get("status") == "failed":
        raise SystemExit(f"counting failed: {result.get('reason')}\n"
                         f"{stderr[-2000:]}")
    result.pop("process_wall_s", None)
    return result


# === 3. all-reduce over loopback (a worker process per rank) ===


def allreduce_worker(args):
    import numpy as np

    from keras_electra.pretraining import data_parallel

    cluster = data_parallel(workers=args.workers, process_id=args.process_id,
                            devices=1)
    with open(args.plan) as f:
        plan = json.load(f)
    backend = os.environ["KERAS_BACKEND"]
    reduce = (_jax_allreduce if backend == "jax" else _tf_allreduce)(cluster)
    results = []
    for item in plan["items"]:
        shapes = [tuple(s) for s in item["shapes"]]
        run = reduce(shapes)
        run()  # the first call compiles / builds
        run()
        times = []
        for _ in range(item["repeats"]):
            cluster.barrier("allreduce")
            start = time.perf_counter()
            check = run()
            times.append(time.perf_counter() - start)
        results.append({
            "name": item["name"],
            "bytes": item["bytes"],
            "tensors": len(shapes),
            "times_s": times,
            "median_s": statistics.median(times),
            # Each rank adds ones: every element is the number of ranks.
            "check": float(check),
        })
        del run
        if cluster.is_chief:  # after each buffer: a later one may not fit
            with open(args.out, "w") as f:
                json.dump({"results": results, "load_after": load_average(),
                           "numpy": np.__version__}, f)


def _jax_allreduce(cluster):
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec

    mesh = Mesh(np.array(jax.devices()), ("replicas",))
    spec = PartitionSpec("replicas")
    sharding = NamedSharding(mesh, spec)
    local = jax.local_devices()[0]
    count = len(jax.devices())

    def make(shapes):
        arrays = [
            jax.make_array_from_single_device_arrays(
                (count * shape[0],) + shape[1:] if shape else (count,),
                sharding,
                [jax.device_put(jnp.ones(shape or (1,), jnp.float32), local)],
            )
            for shape in shapes
        ]
        specs = [spec] * len(arrays)
        psum = jax.jit(jax.shard_map(
            lambda *xs: jax.lax.psum(list(xs), "replicas"), mesh=mesh,
            in_specs=tuple(specs), out_specs=specs))

        def run():
            out = psum(*arrays)
            jax.block_until_ready(out)
            return out[0].addressable_data(0).reshape(-1)[0]

        return run

    return make


def _tf_allreduce(cluster):
    import tensorflow as tf

    strategy = cluster.strategy

    def make(shapes):
        with strategy.scope():
            variables = [tf.Variable(tf.ones(s, tf.float32)) for s in shapes]

        @tf.function
        def step():
            def replica():
                values = [v.read_value() for v in variables]
                ctx = tf.distribute.get_replica_context()
                out = ctx.all_reduce(tf.distribute.ReduceOp.SUM, values)
                return tf.reshape(out[0], [-1])[0]

            return strategy.run(replica)

        def run():
            result = step()
            values = strategy.experimental_local_results(result)
            return values[0].numpy()

        return run

    return make


def run_allreduce(backend, counts, args):
    """Both ranks of one backend's all-reduce measurements."""
    items = [{"name": f"{n // 1024} KiB" if n < 2 ** 20
              else f"{n // 2 ** 20} MiB", "bytes": n,
              "shapes": [[n // FLOAT32_BYTES]], "kind": "buffer",
              "repeats": args.allreduce_repeats}
             for n in ALLREDUCE_SIZES if n <= args.allreduce_max_bytes]
    for name, c in counts.items():
        if c["gradient_bytes"] > args.allreduce_max_bytes * 8:
            continue
        items.append({"name": f"{name}: one buffer", "model": name,
                      "kind": "model buffer", "bytes": c["gradient_bytes"],
                      "shapes": [[c["trainable_params"]]],
                      "repeats": max(3, args.allreduce_repeats // 2)})
        if name in args.models:
            items.append({"name": f"{name}: its {len(c['shapes'])} "
                          "gradients", "model": name, "kind": "model list",
                          "bytes": c["gradient_bytes"], "shapes": c["shapes"],
                          "repeats": args.allreduce_repeats})
    # Smallest first: if the largest does not fit in memory, the rest stand.
    items.sort(key=lambda item: (item["bytes"], item["kind"]))
    directory = tempfile.mkdtemp(prefix="electra_allreduce_")
    plan = os.path.join(directory, "plan.json")
    with open(plan, "w") as f:
        json.dump({"items": items}, f)
    out = os.path.join(directory, "out.json")
    workers = loopback_workers(2)
    env = child_env(backend)
    load_before = load_average()
    procs = [
        subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--allreduce-worker",
             "--workers", workers, "--process-id", str(i), "--plan", plan,
             "--out", out],
            cwd=directory, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        for i in range(2)
    ]
    outputs = []
    for p in procs:
        try:
            outputs.append(p.communicate(timeout=args.timeout)[0])
        except subprocess.TimeoutExpired:
            for q in procs:
                os.killpg(q.pid, 9)
            outputs.append("timeout")
    try:
        with open(out) as f:
            result = json.load(f)
    except OSError:
        return {"backend": backend, "error": "\n".join(
            o[-2000:] for o in outputs)}
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if any(p.returncode for p in procs):
        result["incomplete"] = (
            f"measured {len(result['results'])} of {len(items)} buffers; "
            f"exit codes {[p.returncode for p in procs]}: "
            + "\n".join(o[-800:] for o in outputs))
    for r, item in zip(result["results"], items):
        r.update(kind=item["kind"], model=item.get("model"))
    result.update(backend=backend, workers=workers, load_before=load_before,
                  fit=fit_line([r for r in result["results"]
                                if r["kind"] != "model list"]))
    return result


def fit_line(rows):
    """time = latency + bytes / bandwidth, least squares on relative error
    (each point weighted by 1 / its time)."""
    xs = [r["bytes"] for r in rows]
    ys = [r["median_s"] for r in rows]
    ws = [1 / y ** 2 for y in ys]
    sw = sum(ws)
    sx = sum(w * x for w, x in zip(ws, xs))
    sy = sum(w * y for w, y in zip(ws, ys))
    sxx = sum(w * x * x for w, x in zip(ws, xs))
    sxy = sum(w * x * y for w, x, y in zip(ws, xs, ys))
    slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
    latency = (sy - slope * sx) / sw
    return {"latency_s": latency, "bandwidth_bytes_per_s": 1 / slope,
            "max_relative_error": max(
                abs(latency + x * slope - y) / y for x, y in zip(xs, ys))}


def line_time(fit, nbytes):
    return fit["latency_s"] + nbytes / fit["bandwidth_bytes_per_s"]


# === 4. the model ===


def predictions(steps, allreduce, counts):
    """The model's 2-process step against the measured one.

    compute, two ways: the 1 x 1 step at the whole global batch (the two
    replicas' work on the same cores), and 2 x the 1 x 1 step at half the
    batch (each replica's own step, the two processes taking turns on the
    cores: per-step work that does not shrink with the batch counts
    twice); plus the all-reduce of the gradient bytes, from the fitted line
    and as measured for the model's own gradient list.
    """
    rows = []
    for backend in sorted({r["backend"] for r in steps}):
        fit = (allreduce.get(backend) or {}).get("fit")
        measured_lists = {
            r["model"]: r["median_s"]
            for r in (allreduce.get(backend) or {}).get("results", [])
            if r["kind"] == "model list"
        }
        for model in STEP_MODELS:
            by = {r["topology"]: r for r in steps
                  if r["backend"] == backend and r["model"] == model
                  and r.get("step_s")}
            if model not in counts or "2x1" not in by:
                continue
            nbytes = counts[model]["gradient_bytes"]
            bases = []
            if "1x1" in by:
                bases.append(("1x1 step (whole batch)", by["1x1"]["step_s"]))
            if "1x1-half" in by:
                bases.append(("2 x 1x1 step at half the batch",
                              2 * by["1x1-half"]["step_s"]))
            for basis, compute in bases:
                row = {"backend": backend, "model": model, "basis": basis,
                       "compute_s": compute, "gradient_bytes": nbytes,
                       "measured_2x1_s": by["2x1"]["step_s"]}
                if "1x2" in by:
                    row["measured_1x2_s"] = by["1x2"]["step_s"]
                if fit:
                    row["allreduce_line_s"] = line_time(fit, nbytes)
                    row["predicted_s"] = compute + row["allreduce_line_s"]
                    row["error"] = (row["predicted_s"]
                                    / row["measured_2x1_s"] - 1)
                if model in measured_lists:
                    row["allreduce_list_s"] = measured_lists[model]
                    row["predicted_with_list_s"] = (
                        compute + measured_lists[model])
                    row["error_with_list"] = (row["predicted_with_list_s"]
                                              / row["measured_2x1_s"] - 1)
                rows.append(row)
    return rows


def ring_seconds(nbytes, ranks, bandwidth, latency):
    """Ring all-reduce: each rank sends (and receives) 2 (N-1)/N x bytes,
    in 2 (N-1) steps of one latency each."""
    if ranks < 2:
        return 0.0
    return (2 * (ranks - 1) / ranks * nbytes / bandwidth
            + 2 * (ranks - 1) * latency)


def a100_model(nbytes, args):
    """ELECTRA-Base on A100s: compute at the published single-GPU rate,
    plus a ring all-reduce of the float32 gradients each step (not
    overlapped with the backward pass: the pessimistic end)."""
    rate = args.a100_seq_per_s
    nvlink = args.a100_nvlink_gbps * 1e9
    network = args.a100_network_gbit * 1e9 / 8
    per_host = args.a100_gpus_per_host
    rows = []
    for accumulation in sorted({1, args.a100_accumulation}):
        batch = args.a100_batch * accumulation
        compute = batch / rate
        for gpus in (1, 8, 64):
            hosts = max(1, gpus // per_host)
            local = min(gpus, per_host)
            # Within a host over NVLink; across hosts each host's NIC
            # carries 2 (H-1)/H x bytes (NCCL's hierarchical/tree
            # all-reduce: reduce-scatter in the host, all-reduce of the
            # shards across hosts, all-gather in the host).
            intra = ring_seconds(nbytes, local, nvlink, args.a100_latency_s)
            inter = ring_seconds(nbytes, hosts, network, args.a100_latency_s)
            step = compute + intra + inter
            rows.append({
                "gpus": gpus, "hosts": hosts,
                "batch_per_gpu": args.a100_batch,
                "accumulation": accumulation,
                "sequences_per_gpu_per_allreduce": batch,
                "compute_s": compute, "allreduce_nvlink_s": intra,
                "allreduce_network_s": inter, "step_s": step,
                "sequences_per_s": gpus * batch / step,
                "efficiency": compute / step,
                # The flat ring over every GPU, each ring edge across hosts
                # at the NIC's rate, for comparison.
                "flat_ring_allreduce_s": (
                    ring_seconds(nbytes, gpus, network, args.a100_latency_s)
                    if hosts > 1 else intra),
            })
    return rows


# === printing ===


def ms(seconds):
    return "" if seconds is None else f"{1e3 * seconds:,.1f}"


def print_steps(steps):
    print("\n### Step time of `keras-electra pretrain` (median per-step "
          "interval; ms)\n")
    print("| backend | model | batch x length | topology | step ms | "
          "bar ms/step | per-step intervals ms (min-max) | load before -> "
          "after |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in steps:
        if r.get("error") or not r.get("step_s"):
            print(f"| {r['backend']} | {r['model']} | | {r['topology']} | "
                  f"failed: {(r.get('error') or 'no steps')[-150:]!r} |")
            continue
        iv = r["intervals_s"]
        print(f"| {r['backend']} | {r['model']} | {r['batch']} x "
              f"{r['sequence_length']} | {r['topology']} | {ms(r['step_s'])} "
              f"| {ms(r['bar_s_per_step'])} | {ms(min(iv))}-{ms(max(iv))} "
              f"| {', '.join(map(str, r['load_before']))} -> "
              f"{', '.join(map(str, r['load_after']))} |")


def print_counts(counts):
    print("\n### Gradient all-reduce bytes per step (float32)\n")
    print("| model | layers x hidden (embedding) | generator width | "
          "discriminator params | generator params | shared embeddings "
          "(counted once) | trainable params | variables | all-reduce MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, c in counts.items():
        print(f"| {name} | {c['num_layers']} x {c['hidden_dim']} "
              f"({c['embedding_dim']}) | "
              f"{round(c['generator_hidden_fraction'] * c['hidden_dim'])} | "
              f"{c['discriminator_params']:,} | {c['generator_params']:,} | "
              f"{c['shared_embedding_params']:,} | "
              f"{c['trainable_params']:,} | {c['trainable_variables']} | "
              f"{c['gradient_bytes'] / 1e6:,.1f} |")


def print_allreduce(allreduce):
    for backend, result in allreduce.items():
        print(f"\n### All-reduce over loopback, 2 processes, {backend}\n")
        if "error" in result:
            print(f"failed: {result['error'][-800:]!r}")
            continue
        if "incomplete" in result:
            print(f"Incomplete: {result['incomplete'][:300]!r}\n")
        fit = result["fit"]
        print(f"Fitted line (single buffers): latency "
              f"{1e3 * fit['latency_s']:.3f} ms + bytes / "
              f"{fit['bandwidth_bytes_per_s'] / 1e9:.2f} GB/s (largest "
              f"relative miss {100 * fit['max_relative_error']:.0f}%); load "
              f"{result['load_before']} -> {result['load_after']}\n")
        print("| buffer | tensors | MB | median ms | line ms | "
              "MB/s (bytes / median) |")
        print("| --- | --- | --- | --- | --- | --- |")
        for r in result["results"]:
            print(f"| {r['name']} | {r['tensors']} | {r['bytes'] / 1e6:,.3f} "
                  f"| {ms(r['median_s'])} | {ms(line_time(fit, r['bytes']))} "
                  f"| {r['bytes'] / r['median_s'] / 1e6:,.0f} |")


def print_predictions(rows):
    print("\n### Model against measurement: 2 processes x 1 device\n")
    print("| backend | model | compute basis | compute ms | gradient MB | "
          "all-reduce (line) ms | predicted ms | error | all-reduce (its "
          "gradient list) ms | predicted ms | error | measured 2x1 ms | "
          "measured 1x2 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | "
          "--- | --- | --- |")
    for r in rows:
        def pct(key):
            return f"{100 * r[key]:+.0f}%" if key in r else ""

        print(f"| {r['backend']} | {r['model']} | {r['basis']} | "
              f"{ms(r['compute_s'])} | {r['gradient_bytes'] / 1e6:,.1f} | "
              f"{ms(r.get('allreduce_line_s'))} | "
              f"{ms(r.get('predicted_s'))} | {pct('error')} | "
              f"{ms(r.get('allreduce_list_s'))} | "
              f"{ms(r.get('predicted_with_list_s'))} | "
              f"{pct('error_with_list')} | {ms(r['measured_2x1_s'])} | "
              f"{ms(r.get('measured_1x2_s'))} |")


def print_a100(rows, nbytes, args):
    print(f"\n### Model: ELECTRA-Base on A100s ({nbytes / 1e6:,.0f} MB of "
          f"float32 gradients)\n")
    print(f"Compute {args.a100_seq_per_s:g} sequences/s per GPU (NVIDIA, 1 "
          f"A100, length 128, AMP); {args.a100_batch} sequences per GPU per "
          f"micro-batch; NVLink ring bus bandwidth "
          f"{args.a100_nvlink_gbps:g} GB/s; {args.a100_network_gbit:g} Gb/s "
          f"per host between hosts, {args.a100_gpus_per_host} GPUs per host; "
          f"{1e6 * args.a100_latency_s:g} us per ring step; all-reduce not "
          "overlapped with compute.\n")
    print("| GPUs | hosts | sequences per GPU per all-reduce | compute ms | "
          "all-reduce NVLink ms | all-reduce network ms | step ms | "
          "sequences/s | efficiency | (flat ring over the network ms) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['gpus']} | {r['hosts']} | "
              f"{r['sequences_per_gpu_per_allreduce']:,} "
              f"({r['batch_per_gpu']} x {r['accumulation']}) | "
              f"{ms(r['compute_s'])} | {ms(r['allreduce_nvlink_s'])} | "
              f"{ms(r['allreduce_network_s'])} | {ms(r['step_s'])} | "
              f"{r['sequences_per_s']:,.0f} | {100 * r['efficiency']:.1f}% | "
              f"{ms(r['flat_ring_allreduce_s'])} |")
    compute = args.a100_batch / args.a100_seq_per_s
    spread = []
    for bandwidth in (200, 250):
        reduce = ring_seconds(nbytes, 8, bandwidth * 1e9, args.a100_latency_s)
        spread.append(f"{100 * compute / (compute + reduce):.1f}% at "
                      f"{bandwidth} GB/s")
    spread = ", ".join(spread)
    print(f"\n8 GPUs, one all-reduce per {args.a100_batch}-sequence "
          f"micro-batch, other NVLink bus bandwidths: {spread}.")
    published = NVIDIA["seq_per_s_8"] / (8 * NVIDIA["seq_per_s_1"])
    print(f"\nNVIDIA's published: {NVIDIA['seq_per_s_1']:,.0f} sequences/s "
          f"on 1 A100, {NVIDIA['seq_per_s_8']:,.0f} on 8: "
          f"{100 * published:.1f}% efficiency at 8.")


# === the driver ===


def repeats_option(value):
    """`N` or `MODEL=N,...` -> {model: N} (unnamed models: 1)."""
    if value.isdigit():
        return {m: int(value) for m in STEP_MODELS}
    repeats = {m: 1 for m in STEP_MODELS}
    for item in value.split(","):
        model, _, count = item.partition("=")
        if model not in STEP_MODELS or not count.isdigit():
            raise argparse.ArgumentTypeError(
                f"{item!r}: give N or MODEL=N with MODEL in "
                f"{', '.join(STEP_MODELS)}")
        repeats[model] = int(count)
    return repeats


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default=",".join(PARTS),
                   type=lambda v: speed.parse_list(v, PARTS, "part"),
                   help="which parts to run (default: all): "
                   + ", ".join(PARTS))
    p.add_argument("--backends", default=",".join(BACKENDS),
                   type=lambda v: speed.parse_list(v, BACKENDS, "backend"))
    p.add_argument("--models", default=",".join(STEP_MODELS),
                   type=lambda v: speed.parse_list(v, tuple(STEP_MODELS),
                                                   "model"),
                   help="models whose steps are timed (tiny, small)")
    p.add_argument("--topologies", default=",".join(DEFAULT_TOPOLOGIES),
                   type=lambda v: speed.parse_list(v, TOPOLOGIES, "topology"),
                   help="processes x devices: 1x1, 1x2, 2x1 (default), "
                   "and 1x1-half (1 x 1 at half the batch: one replica's "
                   "compute, for the model)")
    p.add_argument("--merge", metavar="JSON", nargs="+", default=[],
                   help="--json files of earlier runs: their step rows, "
                   "counts and all-reduce results join this run's (this "
                   "run's win where both have one)")
    p.add_argument("--repeats", type=repeats_option, default="1",
                   help="runs of each (backend, model, topology), round "
                   "robin over the topologies; a row is the run with the "
                   "median step time: N for every model, or per model, "
                   "e.g. tiny=2,small=1 (default 1)")
    p.add_argument("--steps", type=int, default=None,
                   help="steps per run for every model (default: tiny "
                   f"{STEP_MODELS['tiny']['steps']}, small "
                   f"{STEP_MODELS['small']['steps']})")
    p.add_argument("--skip", type=int, default=2,
                   help="first steps of a run left out of its step time "
                   "(default 2)")
    p.add_argument("--count-models", default=",".join(ARCHITECTURES),
                   help="models whose gradient bytes are counted "
                   "(default: tiny,small,base,large)")
    p.add_argument("--count-backend", default="jax", choices=BACKENDS,
                   help="Keras backend that builds the models to count")
    p.add_argument("--allreduce-repeats", type=int, default=7,
                   help="timed all-reduces per buffer (default 7)")
    p.add_argument("--allreduce-max-bytes", type=int, default=256 * 2 ** 20,
                   help="largest buffer of the size sweep (default 256 MiB); "
                   "a model's gradient is measured up to 8 times this")
    p.add_argument("--timeout", type=float, default=1200,
                   help="seconds per process (default 1200)")
    p.add_argument("--a100-seq-per-s", type=float,
                   default=NVIDIA["seq_per_s_1"],
                   help="compute rate of one A100, sequences/s (NVIDIA: 955)")
    p.add_argument("--a100-batch", type=int, default=NVIDIA["batch_per_gpu"],
                   help="sequences per GPU per micro-batch (NVIDIA's DGX "
                   "A100 AMP recipe: 176)")
    p.add_argument("--a100-accumulation", type=int,
                   default=NVIDIA["accumulation_8"],
                   help="micro-batches per all-reduce in the second set of "
                   "rows (NVIDIA's recipe on 8 GPUs: 48)")
    p.add_argument("--a100-nvlink-gbps", type=float, default=230.0,
                   help="NVLink 3 ring all-reduce bus bandwidth, GB/s "
                   "(default 230)")
    p.add_argument("--a100-network-gbit", type=float, default=100.0,
                   help="bandwidth between hosts, Gb/s per host (default 100)")
    p.add_argument("--a100-gpus-per-host", type=int, default=8)
    p.add_argument("--a100-latency-s", type=float, default=5e-6,
                   help="latency per ring step, s (default 5e-6)")
    p.add_argument("--json", metavar="PATH", help="write every raw number "
                   "here")
    # Internal: the worker processes.
    p.add_argument("--count-worker", action="store_true",
                   help=argparse.SUPPRESS)
    p.add_argument("--allreduce-worker", action="store_true",
                   help=argparse.SUPPRESS)
    p.add_argument("--workers", help=argparse.SUPPRESS)
    p.add_argument("--process-id", type=int, help=argparse.SUPPRESS)
    p.add_argument("--plan", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def save(path, output):
    if path:
        with open(path, "w") as f:
            json.dump(output, f, indent=1, default=str)


def main(argv=None):
    args = parse_args(argv)
    if args.count_worker:
        count_worker(args)
        return 0
    if args.allreduce_worker:
        allreduce_worker(args)
        return 0
    m, text = speed.machine_summary()
    print(text, flush=True)
    output = {"machine": m, "args": vars(args), "steps": [], "counts": {},
              "allreduce": {}, "predictions": [], "a100": {}}
    parts = args.parts
    count_models = args.count_models.split(",")
    if "a100" in parts and "base" not in count_models:
        count_models.append("base")
    for path in args.merge:
        with open(path) as f:
            earlier = json.load(f)
        output.setdefault("merged", []).append(
            {"path": path, "machine": earlier["machine"]})
        output["steps"] += earlier.get("steps", [])
        output.setdefault("all_step_runs", []).extend(
            earlier.get("all_step_runs", []))
        output["counts"].update(earlier.get("counts", {}))
        output["allreduce"].update(earlier.get("allreduce", {}))
    if parts != ["steps"] and not (
        set(count_models) <= set(output["counts"])
        and "counts" not in parts
    ):
        print("... counting parameters", file=sys.stderr, flush=True)
        output["counts"] = run_counts(args, count_models)
        print_counts(output["counts"])
        save(args.json, output)
    if "steps" in parts:
        for backend in args.backends:
            for model in args.models:
                runs = {t: [] for t in args.topologies}
                repeats = args.repeats[model]
                for i in range(repeats):
                    for topology in args.topologies:
                        print(f"... {backend} {model} {topology} "
                              f"(run {i + 1}/{repeats}, load "
                              f"{load_average()})", file=sys.stderr,
                              flush=True)
                        row = measure_steps(backend, model, topology, args)
                        print(f"    {ms(row.get('step_s'))} ms/step "
                              f"({row.get('wall_s', 0):.0f} s)"
                              + (" FAILED" if row.get("error") else ""),
                              file=sys.stderr, flush=True)
                        runs[topology].append(row)
                        output.setdefault("all_step_runs", []).append(row)
                        save(args.json, output)
                for topology, rows in runs.items():
                    output["steps"] = [
                        r for r in output["steps"]
                        if (r["backend"], r["model"], r["topology"])
                        != (backend, model, topology)]
                    good = sorted((r for r in rows if r.get("step_s")),
                                  key=lambda r: r["step_s"])
                    chosen = good[(len(good) - 1) // 2] if good else rows[0]
                    chosen = dict(chosen, repeats_step_s=[
                        r.get("step_s") for r in rows])
                    output["steps"].append(chosen)
        print_steps(sorted(output["steps"], key=lambda r: (
            r["backend"], r["model"], TOPOLOGIES.index(r["topology"]))))
        save(args.json, output)
    if "allreduce" in parts:
        for backend in args.backends:
            print(f"... all-reduce, {backend} (load {load_average()})",
                  file=sys.stderr, flush=True)
            output["allreduce"][backend] = run_allreduce(
                backend, output["counts"], args)
            save(args.json, output)
        print_allreduce(output["allreduce"])
    if output["steps"] and output["counts"]:
        output["predictions"] = predictions(
            output["steps"], output["allreduce"], output["counts"])
        print_predictions(output["predictions"])
    if "a100" in parts:
        nbytes = output["counts"]["base"]["gradient_bytes"]
        output["a100"] = {"gradient_bytes": nbytes, "nvidia": NVIDIA,
                          "rows": a100_model(nbytes, args)}
        print_a100(output["a100"]["rows"], nbytes, args)
    output["load_average_at_end"] = load_average()
    save(args.json, output)
    if args.json:
        print(f"\n(wrote {args.json})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
