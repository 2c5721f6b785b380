"""Convert Google's original (TF1) ELECTRA checkpoints into Keras presets.

Google's release (`electra_small.zip`, `electra_base.zip`,
`electra_large.zip` from google-research/electra) holds one TF1 checkpoint
(`checkpoint`, `model.ckpt-<step>.index`, `model.ckpt-<step>.data-*`) with
both networks of pre-training, and `vocab.txt`. The generator and the
discriminator share the embeddings under `electra/embeddings/`; the rest
of the discriminator is under `electra/` and `discriminator_predictions/`,
the generator under `generator/` and `generator_predictions/`. Variable
names are in `google_tf1_table.py`.

The checkpoint has no config: the architecture is read from the variable
shapes, except the number of attention heads, which defaults to Google's
rule `hidden_size // 64` (true of all released models) and can be given.

Reading needs TensorFlow (`tf.train.load_checkpoint`), whatever the Keras
backend.
"""

import glob
import logging
import os
import re

from keras_electra.conversion import google_tf1_table as table_lib
from keras_electra.conversion.weight_table import assign_weights
from keras_electra.presets import DISCRIMINATOR
from keras_electra.presets import GENERATOR
from keras_electra.presets import PAIR_MEMBERS
from keras_electra.pretraining import pair_preset

logger = logging.getLogger(__name__)

VOCAB_FILE = "vocab.txt"
CHECKPOINT_STATE_FILE = "checkpoint"
# Google's rule for the number of heads (`configure_pretraining.py` and
# `get_generator_config`): 64-dimensional heads.
HEAD_SIZE = 64
NEEDED_FILES = (
    "model.ckpt-<step>.index, model.ckpt-<step>.data-00000-of-00001 "
    "(and optionally `checkpoint`) and vocab.txt"
)


def _tf():
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ImportError(
            "Reading Google's TF1 checkpoints needs TensorFlow "
            "(`pip install tensorflow`), whatever the Keras backend."
        ) from e
    return tf


# === Finding and reading the checkpoint ===


def find_checkpoint(path):
    """The checkpoint prefix (`.../model.ckpt-<step>`) for `path`.

    `path` is a prefix, or a directory holding one checkpoint (or a
    `checkpoint` state file naming the latest).
    """
    path = os.fspath(path)
    if os.path.exists(path + ".index"):
        return path
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"No TF1 checkpoint at `{path}`: expected a directory holding "
            f"{NEEDED_FILES}, or a checkpoint prefix (`.../model.ckpt-<step>`)."
        )
    if os.path.exists(os.path.join(path, CHECKPOINT_STATE_FILE)):
        prefix = _tf().train.latest_checkpoint(path)
        if prefix and os.path.exists(prefix + ".index"):
            return prefix
    indexes = sorted(glob.glob(os.path.join(path, "*.index")))
    if not indexes:
        raise FileNotFoundError(
            f"No TF1 checkpoint in `{path}`: expected {NEEDED_FILES}."
        )
    if len(indexes) > 1:

        def step(p):
            m = re.search(r"-(\d+)\.index$", p)
            return int(m.group(1)) if m else -1

        indexes.sort(key=step)
        logger.warning(
            "`%s` holds %d checkpoints; converting the latest, `%s`.",
            path,
            len(indexes),
            indexes[-1],
        )
    return indexes[-1][: -len(".index")]


class GoogleTF1Checkpoint:
    """Read access to a TF1 checkpoint's weights, by variable name.

    Optimizer slots (`adam_m`, `adam_v`) and `global_step` are not
    weights and are left out of `shapes`.
    """

    def __init__(self, path):
        self.prefix = find_checkpoint(path)
        tf = _tf()
        try:
            self._reader = tf.train.load_checkpoint(self.prefix)
            all_shapes = self._reader.get_variable_to_shape_map()
        except Exception as e:  # TF raises DataLossError, NotFoundError...
            raise ValueError(
                f"Could not read the TF1 checkpoint `{self.prefix}` "
                f"({type(e).__name__}: {e}). Its files are truncated or "
                "corrupt; download or copy it again."
            ) from e
        self.shapes = {
            name: tuple(shape)
            for name, shape in all_shapes.items()
            if not table_lib.is_skipped(name)
        }
        self.global_step = None
        if table_lib.GLOBAL_STEP in all_shapes:
            self.global_step = int(self.read(table_lib.GLOBAL_STEP))

    def read(self, name):
        try:
            return self._reader.get_tensor(name)
        except Exception as e:
            raise ValueError(
                f"Could not read variable `{name}` from the TF1 checkpoint "
                f"`{self.prefix}` ({type(e).__name__}: {e}). The data file is "
                "truncated or corrupt; download or copy it again."
            ) from e

    def read_all(self, names):
        return {name: self.read(name) for name in names}

    def has(self, name):
        return name in self.shapes

    def shape(self, name):
        if name not in self.shapes:
            raise ValueError(
                f"The TF1 checkpoint `{self.prefix}` has no variable `{name}`; "
                "it is not one of Google's ELECTRA pre-training checkpoints."
            )
        return self.shapes[name]

    def names_under(self, *scopes):
        return sorted(
            n for n in self.shapes if any(n.startswith(s + "/") for s in scopes)
        )


def generator_embeddings_scope(checkpoint):
    """`generator` if the generator has its own embeddings, else `electra`."""
    gen = table_lib.GENERATOR_SCOPE
    if checkpoint.has(table_lib.word_embeddings_name(gen)):
        return gen
    return table_lib.DISCRIMINATOR_SCOPE


def infer_backbone_kwargs(checkpoint, scope, embeddings_scope, num_heads=None):
    """`ElectraBackbone` arguments from the variable shapes under `scope`."""
    if not checkpoint.names_under(scope):
        found = sorted({n.split("/")[0] for n in checkpoint.shapes})
        raise ValueError(
            f"The TF1 checkpoint `{checkpoint.prefix}` has no variables under "
            f"`{scope}/`; found scopes: {', '.join(found)}."
        )
    vocab, embedding_dim = checkpoint.shape(
        table_lib.word_embeddings_name(embeddings_scope)
    )
    positions = checkpoint.shape(
        table_lib.position_embeddings_name(embeddings_scope)
    )[0]
    segments = checkpoint.shape(
        table_lib.token_type_embeddings_name(embeddings_scope)
    )[0]
    first = table_lib.layer_prefix(scope, 0)
    hidden_dim = checkpoint.shape(f"{first}attention/self/query/kernel")[1]
    intermediate_dim = checkpoint.shape(f"{first}intermediate/dense/kernel")[1]
    layer_re = re.compile(re.escape(f"{scope}/encoder/layer_") + r"(\d+)/")
    indices = {
        int(m.group(1)) for m in map(layer_re.match, checkpoint.shapes) if m
    }
    num_layers = max(indices) + 1
    if indices != set(range(num_layers)):
        missing = sorted(set(range(num_layers)) - indices)
        raise ValueError(
            f"The TF1 checkpoint `{checkpoint.prefix}` lacks layers {missing} "
            f"of `{scope}/encoder`."
        )
    if num_heads is None:
        num_heads = hidden_dim // HEAD_SIZE
        if num_heads == 0 or hidden_dim % HEAD_SIZE:
            raise ValueError(
                f"`{scope}` has hidden size {hidden_dim}, which is not a "
                f"multiple of Google's head size {HEAD_SIZE}: give the number "
                "of attention heads (`num_heads` / `--num-heads`)."
            )
    if hidden_dim % num_heads:
        raise ValueError(
            f"`{scope}` has hidden size {hidden_dim}, which {num_heads} "
            "attention heads do not divide."
        )
    return {
        "vocabulary_size": vocab,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "embedding_dim": embedding_dim,
        "intermediate_dim": intermediate_dim,
        "max_sequence_length": positions,
        "num_segments": segments,
    }


def read_vocabulary(path, vocabulary_size):
    """The tokens of `vocab.txt`, which must match the embedding table."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No vocabulary at `{path}`: Google's release has `{VOCAB_FILE}` "
            "next to the checkpoint (or pass its path)."
        )
    with open(path, encoding="utf-8") as f:
        vocabulary = [line.rstrip("\n") for line in f]
    if vocabulary and vocabulary[-1] == "":
        vocabulary = vocabulary[:-1]
    if len(vocabulary) != vocabulary_size:
        raise ValueError(
            f"The vocabulary `{path}` has {len(vocabulary)} tokens but the "
            f"checkpoint's word embeddings have {vocabulary_size} rows: the "
            "vocabulary does not belong to this checkpoint."
        )
    return vocabulary


# === Building the Keras models ===


def load_google_tf1_model(
    path,
    model=DISCRIMINATOR,
    vocabulary=None,
    num_heads=None,
    lowercase=True,
    sequence_length=None,
    checkpoint=None,
):
    """Build the discriminator or generator stored in a TF1 checkpoint.

    Args:
        path: the checkpoint directory or prefix.
        model: `"discriminator"` (`ElectraDiscriminator`) or `"generator"`
            (`ElectraMaskedLM`).
        vocabulary: path of `vocab.txt`; defaults to the one beside the
            checkpoint.
        num_heads: attention heads of that network; defaults to
            `hidden_size // 64` (Google's rule).
        lowercase: whether the vocabulary is uncased (all of Google's
            English models are).
        sequence_length: the preprocessor's sequence length; defaults to the
            number of position embeddings.
        checkpoint: an open `GoogleTF1Checkpoint` to reuse.

    Returns:
        `(model, tokenizer)`.
    """
    from keras_electra.models.electra_backbone import ElectraBackbone
    from keras_electra.models.electra_discriminator import (
        ElectraDiscriminator,
    )
    from keras_electra.models.electra_masked_lm import ElectraMaskedLM
    from keras_electra.models.electra_tokenizer import ElectraTokenizer

    if model not in PAIR_MEMBERS:
        raise ValueError(
            f"`model` must be one of {', '.join(PAIR_MEMBERS)}. Received: {model!r}"
        )
    checkpoint = checkpoint or GoogleTF1Checkpoint(path)
    if model == DISCRIMINATOR:
        scope = embeddings_scope = table_lib.DISCRIMINATOR_SCOPE
        task_cls, head_scope = (
            ElectraDiscriminator,
            table_lib.DISCRIMINATOR_HEAD_SCOPE,
        )
        head_table = table_lib.discriminator_head_table
    else:
        scope = table_lib.GENERATOR_SCOPE
        embeddings_scope = generator_embeddings_scope(checkpoint)
        task_cls, head_scope = ElectraMaskedLM, table_lib.GENERATOR_HEAD_SCOPE
        head_table = table_lib.generator_head_table
    kwargs = infer_backbone_kwargs(
        checkpoint, scope, embeddings_scope, num_heads
    )
    vocabulary = vocabulary or os.path.join(
        os.path.dirname(checkpoint.prefix), VOCAB_FILE
    )
    tokens = read_vocabulary(vocabulary, kwargs["vocabulary_size"])

    backbone = ElectraBackbone(**kwargs)
    tokenizer = ElectraTokenizer(vocabulary=tokens, lowercase=lowercase)
    preprocessor = task_cls.preprocessor_cls(
        tokenizer=tokenizer,
        sequence_length=sequence_length or kwargs["max_sequence_length"],
    )
    task = task_cls(backbone=backbone, preprocessor=preprocessor)
    table = table_lib.embeddings_table(backbone.embeddings, embeddings_scope)
    table += table_lib.encoder_table(backbone, scope) + head_table(task)

    # This network's variables; the other network's are left alone.
    names = checkpoint.names_under(scope, head_scope)
    if embeddings_scope != scope:
        names += checkpoint.names_under(f"{embeddings_scope}/embeddings")
    unknown = sorted(
        {n.split("/")[0] for n in checkpoint.shapes}
        - set(table_lib.KNOWN_SCOPES)
    )
    if unknown:
        logger.warning(
            "Ignoring variables under %s in `%s`: not part of ELECTRA's "
            "pre-training model.",
            ", ".join(f"`{u}/`" for u in unknown),
            checkpoint.prefix,
        )
    assign_weights(table, checkpoint.read_all(names), source=checkpoint.prefix)
    return task, tokenizer


def convert_google_tf1_checkpoint(
    path,
    output_dir,
    model=DISCRIMINATOR,
    vocabulary=None,
    num_heads=None,
    generator_num_heads=None,
    lowercase=True,
    sequence_length=None,
):
    """Convert Google's TF1 checkpoint into Keras preset(s).

    Args:
        path: the checkpoint directory or prefix.
        output_dir: where to write (created).
        model: `"discriminator"`, `"generator"`, or `"pair"`: both, as
            `output_dir/discriminator` and `output_dir/generator` plus
            `output_dir/pretraining_pair.json` describing them, for
            continued pre-training.
        vocabulary, lowercase, sequence_length: see `load_google_tf1_model`.
        num_heads: attention heads of the discriminator (or of the
            generator when `model="generator"`).
        generator_num_heads: attention heads of the generator for
            `model="pair"`.

    Returns:
        The converted model, or for `"pair"` the dict
        `{"discriminator": ..., "generator": ...}`.
    """
    checkpoint = GoogleTF1Checkpoint(path)
    common = dict(
        vocabulary=vocabulary,
        lowercase=lowercase,
        sequence_length=sequence_length,
        checkpoint=checkpoint,
    )
    if model != "pair":
        task, _ = load_google_tf1_model(
            path, model=model, num_heads=num_heads, **common
        )
        task.save_to_preset(output_dir)
        return task
    heads = {DISCRIMINATOR: num_heads, GENERATOR: generator_num_heads}
    tasks = {}
    for name in PAIR_MEMBERS:
        task, _ = load_google_tf1_model(
            path, model=name, num_heads=heads[name], **common
        )
        task.save_to_preset(os.path.join(output_dir, name))
        tasks[name] = task
    tied = generator_embeddings_scope(checkpoint) == (
        table_lib.DISCRIMINATOR_SCOPE
    )
    pair_preset.write_pair_description(
        output_dir,
        # Google's default: both networks use `electra/embeddings`, so the
        # two presets hold identical embeddings, to be shared again.
        tied_embeddings=tied,
        global_step=checkpoint.global_step,
        source=os.path.abspath(checkpoint.prefix),
    )
    return tasks


def is_google_tf1_checkpoint(path):
    """Whether `path` is a TF1 checkpoint directory or prefix."""
    path = os.fspath(path)
    if os.path.exists(path + ".index"):
        return True
    return os.path.isdir(path) and (
        os.path.exists(os.path.join(path, CHECKPOINT_STATE_FILE))
        or bool(glob.glob(os.path.join(path, "*.index")))
    )
