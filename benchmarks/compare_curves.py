"""Two learning curves side by side at equal pre-training compute, paired
by fine-tuning draw.

Reads the JSON lines of two `benchmarks/learning_curve.py` runs (for
example replaced token detection and masked-LM pre-training of the same
network), pairs each point of the first with the point of the second
nearest in training FLOPs, and prints a Markdown table: both accuracies
(mean ± sd over the draws) and their per-draw difference (mean ± sd). The
draws are the same in both curves (`--draws N` uses training draws
0..N-1), so the difference is paired. Points at 0 FLOPs (random weights,
the same network in both) are left out.

    python benchmarks/compare_curves.py \
        benchmarks/runs/rtd_bundled_model/curve.jsonl \
        benchmarks/runs/masked_lm/curve.jsonl \
        --names RTD masked-LM
"""

import argparse
import json

# The quick start's own mean +- sd (sample sd), as `learning_curve.py` uses.
from keras_electra.cli.quickstart import mean_sd


def read_curve(path):
    with open(path, encoding="utf-8") as f:
        points = [json.loads(line) for line in f if line.strip()]
    return sorted(points, key=lambda p: p["pretraining_flops"])


def formatted(values):
    summary = mean_sd(values)
    return f"{summary['mean']:.3f} ± {summary['sd']:.3f}"


def nearest(points, flops):
    return min(points, key=lambda p: abs(p["pretraining_flops"] - flops))


def compare(first, second, names):
    first = [p for p in first if p["pretraining_flops"] > 0]
    second = [p for p in second if p["pretraining_flops"] > 0]
    a, b = names
    rows = [
        f"| {a} steps | {b} steps | FLOPs ({a} / {b}) | {a} accuracy | "
        f"{b} accuracy | {a} − {b}, paired |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for point in first:
        flops = point["pretraining_flops"]
        other = nearest(second, flops)
        x, y = point["accuracies"], other["accuracies"]
        if len(x) != len(y):
            raise ValueError(
                f"{a} at step {point['steps']} has {len(x)} draws, {b} at "
                f"step {other['steps']} has {len(y)}: not paired."
            )
        rows.append(
            f"| {point['steps']:,} | {other['steps']:,} | "
            f"{flops:.1e} / {other['pretraining_flops']:.1e} | "
            f"{formatted(x)} | {formatted(y)} | "
            f"{formatted([u - v for u, v in zip(x, y)])} |"
        )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", help="curve.jsonl of the first run")
    parser.add_argument("second", help="curve.jsonl of the second run")
    parser.add_argument("--names", nargs=2, default=("first", "second"))
    args = parser.parse_args()
    print(compare(read_curve(args.first), read_curve(args.second), args.names))


if __name__ == "__main__":
    main()
