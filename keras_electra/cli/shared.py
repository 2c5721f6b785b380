"""What every part of the command line shares: its name, the backends,
the default models, the usage error, the run directory's default and how
the commands print.

`app` (parsing, dispatch) and the command modules (`pretrain`,
`finetune`, `export`, `inference`, `info`, `quickstart`) all import this
module; `app` calls into the command modules, never the reverse. Imports
neither Keras nor keras-hub.
"""

import datetime
import os
import sys

PROG = "keras-electra"
BACKENDS = ("tensorflow", "jax", "torch")
BUNDLED = "bundled"
DEFAULT_DISCRIMINATOR = "electra_small_discriminator_en"
DEFAULT_GENERATOR = "electra_small_generator_en"


class UsageError(Exception):
    """A bad option or path found after parsing: exit code 2."""


def say(*parts):
    print(*parts, flush=True)


def verbose(args):
    """Keras `verbose`: none, a progress bar, or (not a terminal) one line
    per epoch."""
    if args.quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


def default_output_dir(command):
    """`runs/<timestamp>-<command>`: where a run writes without
    `--output-dir`."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join("runs", f"{stamp}-{command}")


# The quick start's defaults (`keras-electra quickstart`; `pretrain` and
# `finetune` share the model and fine-tuning ones).
QUICKSTART = dict(
    # The bundled pre-trained model the quick start starts from.
    preset="electra_tiny_gutenberg_en",
    continued_pretrain_steps=100,
    # Gentle: the bundled run ended with its rate decayed to 0. At 5e-4 the
    # previous bundled model lost held-out AUC (0.88 to 0.59 in 100 steps);
    # at 1e-4 today's goes from 0.582 to 0.591.
    continued_pretrain_learning_rate=1e-4,
    # A curve point (and checkpoint) every 10 of the 100 steps, so that the
    # plotted curves have 10 points.
    continued_log_every=10,
    seeds=5,
    # --from-scratch: a new tiny ELECTRA.
    hidden_dim=128,
    num_layers=2,
    num_heads=2,
    embedding_dim=64,
    sequence_length=64,
    generator_hidden_fraction=0.25,
    pretrain_steps=1000,
    pretrain_batch_size=16,
    pretrain_learning_rate=5e-4,
    log_every=50,
    shuffle_buffer=1000,
    finetune_epochs=15,
    finetune_batch_size=16,
    finetune_learning_rate=5e-4,
    train_per_class=32,
    test_per_class=100,
)
