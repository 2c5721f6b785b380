"""Speed of keras_electra against transformers' PyTorch ELECTRA.

Run by hand, never by CI. Every measurement (contender x model size x
workload) runs in a fresh process of its own (`speed_worker.py`, launched
as `python -P`), one after the other, in this one session; the driver
collects each worker's JSON and prints a markdown table with the median
seconds per batch, the ratio to transformers (transformers' time / ours:
above 1 we are faster), the first call's time (tracing / compilation),
the process's peak RSS, the achieved GFLOP/s and their share of the
machine's peak.

    python benchmarks/speed.py                       # everything, 32 x 128
    python benchmarks/speed.py --sizes small --workloads pretrain \\
        --contenders transformers,keras-jax --json small_pretrain.json
    python benchmarks/speed.py --quickstart          # tiny model, tokens/s

Contenders:

    transformers          transformers, PyTorch eager, sdpa attention
    transformers-compile  the same under torch.compile
    keras-tensorflow      ours, TensorFlow, jit_compile="auto" (off on CPU)
    keras-tensorflow-xla  ours, TensorFlow, jit_compile=True (XLA)
    keras-jax             ours, JAX, jit_compile="auto" (on)
    keras-torch           ours, PyTorch, jit_compile="auto" (off: eager)
    keras-torch-compile   ours, PyTorch, jit_compile=True (torch.compile)
    keras-<backend>-fit   ours, training steps timed inside `fit` (epochs of
                          5 copies of the batch, per batch) rather than
                          `train_on_batch`; not run unless named

Sizes: `tiny` (the quick start's --from-scratch model, `keras_electra/cli/shared.py`
QUICKSTART), `small` and `base` (Google's ELECTRA-small and -base
discriminators); the generator is 1/4 of the discriminator's width in
every pre-training step. Random ids, float32 (or `--precision
mixed_bfloat16`), dropout on while training.

FLOPs are counted analytically (see `forward_flops`), the training step as
3 x the forward pass; the peak is cores x GHz x FLOP/cycle, read from
`/proc/cpuinfo` (or given with `--peak-gflops`), and printed with its
formula.
"""

import argparse
import ast
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "speed_worker.py")

VOCABULARY_SIZE = 30522  # BERT's uncased WordPieces (the bundled vocabulary)
MAX_SEQUENCE_LENGTH = 512
GENERATOR_HIDDEN_FRACTION = 0.25
NUM_CLASSES = 2
MASK_PROBABILITY = 0.15

# name: (kind, KERAS_BACKEND, worker arguments, mode asked)
CONTENDERS = {
    "transformers": ("transformers", None, [], "eager, sdpa"),
    "transformers-compile": (
        "transformers", None, ["--compile"], "torch.compile, sdpa"),
    "keras-tensorflow": ("keras", "tensorflow", ["--jit", "auto"], None),
    "keras-tensorflow-xla": ("keras", "tensorflow", ["--jit", "true"], None),
    "keras-jax": ("keras", "jax", ["--jit", "auto"], None),
    "keras-torch": ("keras", "torch", ["--jit", "auto"], None),
    "keras-torch-compile": ("keras", "torch", ["--jit", "true"], None),
    # Training inside `fit` (epochs of 5 copies of the batch) instead of
    # `train_on_batch`; inference is the same as without -fit.
    "keras-tensorflow-fit": ("keras", "tensorflow", ["--jit", "auto",
                                                      "--loop", "fit"], None),
    "keras-jax-fit": ("keras", "jax", ["--jit", "auto", "--loop", "fit"],
                      None),
    "keras-torch-fit": ("keras", "torch", ["--jit", "auto", "--loop", "fit"],
                        None),
}
BASELINE = "transformers"
# The contenders that --before-tree repeats with the earlier checkout.
BEFORE_CONTENDERS = ("keras-tensorflow", "keras-jax", "keras-torch")
WORKLOADS = ("inference", "finetune", "pretrain")
PACKAGES = (
    "keras", "keras-hub", "tensorflow", "jax", "jaxlib", "torch",
    "transformers", "numpy", "keras-electra",
)


def quickstart_config():
    """The QUICKSTART dict of `keras_electra/cli/shared.py`, read without
    importing keras_electra (which would import Keras)."""
    spec = importlib.util.find_spec("keras_electra")
    path = os.path.join(os.path.dirname(spec.origin), "cli", "shared.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "QUICKSTART" for t in node.targets)
            and isinstance(node.value, ast.Call)
        ):
            return {
                kw.arg: ast.literal_eval(kw.value)
                for kw in node.value.keywords
            }
    raise RuntimeError(f"no `QUICKSTART = dict(...)` found in {path}")


def model_sizes():
    quick = quickstart_config()
    tiny = dict(
        num_layers=quick["num_layers"],
        hidden_dim=quick["hidden_dim"],
        num_heads=quick["num_heads"],
        embedding_dim=quick["embedding_dim"],
        intermediate_dim=4 * quick["hidden_dim"],
        generator_hidden_fraction=quick["generator_hidden_fraction"],
    )
    small = dict(num_layers=12, hidden_dim=256, num_heads=4, embedding_dim=128,
                 intermediate_dim=1024,
                 generator_hidden_fraction=GENERATOR_HIDDEN_FRACTION)
    base = dict(num_layers=12, hidden_dim=768, num_heads=12, embedding_dim=768,
                intermediate_dim=3072,
                generator_hidden_fraction=GENERATOR_HIDDEN_FRACTION)
    sizes = {"tiny": tiny, "small": small, "base": base}
    for config in sizes.values():
        config["vocabulary_size"] = VOCABULARY_SIZE
        config["max_sequence_length"] = MAX_SEQUENCE_LENGTH
    return sizes, quick


# === FLOPs ===


def encoder_flops(batch, seq, layers, hidden, intermediate, embedding):
    """Forward FLOPs of an ELECTRA encoder: 2 x multiply-adds of every
    matmul. Per layer and token: Q, K, V and output projections
    (4 H^2), the FFN (2 H F), attention scores Q K^T and A V (2 S H).
    Plus the embedding projection (E H) when E != H. Embedding lookups,
    LayerNorms, softmax and GELU are not counted."""
    tokens = batch * seq
    flops = 0
    if embedding != hidden:
        flops += 2 * tokens * embedding * hidden
    per_layer = 2 * tokens * (4 * hidden * hidden + 2 * hidden * intermediate)
    per_layer += 2 * 2 * batch * seq * seq * hidden
    return flops + layers * per_layer


def generator_hidden(config):
    return int(round(config["hidden_dim"] * config["generator_hidden_fraction"]))


def forward_flops(config, workload, batch, seq):
    L, H = config["num_layers"], config["hidden_dim"]
    F, E = config["intermediate_dim"], config["embedding_dim"]
    V = config["vocabulary_size"]
    discriminator = encoder_flops(batch, seq, L, H, F, E)
    if workload == "inference":
        return discriminator
    if workload == "finetune":
        # transformers' classification head on [CLS]: dense H->H, out H->C.
        return discriminator + 2 * batch * (H * H + H * NUM_CLASSES)
    # Pre-training: discriminator + its head (dense H->H, H->1) on every
    # token; generator encoder (hidden H/4, FFN 4x) on every token and its
    # head (dense Hg->E, tied output E->V) at the N masked slots.
    Hg = generator_hidden(config)
    slots = max(1, min(seq, int((MASK_PROBABILITY + 0.005) * seq)))
    generator = encoder_flops(batch, seq, L, Hg, 4 * Hg, E)
    generator_head = 2 * batch * slots * (Hg * E + E * V)
    discriminator_head = 2 * batch * seq * (H * H + H)
    return discriminator + discriminator_head + generator + generator_head


def step_flops(config, workload, batch, seq):
    """Forward FLOPs, x3 for a training step (forward + backward)."""
    forward = forward_flops(config, workload, batch, seq)
    return forward if workload == "inference" else 3 * forward


# === machine ===


def cpuinfo():
    info = {"model": platform.processor() or platform.machine(), "mhz": [],
            "flags": set(), "vendor": "", "family": ""}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name":
                    info["model"] = value
                elif key == "cpu MHz":
                    info["mhz"].append(float(value))
                elif key == "flags" and not info["flags"]:
                    info["flags"] = set(value.split())
                elif key == "vendor_id":
                    info["vendor"] = value
                elif key == "cpu family":
                    info["family"] = value
                elif key in ("siblings", "cpu cores"):
                    info[key] = int(value)
    except OSError:
        pass
    return info


def lscpu_max_mhz():
    if not shutil.which("lscpu"):
        return None
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"^CPU max MHz:\s*([\d.]+)", out, re.MULTILINE)
    return float(match.group(1)) if match else None


def machine(args):
    info = cpuinfo()
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    flags = info["flags"]
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512 + FMA fp32: 2 FMA units x 16 lanes x 2"
    elif "avx2" in flags and "fma" in flags:
        per_cycle, isa = 32, "AVX2 + FMA fp32: 2 FMA units x 8 lanes x 2"
    elif "avx" in flags:
        per_cycle, isa = 16, "AVX fp32, no FMA: 8 lanes x (add + mul)"
    else:
        per_cycle, isa = 8, "SSE fp32 (or unknown ISA)"
    max_mhz = lscpu_max_mhz()
    if args.ghz:
        ghz, clock_source = args.ghz, "--ghz"
    elif max_mhz:
        ghz, clock_source = max_mhz / 1000, "lscpu CPU max MHz"
    elif info["mhz"]:
        ghz, clock_source = max(info["mhz"]) / 1000, '/proc/cpuinfo "cpu MHz"'
    else:
        ghz, clock_source = None, "unknown"
    if args.flop_per_cycle:
        per_cycle, isa = args.flop_per_cycle, "--flop-per-cycle"
    notes = []
    if info["vendor"] == "AuthenticAMD" and info["family"] == "25" and (
        "avx512f" in flags
    ):
        notes.append("AMD Zen 4 runs AVX-512 on 256-bit units: its real "
                     "fp32 peak is half of this (--flop-per-cycle 32)")
    if info.get("siblings") and info.get("cpu cores") and (
        info["siblings"] > info["cpu cores"]
    ):
        notes.append("SMT is on: logical CPUs share FMA units, so this peak "
                     "counts each physical core twice")
    if args.peak_gflops:
        peak = args.peak_gflops * 1e9
        formula = f"peak = {args.peak_gflops:g} GFLOP/s (--peak-gflops)"
    elif ghz:
        peak = cores * ghz * 1e9 * per_cycle
        formula = (
            f"peak = {cores} cores (os.cpu_count) x {ghz:.3f} GHz "
            f"({clock_source}) x {per_cycle} FLOP/cycle ({isa}) = "
            f"{peak / 1e9:.1f} GFLOP/s"
        )
    else:
        peak, formula = None, "peak unknown (no clock found; pass --ghz)"
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    isa_flags = sorted(f for f in flags if f in (
        "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
        "amx_tile", "amx_bf16"))
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu_model": info["model"],
        "vendor": info["vendor"],
        "cpu_family": info["family"],
        "cores": cores,
        "usable_cores": usable,
        "ghz": ghz,
        "clock_source": clock_source,
        "isa_flags": isa_flags,
        "flop_per_cycle": per_cycle,
        "peak_flops": peak,
        "peak_formula": formula,
        "peak_notes": notes,
        "load_average_at_start": load,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


# === running ===


def put_tree_first(env, tree):
    """Make `env`'s Python import keras_electra from the checkout `tree`."""
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (tree, env.get("PYTHONPATH")) if p)


HUGEPAGES = "+hugepages"
HUGEPAGES_SETTING = "glibc.malloc.hugetlb=1"  # keras_electra.utils.hugepages


def split_name(row_name):
    """`(contender, before, hugepages)` of a row's name.

    "<contender>@before": the same contender, importing keras_electra from
    --before-tree (an earlier checkout), in the same session.
    "<contender>+hugepages": started with glibc's huge pages for malloc
    (`GLIBC_TUNABLES`, as the `keras-electra` command starts itself).
    """
    hugepages = row_name.endswith(HUGEPAGES)
    if hugepages:
        row_name = row_name[: -len(HUGEPAGES)]
    name, _, before = row_name.partition("@")
    return name, bool(before), hugepages


def set_hugepages(env, on):
    """Start a process with or without huge pages for malloc, whatever the
    caller's environment says (and never let `keras-electra` restart
    itself to switch them on)."""
    env.pop("GLIBC_TUNABLES", None)
    env["KERAS_ELECTRA_HUGEPAGES"] = "0"
    if on:
        env["GLIBC_TUNABLES"] = HUGEPAGES_SETTING


def launch(cmd, env, cwd, out, timeout):
    """Run a worker process that writes its JSON result to `out`.

    Returns `(result, stderr)`: the worker's JSON (or a failure with the
    reason) with `process_wall_s` added.
    """
    start = time.perf_counter()
    # Own session, so that a timeout also ends the worker's children
    # (torch.compile's compile workers).
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except KeyboardInterrupt:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        result = {"status": "failed",
                  "reason": f"timeout after {timeout} s"}
    else:
        if os.path.exists(out):
            with open(out) as f:
                result = json.load(f)
        else:
            result = {"status": "failed",
                      "reason": crash_reason(proc.returncode, stderr)}
    result["process_wall_s"] = time.perf_counter() - start
    return result, stderr


def run_worker(row_name, size, config, workload, args, tmp):
    name, before, hugepages = split_name(row_name)
    kind, backend, extra, _ = CONTENDERS[name]
    out = os.path.join(tmp, f"{row_name}_{size}_{workload}.json")
    model = dict(config)
    model["max_sequence_length"] = max(model["max_sequence_length"],
                                       args.seq_len)
    cmd = [
        sys.executable, "-P", WORKER,
        "--contender", kind, *extra,
        "--workload", workload,
        "--model", json.dumps(model),
        "--batch-size", str(args.batch_size),
        "--seq-len", str(args.seq_len),
        "--steps", str(args.steps),
        "--warmup", str(args.warmup),
        "--precision", args.precision,
        "--device", args.device,
        "--seed", str(args.seed),
        "--out", out,
    ]
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(thread_env(args.threads, env))
    if backend:
        env["KERAS_BACKEND"] = backend
    if before:
        put_tree_first(env, args.before_tree)
    # Every row of a run starts with the tunable or every row without, so
    # that ratios compare like with like; --malloc-hugepages both runs each
    # contender both ways.
    set_hugepages(env, hugepages or args.malloc_hugepages == "on")
    result, stderr = launch(cmd, env, tmp, out, args.timeout)
    if result.get("status") != "ok" and args.verbose:
        result["stderr_tail"] = stderr[-4000:]
    result.update(contender=row_name,
                  size=size, workload=workload,
                  batch_size=args.batch_size, seq_len=args.seq_len,
                  precision=args.precision)
    return result


def combine(runs):
    """One row from the passes of one contender: the run whose median step
    time is the median of the passes (the lower middle one for an even
    count: the faster of two), so that its other figures belong to the
    same run; every pass's median is kept as `pass_medians_s`."""
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        return runs[-1]
    ok.sort(key=lambda r: r["median_s"])
    row = dict(ok[(len(ok) - 1) // 2])
    row["pass_medians_s"] = [r["median_s"] for r in runs
                             if r.get("status") == "ok"]
    row["failed_passes"] = len(runs) - len(ok)
    return row


def crash_reason(returncode, stderr):
    """Why a worker died without writing its JSON."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"killed by signal {name} (out of memory?)"
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    errors = [l for l in lines if re.search(r"(Error|Exception)\b", l)
              and not re.match(r"[EWI]\d{4} ", l)]
    last = errors[-1] if errors else (lines[-1] if lines else "no output")
    return f"exit {returncode}: {last[:300]}"


def thread_env(threads, env):
    """Environment limiting every backend to `threads` compute threads."""
    if not threads:
        return {}
    n = str(threads)
    out = {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n,
           "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": "1"}
    if threads == 1:
        # XLA:CPU (JAX, TF with XLA) has no thread-count flag; this turns
        # its Eigen thread pool off.
        flags = env.get("XLA_FLAGS", "")
        out["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false"
                            ).strip()
    return out


def describe(row):
    name = split_name(row["contender"])[0]
    if name.startswith("transformers"):
        return CONTENDERS[name][3]
    return row.get("mode") or "asked: " + " ".join(CONTENDERS[name][2])


def annotate(rows, sizes, peak):
    # The baseline row run the same way: "+hugepages" rows are compared
    # with transformers+hugepages.
    def key(r):
        return r["size"], r["workload"], split_name(r["contender"])[2]

    baseline = {
        key(r): r["median_s"]
        for r in rows
        if split_name(r["contender"])[:2] == (BASELINE, False)
        and r.get("status") == "ok"
    }
    for r in rows:
        r["mode_description"] = describe(r)
        if r.get("status") != "ok":
            continue
        flops = step_flops(sizes[r["size"]], r["workload"], r["batch_size"],
                           r["seq_len"])
        r["flops_per_step"] = flops
        r["gflops_per_s"] = flops / r["median_s"] / 1e9
        r["percent_of_peak"] = 100 * flops / r["median_s"] / peak if peak else None
        base = baseline.get(key(r))
        r["ratio"] = base / r["median_s"] if base else None
        r["tokens_per_s"] = r["batch_size"] * r["seq_len"] / r["median_s"]
        r["sequences_per_s"] = r["batch_size"] / r["median_s"]


def fmt(value, spec):
    return "" if value is None else format(value, spec)


def failure(r):
    return f"**{r.get('status', 'failed')}: {r.get('reason', '?')}**"


def table(rows):
    head = ("| size | workload | contender | mode | s/batch (median) | ratio "
            "| passes: s/batch | first call s | peak RSS MiB | GFLOP/s "
            "| % of peak | sys % |")
    lines = [head, "|" + " --- |" * 12]
    for r in rows:
        cells = [r["size"], r["workload"], r["contender"],
                 r["mode_description"]]
        if r.get("status") == "ok":
            cells += [
                fmt(r["median_s"], ".4f"),
                fmt(r["ratio"], ".2f"),
                " / ".join(f"{t:.3f}" for t in r.get("pass_medians_s", [])),
                fmt(r["first_call_s"], ".2f"),
                fmt(r["max_rss_kb"] / 1024, ".0f"),
                fmt(r["gflops_per_s"], ".1f"),
                fmt(r["percent_of_peak"], ".1f"),
                fmt(100 * r["system_share"] if r["system_share"] is not None
                    else None, ".1f"),
            ]
        else:
            cells += [failure(r)] + [""] * 7
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def quickstart_table(rows):
    head = ("| contender | mode | tokens/s | s/step | ratio | first call s "
            "| user s/step | sys s/step | sys share | minor faults/step "
            "| peak RSS MiB | GFLOP/s | % of peak |")
    lines = [head, "|" + " --- |" * 13]
    for r in rows:
        cells = [r["contender"], r["mode_description"]]
        if r.get("status") == "ok":
            steps = len(r["step_times_s"])
            cells += [
                fmt(r["tokens_per_s"], ".0f"),
                fmt(r["median_s"], ".4f"),
                fmt(r["ratio"], ".2f"),
                fmt(r["first_call_s"], ".2f"),
                fmt(r["user_s"] / steps, ".4f"),
                fmt(r["system_s"] / steps, ".4f"),
                fmt(100 * r["system_share"] if r["system_share"] is not None
                    else None, ".1f") + " %",
                fmt(r["minor_faults_per_step"], ".0f"),
                fmt(r["max_rss_kb"] / 1024, ".0f"),
                fmt(r["gflops_per_s"], ".1f"),
                fmt(r["percent_of_peak"], ".1f"),
            ]
        else:
            cells += [failure(r)] + [""] * 10
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_summary():
    """This machine (`machine` without overrides) and three lines on it:
    the CPU and the load average, the versions, the date."""
    m = machine(argparse.Namespace(ghz=None, flop_per_cycle=None,
                                   peak_gflops=None))
    text = (
        f"- CPU: {m['cpu_model']}, {m['cores']} logical CPUs "
        f"({m['usable_cores']} usable); load average at start "
        + ", ".join(f"{x:.2f}" for x in m["load_average_at_start"] or [])
        + "\n- " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()
                             if v)
        + f"\n- {m['date']}"
    )
    return m, text


def machine_text(m, args):
    v = m["versions"]
    lines = [
        f"- CPU: {m['cpu_model']} ({m['vendor']}, family {m['cpu_family']}), "
        f"{m['cores']} logical CPUs ({m['usable_cores']} usable), "
        f"{fmt(m['ghz'], '.3f')} GHz ({m['clock_source']}), "
        f"ISA: {', '.join(m['isa_flags'])}",
        f"- {m['peak_formula']}",
        *[f"- note: {n}" for n in m["peak_notes"]],
        f"- load average at start: "
        + (", ".join(f"{x:.2f}" for x in m["load_average_at_start"])
           if m["load_average_at_start"] else "unknown"),
        "- versions: " + ", ".join(f"{k} {v[k]}" for k in v if v[k]),
        f"- Python {m['python']}, {m['platform']}, {m['date']}",
        "- threads: " + (f"--threads {args.threads} ("
                         + ", ".join(f"{k}={v}" for k, v in
                                     thread_env(args.threads, {}).items())
                         + ")" if args.threads else "each library's default"),
        "- malloc huge pages (GLIBC_TUNABLES=" + HUGEPAGES_SETTING + "): "
        + {"off": "off for every row",
           "on": "on for every row",
           "both": "each contender without, and again with (+hugepages; "
                   "its ratio against transformers+hugepages)"}[
            args.malloc_hugepages],
        f"- batch {args.batch_size} x {args.seq_len} tokens, "
        f"{args.precision}, median of {args.steps} steps after "
        f"{args.warmup} warm-up (the first timed apart as \"first call\"); "
        f"{args.repeats} pass(es) over the contenders, round robin, each row "
        f"the pass with the median of the passes' medians (the faster of "
        f"two); "
        f"ratio = {BASELINE} time / row time (> 1: faster than "
        f"{BASELINE}); FLOPs analytic, training step = 3 x forward",
    ]
    return "\n".join(lines)


def parse_list(value, allowed, what):
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(bad)} (choose from "
            f"{', '.join(allowed)})")
    return items


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Contenders: " + ", ".join(CONTENDERS),
    )
    p.add_argument("--sizes", default="small,base",
                   type=lambda v: parse_list(v, ("tiny", "small", "base"),
                                             "size"),
                   help="tiny,small,base (default small,base)")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   type=lambda v: parse_list(v, WORKLOADS, "workload"),
                   help="inference,finetune,pretrain (default all)")
    p.add_argument("--contenders", default=",".join(
        c for c in CONTENDERS if not c.endswith("-fit")),
                   type=lambda v: parse_list(v, tuple(CONTENDERS),
                                             "contender"),
                   help="comma-separated (default all)")
    p.add_argument("--steps", type=int, default=None,
                   help="timed steps; the median is reported (default 5, "
                   "--quickstart 20)")
    p.add_argument("--repeats", type=int, default=1,
                   help="passes over the contenders, round robin; a row is "
                   "the pass with the median of the passes' medians (the "
                   "lower middle one for an even count) (default 1)")
    p.add_argument("--warmup", type=int, default=2,
                   help="warm-up steps, the first of them timed as "
                   "'first call' (default 2)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="default 32 (--quickstart: the quick start's 16)")
    p.add_argument("--seq-len", type=int, default=None,
                   help="default 128 (--quickstart: the quick start's 64)")
    p.add_argument("--quickstart", action="store_true",
                   help="pre-training of the quick start's tiny model: "
                   "tokens/s, user/system CPU time, minor faults per step")
    p.add_argument("--precision", choices=("float32", "mixed_bfloat16"),
                   default="float32",
                   help="mixed_bfloat16: Keras' mixed policy; torch.autocast "
                   "for transformers")
    p.add_argument("--device", default="cpu",
                   help="torch device of the transformers contenders (cpu, "
                   "cuda); Keras uses its backend's default device")
    p.add_argument("--timeout", type=float, default=3600,
                   help="seconds per worker process (default 3600)")
    p.add_argument("--threads", type=int, default=None,
                   help="set OMP/MKL/TF thread counts for every worker "
                   "(1 also turns XLA:CPU's thread pool off); default: each "
                   "library's own")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--malloc-hugepages", choices=("off", "on", "both"),
                   default="off",
                   help="start workers with glibc's huge pages for malloc "
                   "(GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which the "
                   "keras-electra command sets for itself): off (default, "
                   "as a library user's process), on, or both (each "
                   "contender twice, as <name> and <name>+hugepages)")
    p.add_argument("--before-tree", metavar="DIR",
                   help="an earlier checkout of this repository (e.g. `git "
                   "worktree add /tmp/before <commit>`): keras-tensorflow, "
                   "keras-jax and keras-torch also run as <name>@before, "
                   "importing "
                   "keras_electra from DIR, in the same session")
    p.add_argument("--ghz", type=float, help="clock for the peak (GHz)")
    p.add_argument("--flop-per-cycle", type=int,
                   help="fp32 FLOP per cycle per core for the peak")
    p.add_argument("--peak-gflops", type=float,
                   help="the peak itself (e.g. a GPU's), in GFLOP/s")
    p.add_argument("--json", metavar="PATH", help="write every row here")
    p.add_argument("--verbose", action="store_true",
                   help="keep failed workers' stderr in the JSON")
    args = p.parse_args(argv)
    if args.quickstart:
        quick = quickstart_config()
        args.sizes = ["tiny"]
        args.workloads = ["pretrain"]
        args.batch_size = args.batch_size or quick["pretrain_batch_size"]
        args.seq_len = args.seq_len or quick["sequence_length"]
        args.steps = args.steps or 20
    args.batch_size = args.batch_size or 32
    args.seq_len = args.seq_len or 128
    args.steps = args.steps or 5
    if min(args.steps, args.warmup, args.batch_size, args.seq_len,
           args.repeats) < 1:
        p.error("--steps, --warmup, --batch-size, --seq-len and --repeats "
                "must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    sizes, _ = model_sizes()
    m = machine(args)
    print("## Machine\n\n" + machine_text(m, args) + "\n", flush=True)
    rows = []
    # Ctrl-C stops the run and still prints what was measured.
    try:
        with tempfile.TemporaryDirectory(prefix="electra_speed_") as tmp:
            for size in args.sizes:
                for workload in args.workloads:
                    names = list(args.contenders)
                    if args.before_tree:
                        names += [f"{n}@before" for n in args.contenders
                                  if n in BEFORE_CONTENDERS]
                    if args.malloc_hugepages == "both":
                        names += [n + HUGEPAGES for n in names]
                    passes = {name: [] for name in names}
                    # Round robin: the machine's speed drifts, so every
                    # contender gets a run in each pass.
                    for repeat in range(args.repeats):
                        for name in names:
                            print(f"... {size} {workload} {name} (pass "
                                  f"{repeat + 1}/{args.repeats})",
                                  file=sys.stderr, flush=True)
                            row = run_worker(name, size, sizes[size],
                                             workload, args, tmp)
                            status = (f"{row['median_s']:.4f} s/batch"
                                      if row.get("status") == "ok"
                                      else failure(row))
                            print(f"    {status} "
                                  f"({row['process_wall_s']:.0f} s)",
                                  file=sys.stderr, flush=True)
                            passes[name].append(row)
                    rows += [combine(passes[name]) for name in names]
    except KeyboardInterrupt:
        print("interrupted: printing the rows measured so far",
              file=sys.stderr)
    annotate(rows, sizes, m["peak_flops"])
    if args.quickstart:
        print("## Quick start pre-training (tiny model, "
              f"{args.batch_size} x {args.seq_len} tokens)\n")
        print(quickstart_table(rows))
    else:
        print("## Speed\n")
        print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": m, "args": vars(args), "sizes": sizes,
                       "rows": rows}, f, indent=1, default=str)
        print(f"\n(wrote {args.json})")
    return 0 if all(r.get("status") == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
