"""Fine-tune `ElectraMultipleChoice` and report accuracy.

There is no multiple-choice data set offline, so this example builds one
from the author task bundled with the package (`keras_electra.data.
author_task`: passages of four public-domain novels, one per author): the
prompt is a passage (its first `--prompt-words` words) and the choices are
the four authors with their novels ("Jane Austen, Pride and Prejudice",
...) in random order; the model scores each (prompt, choice) pair and must
pick the passage's author. Train and test questions come from the task's
own split (test passages from held-out chapters). By default it fine-tunes
the pre-trained model bundled with the package (`electra_tiny_gutenberg_en`);
`--preset` names another, `--random-init` trains a tiny model from scratch.

    python examples/finetune_multiple_choice.py
    python examples/finetune_multiple_choice.py --epochs 1 \\
        --train-per-class 16 --test-per-class 8       # a quick smoke run
    python examples/finetune_multiple_choice.py --preset electra_small_discriminator_en
"""

import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

import keras_electra  # noqa: E402
import keras_electra.data  # noqa: E402

# The choice text of each author-task label.
AUTHORS = {
    "austen": "Jane Austen, Pride and Prejudice",
    "dickens": "Charles Dickens, Great Expectations",
    "verne": "Jules Verne, Twenty Thousand Leagues Under the Sea",
    "wells": "H. G. Wells, The War of the Worlds",
}


def load_questions(rng, prompt_words, num_choices, train_per_class,
                   test_per_class):
    task = keras_electra.data.author_task(
        train_per_class=train_per_class, test_per_class=test_per_class
    )
    names = task["label_names"]
    splits = {}
    for split in ("train", "test"):
        splits[split] = []
        for text, label in task[split]:
            prompt = " ".join(text.split()[:prompt_words])
            author = names[label]
            others = rng.sample([a for a in names if a != author],
                                num_choices - 1)
            choices = others + [author]
            rng.shuffle(choices)
            splits[split].append(
                (prompt, [AUTHORS[c] for c in choices], choices.index(author))
            )
    return splits["train"], splits["test"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompt-words", type=int, default=40)
    parser.add_argument("--num-choices", type=int, default=4)
    parser.add_argument("--max-train", type=int, default=2000)
    parser.add_argument(
        "--train-per-class", type=int, default=500,
        help="Training passages per author (at most 995).",
    )
    parser.add_argument(
        "--test-per-class", type=int, default=100,
        help="Test passages per author (at most 238).",
    )
    common.add_common_arguments(
        parser, epochs=3, sequence_length=64, learning_rate=2e-3
    )
    args = parser.parse_args()
    common.set_seed(args.seed)
    rng = random.Random(args.seed)
    if not 2 <= args.num_choices <= len(AUTHORS):
        parser.error(f"--num-choices must be in 2..{len(AUTHORS)}")
    train, test = load_questions(
        rng, args.prompt_words, args.num_choices, args.train_per_class,
        args.test_per_class,
    )
    rng.shuffle(train)
    train = train[: args.max_train]

    # A tiny model from scratch (`--random-init`) scores choices straight
    # from [CLS]: with the summary projection (two small random matrices in
    # a row) it sits on "all choices equal" for a long time. Pre-trained
    # models keep transformers' summary (projection + GELU).
    tiny_head = {} if not args.random_init else {
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
        f"Author multiple choice ({args.num_choices} choices): test "
        f"accuracy {accuracy:.4f} on {len(test)} questions (chance "
        f"{1 / args.num_choices:.2f}); {time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
