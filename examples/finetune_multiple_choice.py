"""Fine-tune `ElectraMultipleChoice` and report accuracy.

There is no multiple-choice data set offline, so this example builds one
from the BBC news articles in ../shared/data/classification/bbc_news.tsv.gz:
the prompt is the start of an article and the choices are four topic names
(the right one and three others, in random order); the model scores each
(prompt, choice) pair and must pick the article's topic. Train and test
questions come from the data set's own train/test split.

    python examples/finetune_multiple_choice.py
    python examples/finetune_multiple_choice.py --preset electra_small_discriminator_en
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
TOPICS = {
    "business": "business and economy",
    "entertainment": "entertainment and film",
    "politics": "politics and government",
    "sport": "sport",
    "tech": "technology",
}


def load_questions(rng, prompt_words, num_choices):
    splits = {"train": [], "test": []}
    with gzip.open(BBC, "rt", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            prompt = " ".join(row["text"].split()[:prompt_words])
            topic = next(t for t in TOPICS if row["label"].startswith(t))
            others = rng.sample([t for t in TOPICS if t != topic],
                                num_choices - 1)
            choices = others + [topic]
            rng.shuffle(choices)
            splits[row["split"]].append(
                (prompt, [TOPICS[c] for c in choices], choices.index(topic))
            )
    return splits["train"], splits["test"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompt-words", type=int, default=40)
    parser.add_argument("--num-choices", type=int, default=4)
    parser.add_argument("--max-train", type=int, default=2000)
    common.add_common_arguments(
        parser, epochs=3, sequence_length=64, learning_rate=2e-3
    )
    args = parser.parse_args()
    common.set_seed(args.seed)
    rng = random.Random(args.seed)
    train, test = load_questions(rng, args.prompt_words, args.num_choices)
    rng.shuffle(train)
    train = train[: args.max_train]

    # A tiny model from scratch scores choices straight from [CLS]: with
    # the summary projection (two small random matrices in a row) it sits
    # on "all choices equal" for a long time. Presets keep transformers'
    # summary (projection + GELU).
    tiny_head = {} if args.preset else {
        "summary_use_proj": False, "summary_activation": None
    }
    model = common.build_task(
        keras_electra.ElectraMultipleChoice,
        keras_electra.ElectraMultipleChoicePreprocessor,
        args,
        **tiny_head,
    )
    common.compile_task(model, args, len(train), tiny_learning_rate=2e-3)

    def inputs(questions):
        return ([q[0] for q in questions], [q[1] for q in questions])

    start = time.time()
    model.fit(
        inputs(train),
        np.array([q[2] for q in train]),
        batch_size=args.batch_size,
        epochs=args.epochs,
        verbose=2,
    )
    logits = model.predict(inputs(test), batch_size=64, verbose=0)
    accuracy = float(
        (np.asarray(logits).argmax(-1) == np.array([q[2] for q in test])).mean()
    )
    print(
        f"BBC topic multiple choice ({args.num_choices} choices): test "
        f"accuracy {accuracy:.4f} on {len(test)} questions (chance "
        f"{1 / args.num_choices:.2f}); {time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
