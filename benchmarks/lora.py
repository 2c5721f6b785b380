"""LoRA against full fine-tuning on the quick start's author task.

The quick start's fine-tuning (`keras_electra.cli.quickstart.FineTuningRuns`:
the bundled pre-trained model, 64 tokens, 15 epochs of batches of 16,
32 passages per author, a fixed test set of 100 per author) over several
draws, once with every weight trained and once with
`backbone.enable_lora(rank)` (only the attention's query and value adapters
and the classification head train). Each (contender, draw) runs in its own
process, so that its peak resident memory is its own; within each draw the
contenders run one after the other, so that the machine's load falls on
them alike. Prints one JSON line per run, then a Markdown table: test
accuracy mean +- sd over the draws, the trainable share of the weights,
the median training step time (the first epoch, which traces, left out),
the median peak resident memory of the process, and the bytes of the
trained weights plus the optimizer's state.

    KERAS_BACKEND=tensorflow python benchmarks/lora.py --draws 5 --rank 4
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def contender_names(args):
    return ["full"] + [f"lora{args.rank}@{lr:g}" for lr in args.lora_learning_rates]


def worker(args):
    import types

    import keras
    import numpy as np

    from keras_electra import data as bundled
    from keras_electra.cli.labelled_data import task_data
    from keras_electra.cli.quickstart import FineTuningRuns
    from keras_electra.cli.shared import QUICKSTART

    name = args.worker
    lora = name != "full"
    learning_rate = (
        float(name.split("@")[1]) if lora else QUICKSTART["finetune_learning_rate"]
    )
    seed = args.seed
    task = task_data(
        bundled.author_task(
            train_per_class=QUICKSTART["train_per_class"],
            test_per_class=QUICKSTART["test_per_class"],
            train_seed=seed,
        ),
        "author",
    )
    settings = types.SimpleNamespace(
        seed=seed,
        sequence_length=QUICKSTART["sequence_length"],
        finetune_epochs=QUICKSTART["finetune_epochs"],
        finetune_batch_size=QUICKSTART["finetune_batch_size"],
        finetune_learning_rate=learning_rate,
        layerwise_lr_decay=None,
        quiet=True,
    )

    class Runs(FineTuningRuns):
        def _build(self, seed, random_init):
            classifier = super()._build(seed, random_init)
            if lora:
                classifier.backbone.enable_lora(args.rank)
            return classifier

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch > 0:  # the first epoch traces the step
                self.times.append(time.perf_counter() - self.start)

    runs = Runs(settings, QUICKSTART["preset"], task)
    timer = StepTimer()
    result = runs.run(task, seed, random_init=False, callbacks=[timer])
    classifier = runs.classifier

    def size(variables):
        return int(sum(np.prod(v.shape) for v in variables))

    trained = size(classifier.trainable_weights)
    total = size(classifier.weights)
    optimizer_state = size(
        v for v in classifier.optimizer.variables if len(v.shape) > 0
    )
    print(json.dumps({
        "contender": name,
        "seed": seed,
        "test_accuracy": result["test_accuracy"],
        "trainable": trained,
        "weights": total,
        "trainable_share": trained / total,
        "step_ms": 1000 * statistics.median(timer.times),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "trained_plus_optimizer_mb": 4 * (trained + optimizer_state) / 2**20,
    }), flush=True)


def mean_sd(values):
    return f"{statistics.mean(values):.3f} +- {statistics.stdev(values):.3f}"


def table(rows, names):
    lines = [
        "| fine-tuning | test accuracy (mean +- sd) | trainable share | "
        "step time, median | peak RSS, median | trained weights + "
        "optimizer state |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        mine = [r for r in rows if r["contender"] == name]
        if not mine:
            continue
        accuracy = [r["test_accuracy"] for r in mine]
        lines.append(
            f"| {name} | {mean_sd(accuracy) if len(mine) > 1 else accuracy[0]}"
            f" ({len(mine)} draws) "
            f"| {100 * mine[0]['trainable_share']:.2f}% "
            f"({mine[0]['trainable']:,} of {mine[0]['weights']:,}) "
            f"| {statistics.median(r['step_ms'] for r in mine):.1f} ms "
            f"| {statistics.median(r['peak_rss_mb'] for r in mine):.0f} MB "
            f"| {mine[0]['trained_plus_optimizer_mb']:.2f} MB |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--rank", type=int, default=4)
    parser.add_argument(
        "--lora-learning-rates", type=float, nargs="+", default=[5e-4, 2e-3],
        help="LoRA's learning rates (full fine-tuning: the quick start's)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    names = contender_names(args)
    rows = []
    for seed in range(args.draws):
        for name in names:
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--worker", name,
                 "--seed", str(seed), "--rank", str(args.rank)],
                stdout=subprocess.PIPE, check=True, text=True,
            ).stdout
            row = json.loads(out.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(table(rows, names))


if __name__ == "__main__":
    main()
