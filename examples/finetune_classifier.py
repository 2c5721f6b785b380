"""Fine-tune `ElectraClassifier` on raw strings and report test accuracy.

Data (offline, in the repository):
- `authors` (default): the bundled author task (`keras_electra.data.
  author_task`): 48-word passages of four public-domain novels, labelled
  with their author (Austen, Dickens, Verne, Wells); training passages
  from some chapters, test passages from held-out chapters;
  `--train-per-class` / `--test-per-class` set its size;
- `polarity`: the 200 movie-review sentences (positive/negative) of
  tests/data/classification/polarity.tsv, split 160/40; a smoke test: far
  too small for a model trained from scratch (it stays near chance with
  `--random-init`).

By default the pre-trained model bundled with the package
(`electra_tiny_gutenberg_en`) is fine-tuned; `--preset` names another,
`--random-init` trains a tiny model from random weights.

    python examples/finetune_classifier.py            # bundled model, authors
    python examples/finetune_classifier.py --data polarity
    python examples/finetune_classifier.py --epochs 1 --train-per-class 16 \\
        --test-per-class 8                                 # a quick smoke run
    python examples/finetune_classifier.py --preset electra_small_discriminator_en
"""

import argparse
import csv
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

import keras_electra  # noqa: E402
import keras_electra.data  # noqa: E402

POLARITY = os.path.join(common.TEST_DATA, "classification", "polarity.tsv")


def load_authors(train_per_class, test_per_class):
    """The bundled author task, as (text, label name) pairs."""
    task = keras_electra.data.author_task(
        train_per_class=train_per_class, test_per_class=test_per_class
    )
    names = task["label_names"]
    train = [(text, names[label]) for text, label in task["train"]]
    test = [(text, names[label]) for text, label in task["test"]]
    return train, test, names


def load_polarity(seed):
    with keras_electra.data.open_text(POLARITY) as f:
        rows = [
            (r["text"], r["label"])
            for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]
    random.Random(seed).shuffle(rows)
    return rows[:160], rows[160:]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", choices=("authors", "polarity"), default="authors"
    )
    parser.add_argument(
        "--train-per-class", type=int, default=500,
        help="Author task: training passages per author (at most 995).",
    )
    parser.add_argument(
        "--test-per-class", type=int, default=100,
        help="Author task: test passages per author (at most 238).",
    )
    common.add_common_arguments(
        parser, epochs=3, sequence_length=128, learning_rate=1e-3
    )
    args = parser.parse_args()
    common.set_seed(args.seed)

    if args.data == "authors":
        train, test, labels = load_authors(
            args.train_per_class, args.test_per_class
        )
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
