"""Tokens per second of the quick start's own pre-training, end to end.

Run by hand, never by CI. Where `speed.py --quickstart` times bare
`train_on_batch` calls, this runs the real command a user runs,
`keras-electra pretrain` (the quick start's `--from-scratch` model and
batch by default, or `--preset`), in a fresh process per backend, and
reports what the user waits for:

- `fit_seconds` of the command's own `results.json` (tf.data input,
  tracing, checkpoints every `--log-every` steps, the curves), and
  tokens/s = steps x batch x sequence length / fit seconds;
- the process's user and system CPU time and minor page faults
  (`os.wait4`), so the kernel's share shows.

With `--before-tree DIR` (an earlier checkout, e.g. `git worktree add
/tmp/before <commit>`) each backend also runs with keras_electra imported
from DIR, in the same session, so that the two can be compared.

With `--malloc-hugepages both` (the default) each run happens twice:
without glibc's huge pages for malloc and with them
(`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, which the installed
`keras-electra` script sets for itself; see
`keras_electra/utils/hugepages.py`). This script starts the command with
`python -m`, which does not restart itself, so it sets the variable.

    python benchmarks/cli_pretraining_speed.py --steps 150
    python benchmarks/cli_pretraining_speed.py --steps 150 \\
        --backends tensorflow --before-tree /tmp/before
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# This folder: the speed driver.
from speed import put_tree_first
from speed import set_hugepages


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backends", default="tensorflow,jax,torch")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--preset", default=None,
                   help="continue pre-training this preset (default: the "
                   "quick start's --from-scratch model)")
    p.add_argument("--before-tree", metavar="DIR", default=None)
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--malloc-hugepages", choices=("off", "on", "both"),
                   default="both")
    return p.parse_args(argv)


def run(backend, args, tree=None, hugepages=False):
    out = tempfile.mkdtemp(prefix="cli_pretrain_")
    cmd = [sys.executable, "-P", "-m", "keras_electra.cli", "pretrain",
           "--backend", backend, "--steps", str(args.steps), "--quiet",
           "--output-dir", out]
    if args.preset:
        cmd += ["--preset", args.preset]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if tree:
        put_tree_first(env, tree)
    set_hugepages(env, hugepages)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=out, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    row = {"backend": backend, "tree": tree or "this checkout",
           "hugepages": hugepages,
           "wall_s": wall, "user_s": usage.ru_utime,
           "system_s": usage.ru_stime, "minor_faults": usage.ru_minflt,
           "max_rss_mib": usage.ru_maxrss / 1024, "status": status}
    results = os.path.join(out, "results.json")
    if status != 0 or not os.path.exists(results):
        row["error"] = (stderr or stdout)[-600:]
        return row
    with open(results) as f:
        pre = json.load(f)["pretraining"]
    tokens = pre["steps"] * pre["batch_size"] * pre["sequence_length"]
    row.update(fit_s=pre["fit_seconds"], steps=pre["steps"],
               tokens=tokens, tokens_per_s=tokens / pre["fit_seconds"])
    return row


def main(argv=None):
    args = parse_args(argv)
    rows = []
    trees = [None] + ([args.before_tree] if args.before_tree else [])
    modes = {"off": [False], "on": [True], "both": [False, True]}[
        args.malloc_hugepages]
    for backend in args.backends.split(","):
        for tree in trees:
            for hugepages in modes:
                print(f"... {backend} {tree or 'this checkout'} "
                      f"hugepages={hugepages}", file=sys.stderr, flush=True)
                rows.append(run(backend, args, tree, hugepages))
    print("| backend | keras_electra from | malloc huge pages | steps | fit s "
          "| tokens/s | process wall s | user s | sys s | sys share "
          "| minor faults/step |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
          "| --- |")
    for r in rows:
        if "error" in r:
            print(f"| {r['backend']} | {r['tree']} | "
                  f"{'on' if r['hugepages'] else 'off'} | failed: "
                  f"{r['error'][-200:]!r} |")
            continue
        cpu = r["user_s"] + r["system_s"]
        print(f"| {r['backend']} | {r['tree']} | "
              f"{'on' if r['hugepages'] else 'off'} | {r['steps']} | "
              f"{r['fit_s']:.1f} | {r['tokens_per_s']:,.0f} | "
              f"{r['wall_s']:.1f} | {r['user_s']:.1f} | {r['system_s']:.1f} "
              f"| {100 * r['system_s'] / cpu:.0f}% | "
              f"{r['minor_faults'] / r['steps']:,.0f} |")
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
