"""Does the quick start's pre-training help? Pre-train one variant, then
fine-tune it and the same model from random weights on the bundled task.

The measurements behind README.md, "The bundled task, and what the quick
start measured". One run = one pre-training variant. It prints a JSON line
per `--task-seed` (the test accuracy of both fine-tuned models), then one
with everything: the end of the pre-training curve, and how much the
discriminator's final hidden states still vary (about 0.85 for random
weights, near 0 for a collapsed discriminator).

Variants (all on the quick start's tiny model and data):

* `--tie-all`: the generator is the discriminator's own network plus the
  masked-LM head (`ElectraPretrainer(tie_all_weights=True)`; ELECTRA
  paper, section 3.2, "tying all weights"). Default: Google's separate
  generator, 1/4 of the width, sharing only the embeddings.
* `--freeze-embeddings`: keep the (shared) word, position and segment
  embeddings and their LayerNorm at their random initial values; only the
  transformer layers and heads are pre-trained.
* `--prior-bias`: start the discriminator's output bias at the log-odds of
  the masking rate, so that the untrained discriminator already predicts
  the base rate (Google's code starts it at 0).
* `--vocab-min-count N`: pre-train and fine-tune with only the WordPieces
  of BERT's vocabulary that the chapters use at least N times (plus the
  special tokens and single characters) instead of all 30,522.

The best variant we found (README, "What else we measured"):

    KERAS_BACKEND=tensorflow python benchmarks/quickstart_pretraining.py \
        --tie-all --freeze-embeddings --prior-bias --steps 2000 \
        --task-seed 0 1234 7
"""

import argparse
import json
import math
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

import keras_electra
from keras_electra import data as bundled
from keras_electra.cli.shared import QUICKSTART
from keras_electra.cli.finetune import accuracy_of
from keras_electra.cli.finetune import build_classifier
from keras_electra.cli.finetune import predict_classes
from keras_electra.cli.pretrain import new_pretrainer
from keras_electra.cli.pretrain import write_corpus
from keras_electra.finetuning import create_optimizer
from keras_electra.pretraining import PretrainingData


def build_pretrainer(args, tokenizer):
    """The quick start's architecture with this run's levers, from the
    command line's builder."""
    recipe = argparse.Namespace(
        **{
            key: QUICKSTART[key]
            for key in (
                "num_layers", "num_heads", "hidden_dim", "embedding_dim",
                "sequence_length", "generator_hidden_fraction",
            )
        },
        tie_all_weights=args.tie_all,
        mask_probability=args.mask_probability,
        freeze_embeddings=args.freeze_embeddings,
        prior_bias=args.prior_bias,
    )
    return new_pretrainer(tokenizer, args.seed, recipe)


def corpus_vocabulary(vocabulary, documents, min_count):
    """The tokens of `vocabulary` that WordPiece uses at least `min_count`
    times on `documents`, plus the special tokens and every single ASCII
    character (alone and as a `##` continuation, so that any English word
    still has a tokenization), in `vocabulary`'s order."""
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocabulary)
    lines = [line for document in documents for line in document]
    counts = np.zeros(len(vocabulary), "int64")
    for start in range(0, len(lines), 1024):
        ids = tokenizer(tf.constant(lines[start : start + 1024]))
        if isinstance(ids, tf.RaggedTensor):
            ids = ids.flat_values.numpy()
        else:  # Python lists on the JAX and PyTorch backends.
            ids = np.concatenate([np.asarray(i, "int64") for i in ids])
        counts += np.bincount(ids, minlength=len(vocabulary))
    keep = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
    keep |= {c for c in map(chr, range(33, 127))}
    keep |= {"##" + c for c in map(chr, range(33, 127))}
    return [
        t for i, t in enumerate(vocabulary) if counts[i] >= min_count or t in keep
    ]


def hidden_state_spread(backbone, preprocessor, texts):
    """Mean over dimensions of the std of the final hidden states over all
    tokens of `texts`: about 0.85 for random weights, ~0 when collapsed."""
    x = preprocessor(tf.constant(texts))
    x = x[0] if isinstance(x, tuple) else x
    h = keras.ops.convert_to_numpy(backbone(x))
    mask = keras.ops.convert_to_numpy(x["padding_mask"]).astype(bool)
    return float(h[mask].std(0).mean())


def finetune(preset, random_init, task, epochs, seed):
    classifier = build_classifier(
        preset, 4, seed, random_init, QUICKSTART["sequence_length"]
    )
    x = [t for t, _ in task["train"]]
    y = np.array([label for _, label in task["train"]])
    batch = QUICKSTART["finetune_batch_size"]
    steps = epochs * math.ceil(len(x) / batch)
    classifier.compile(
        optimizer=create_optimizer(
            classifier,
            learning_rate=QUICKSTART["finetune_learning_rate"],
            num_train_steps=steps,
        ),
        metrics=["accuracy"],
    )
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch)
    )
    classifier.fit(dataset, epochs=epochs, verbose=0)
    test_x = [t for t, _ in task["test"]]
    test_y = np.array([label for _, label in task["test"]])
    return accuracy_of(predict_classes(classifier, test_x, 64), test_y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tie-all", action="store_true")
    parser.add_argument("--prior-bias", action="store_true")
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--steps", type=int, default=QUICKSTART["pretrain_steps"])
    parser.add_argument(
        "--learning-rate", type=float, default=QUICKSTART["pretrain_learning_rate"]
    )
    parser.add_argument("--mask-probability", type=float, default=0.15)
    parser.add_argument("--finetune-epochs", type=int, default=30)
    parser.add_argument("--train-per-class", type=int, default=32)
    parser.add_argument(
        "--task-seed", type=int, nargs="+", default=[bundled.TASK_SEED]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--vocab-min-count",
        type=int,
        default=0,
        help="0: BERT's whole vocabulary; N: only the tokens WordPiece uses "
        "at least N times on the pre-training chapters (plus specials and "
        "single characters)",
    )
    args = parser.parse_args()
    if args.steps < 1 or (args.steps > 100 and args.steps % 100):
        parser.error(
            f"--steps {args.steps}: must be 1-100 or a multiple of 100"
        )

    vocabulary = bundled.vocabulary()
    if args.vocab_min_count:
        vocabulary = corpus_vocabulary(
            vocabulary, bundled.pretraining_documents(), args.vocab_min_count
        )
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocabulary)
    pretrainer = build_pretrainer(args, tokenizer)
    pretrainer.compile(
        learning_rate=args.learning_rate,
        num_train_steps=args.steps,
        warmup_steps=args.steps // 10,
    )
    work = tempfile.mkdtemp(prefix="quickstart_pretraining_")
    files = write_corpus(
        bundled.pretraining_documents(), os.path.join(work, "corpus"), "chapter"
    )
    data = PretrainingData(
        files,
        tokenizer,
        sequence_length=QUICKSTART["sequence_length"],
        batch_size=QUICKSTART["pretrain_batch_size"],
        seed=args.seed,
        shuffle_buffer_size=QUICKSTART["shuffle_buffer"],
    )
    start = time.time()
    per_epoch = min(100, args.steps)
    history = pretrainer.fit(
        data.dataset(),
        steps_per_epoch=per_epoch,
        epochs=args.steps // per_epoch,
        verbose=0,
    ).history
    seconds = time.time() - start
    preset = os.path.join(work, "discriminator")
    pretrainer.save_discriminator_preset(preset)

    result = {
        "variant": {k: v for k, v in vars(args).items() if k != "task_seed"},
        "backend": keras.config.backend(),
        "pretrain_seconds": round(seconds, 1),
        # The corpus and the pre-trained discriminator (kept for a look).
        "work_dir": work,
        "vocabulary_size": len(vocabulary),
        "end": {k: round(v[-1], 4) for k, v in history.items()},
        "tasks": [],
    }
    # Every 10th test passage of the default task draw.
    default_task = bundled.author_task(train_per_class=args.train_per_class)
    probe = [t for t, _ in default_task["test"]][::10]
    trained = keras_electra.ElectraClassifier.from_preset(preset, num_classes=4)
    trained.preprocessor.sequence_length = QUICKSTART["sequence_length"]
    result["hidden_state_spread"] = round(
        hidden_state_spread(trained.backbone, trained.preprocessor, probe), 4
    )
    for task_seed in args.task_seed:
        task = bundled.author_task(
            train_per_class=args.train_per_class, seed=task_seed
        )
        result["tasks"].append(
            {
                "task_seed": task_seed,
                "pretrained": finetune(
                    preset, False, task, args.finetune_epochs, args.seed
                ),
                "not_pretrained": finetune(
                    preset, True, task, args.finetune_epochs, args.seed
                ),
            }
        )
        print(json.dumps(result["tasks"][-1]), flush=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
