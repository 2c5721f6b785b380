"""Fine-tune `ElectraTokenClassifier` on WNUT-16 NER and report entity F1.

Data: tests/data/ner/wnut16_train.conll.gz (the WNUT-16 training tweets,
BIO tags, 10 entity types). The last 300 tweets are held out for
evaluation (entity-level precision/recall/F1, conlleval/seqeval rules).

By default it fine-tunes the pre-trained model bundled with the package
(`electra_tiny_gutenberg_en`, its own uncased tokenizer); `--preset` names
another checkpoint (its own tokenizer and Google's recipe). With
`--random-init` a tiny model trained from scratch uses a cased vocabulary of
the training words (plus characters), since capitalisation matters for NER.
Entity words weigh 5x in the loss (`--entity-weight`), which gets a model
past the "everything is O" stage quickly.

    python examples/finetune_ner.py                 # the bundled model
    python examples/finetune_ner.py --epochs 1 --max-train 300 \\
        --test-size 100                                 # a quick smoke run
    python examples/finetune_ner.py --preset electra_small_discriminator_en --epochs 3
"""

import argparse
import os
import sys
import time

import numpy as np
from keras import ops

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

import keras_electra  # noqa: E402
from keras_electra.finetuning import read_conll  # noqa: E402
from keras_electra.finetuning import vocabulary_from_words  # noqa: E402

WNUT = os.path.join(common.TEST_DATA, "ner", "wnut16_train.conll.gz")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entity-weight", type=float, default=5.0)
    parser.add_argument("--test-size", type=int, default=300)
    parser.add_argument(
        "--max-train", type=int, default=None,
        help="Train on the first N training tweets only (default: all).",
    )
    common.add_common_arguments(
        parser, epochs=4, sequence_length=48, learning_rate=2e-3
    )
    args = parser.parse_args()
    common.set_seed(args.seed)

    sentences = read_conll(WNUT)
    train, test = sentences[: -args.test_size], sentences[-args.test_size :]
    train = train[: args.max_train]
    labels = sorted({t for _, tags in sentences for t in tags},
                    key=lambda t: (t != "O", t))
    label_ids = {t: i for i, t in enumerate(labels)}

    tokenizer = None
    if args.random_init:
        tokenizer = keras_electra.ElectraTokenizer(
            vocabulary=vocabulary_from_words(
                w for words, _ in train for w in words
            ),
            lowercase=False,
        )
    tagger = common.build_task(
        keras_electra.ElectraTokenClassifier,
        keras_electra.ElectraTokenClassifierPreprocessor,
        args,
        tokenizer=tokenizer,
        label_names=labels,
    )
    common.compile_task(tagger, args, len(train), tiny_learning_rate=2e-3)

    # Tokenize and align once, then weight entity words up.
    preprocessor = tagger.preprocessor
    x, y, weights = preprocessor(
        x=[words for words, _ in train],
        y=[[label_ids[t] for t in tags] for _, tags in train],
    )
    x = {k: ops.convert_to_numpy(v) for k, v in x.items()}
    y = ops.convert_to_numpy(y)
    weights = ops.convert_to_numpy(weights)
    weights = weights * np.where(y > 0, args.entity_weight, 1.0)

    start = time.time()
    tagger.preprocessor = None  # the arrays are preprocessed already
    tagger.fit(common.shuffled_batches(x, y, args, sample_weight=weights),
               epochs=args.epochs, verbose=2)
    tagger.preprocessor = preprocessor

    scores = tagger.evaluate_entities(
        [words for words, _ in test], [tags for _, tags in test]
    )
    for entity_type, s in scores["per_type"].items():
        print(f"  {entity_type:12s} F1 {s['f1']:.3f} (support {s['support']})")
    print(
        f"WNUT-16 held-out entity F1 {scores['f1']:.4f} (precision "
        f"{scores['precision']:.4f}, recall {scores['recall']:.4f}) on "
        f"{len(test)} tweets; {time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
