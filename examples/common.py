"""Shared pieces of the fine-tuning examples (data paths, model, optimizer).

The examples read only what is in the repository: the data sets under
`tests/data/` (provenance in `tests/data/README.md`) and the package's
bundled data (`keras_electra.data`: four public-domain novels, from which
`author_task()` builds a labelled task, and BERT's uncased vocabulary).

By default the examples fine-tune the pre-trained tiny ELECTRA that ships
with the package (`electra_tiny_gutenberg_en`: 4 layers, hidden 128, its
own 6,158-piece vocabulary, pre-trained on public-domain novels; no
download), so that they finish in a few minutes on a laptop CPU.
`--preset` fine-tunes another checkpoint instead (a built-in name such as
`electra_small_discriminator_en`, an `hf://` handle or a local
transformers/Keras directory) with Google's recipe; `--random-init` trains
a tiny randomly initialised ELECTRA on BERT's vocabulary (no pre-training).
"""

import os

import keras

import keras_electra
import keras_electra.data
from keras_electra.cli.shared import QUICKSTART
from keras_electra.finetuning import create_optimizer

# The pre-trained model bundled with the package: the examples' default.
BUNDLED = "electra_tiny_gutenberg_en"

# The repository's example data sets (`.gz` files: read with
# `keras_electra.data.open_text`, or `read_conll`/`read_documents`).
TEST_DATA = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                 "data")
)


def add_common_arguments(parser, epochs, sequence_length, learning_rate):
    parser.add_argument(
        "--preset",
        default=BUNDLED,
        help="The pre-trained checkpoint to fine-tune (default: the bundled "
        f"pre-trained {BUNDLED}, offline).",
    )
    parser.add_argument(
        "--random-init",
        action="store_true",
        help="Train a tiny randomly initialised ELECTRA instead (no "
        "pre-training).",
    )
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=sequence_length)
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help=f"Peak learning rate (the bundled model: "
        f"{QUICKSTART['finetune_learning_rate']:g}, as the quick start; "
        f"--random-init: {learning_rate}; Google's presets: 1e-4, 5e-5 for "
        "large).",
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser


def uncased_tokenizer():
    """BERT's uncased WordPiece vocabulary (the one ELECTRA uses).

    The copy bundled with the package (`keras_electra.data.vocabulary()`).
    """
    return keras_electra.ElectraTokenizer(
        vocabulary=keras_electra.data.vocabulary()
    )


def tiny_backbone(vocabulary_size, sequence_length, hidden_dim=64):
    return keras_electra.ElectraBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=2,
        num_heads=4,
        hidden_dim=hidden_dim,
        intermediate_dim=2 * hidden_dim,
        max_sequence_length=sequence_length,
        dropout=0.1,
    )


def build_task(task_cls, preprocessor_cls, args, tokenizer=None,
               preprocessor_kwargs=None, **task_kwargs):
    """The task from `--preset`, or (`--random-init`) a tiny random one on
    `tokenizer`."""
    preprocessor_kwargs = preprocessor_kwargs or {}
    if not args.random_init:
        preprocessor = preprocessor_cls.from_preset(
            args.preset, sequence_length=args.sequence_length,
            **preprocessor_kwargs,
        )
        return task_cls.from_preset(
            args.preset, preprocessor=preprocessor, **task_kwargs
        )
    tokenizer = tokenizer or uncased_tokenizer()
    backbone = tiny_backbone(tokenizer.vocabulary_size(), args.sequence_length)
    preprocessor = preprocessor_cls(
        tokenizer, sequence_length=args.sequence_length, **preprocessor_kwargs
    )
    return task_cls(backbone, preprocessor=preprocessor, **task_kwargs)


def compile_task(task, args, num_examples, tiny_learning_rate):
    """Google's fine-tuning optimizer (warm-up 10 %, linear decay).

    For a pre-trained model: Google's defaults (layer-wise decay 0.8/0.9,
    Adam without bias correction; for the bundled model the quick start's
    peak learning rate). A tiny model from scratch has nothing to protect in
    its lower layers and trains faster with the usual Adam bias correction,
    so it uses neither.
    """
    steps = args.epochs * -(-num_examples // args.batch_size)
    if not args.random_init:
        learning_rate = args.learning_rate
        if learning_rate is None and args.preset == BUNDLED:
            learning_rate = QUICKSTART["finetune_learning_rate"]
        optimizer = create_optimizer(
            task, learning_rate=learning_rate, num_train_steps=steps
        )
    else:
        optimizer = create_optimizer(
            task,
            learning_rate=args.learning_rate or tiny_learning_rate,
            num_train_steps=steps,
            layerwise_lr_decay=1.0,
            bias_correction=True,
        )
    task.compile(optimizer=optimizer)
    return task


def set_seed(seed):
    keras.utils.set_random_seed(seed)


def shuffled_batches(x, y, args, sample_weight=None):
    """A `tf.data` pipeline over preprocessed arrays, reshuffled each epoch.

    (`fit` on NumPy arrays keeps one order in keras-hub's data pipeline.)
    """
    import tensorflow as tf

    data = (x, y) if sample_weight is None else (x, y, sample_weight)
    return (
        tf.data.Dataset.from_tensor_slices(data)
        .shuffle(len(y), seed=args.seed, reshuffle_each_iteration=True)
        .batch(args.batch_size)
        .prefetch(2)
    )
