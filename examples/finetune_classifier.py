"""Fine-tune `ElectraClassifier` on raw strings and report test accuracy.

Data (offline, from ../shared/data/classification):
- `bbc` (default): BBC news articles, 5 topics, its train/test split;
- `polarity`: 200 movie-review sentences (positive/negative), split 160/40;
  a smoke test: far too small for a model trained from scratch (it stays
  near chance), meant for `--preset`.

    python examples/finetune_classifier.py                 # tiny model, BBC
    python examples/finetune_classifier.py --data polarity
    python examples/finetune_classifier.py --preset electra_small_discriminator_en
"""

import argparse
import csv
import gzip
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

import keras_electra  # noqa: E402

BBC = os.path.join(common.SHARED_DATA, "classification", "bbc_news.tsv.gz")
POLARITY = os.path.join(common.SHARED_DATA, "classification", "polarity.tsv")


def load_bbc(max_words):
    train, test = [], []
    with gzip.open(BBC, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            text = " ".join(row["text"].split()[:max_words])
            (test if row["split"] == "test" else train).append(
                (text, row["label"])
            )
    return train, test


def load_polarity(seed):
    with open(POLARITY, encoding="utf-8") as f:
        rows = [
            (r["text"], r["label"])
            for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]
    random.Random(seed).shuffle(rows)
    return rows[:160], rows[160:]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", choices=("bbc", "polarity"), default="bbc")
    common.add_common_arguments(
        parser, epochs=3, sequence_length=128, learning_rate=1e-3
    )
    args = parser.parse_args()
    common.set_seed(args.seed)

    if args.data == "bbc":
        # Headline and first paragraph(s) are enough to tell the topic.
        train, test = load_bbc(max_words=2 * args.sequence_length)
    else:
        train, test = load_polarity(args.seed)
    labels = sorted({label for _, label in train})
    label_ids = {label: i for i, label in enumerate(labels)}
    random.Random(args.seed).shuffle(train)

    classifier = common.build_task(
        keras_electra.ElectraClassifier,
        keras_electra.ElectraTextClassifierPreprocessor,
        args,
        num_classes=len(labels),
    )
    common.compile_task(classifier, args, len(train), tiny_learning_rate=1e-3)

    start = time.time()
    classifier.fit(
        x=[text for text, _ in train],
        y=np.array([label_ids[label] for _, label in train]),
        batch_size=args.batch_size,
        epochs=args.epochs,
        verbose=2,
    )
    logits = classifier.predict(
        [text for text, _ in test], batch_size=64, verbose=0
    )
    predicted = np.asarray(logits).argmax(-1)
    gold = np.array([label_ids[label] for _, label in test])
    accuracy = float((predicted == gold).mean())
    majority = max(np.bincount(gold)) / len(gold)
    print(
        f"{args.data}: test accuracy {accuracy:.4f} on {len(test)} examples "
        f"({len(labels)} classes; majority class {majority:.4f}; "
        f"{time.time() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
