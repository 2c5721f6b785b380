"""Convert a transformers-format ELECTRA checkpoint into a Keras preset.

A transformers checkpoint is a directory with `config.json`, the weights
(`model.safetensors`, a sharded `model.safetensors.index.json`, or
`pytorch_model.bin`) and the vocabulary (`vocab.txt` or `tokenizer.json`).
`convert_transformers_checkpoint` builds the matching Keras model, maps
every tensor through `transformers_table.py` (a missing, unexpected or
wrongly shaped tensor is an error that names it), and saves a Keras preset.
"""

import json
import os
import tempfile
import warnings

import numpy as np

from keras_electra.conversion import transformers_table
from keras_electra.conversion.weight_table import assign_weights
from keras_electra.conversion.weight_table import export_weights

# Files a transformers ELECTRA checkpoint may hold, in the order we use them.
CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX_FILE = "model.safetensors.index.json"
PYTORCH_FILE = "pytorch_model.bin"
VOCAB_FILE = "vocab.txt"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
WEIGHT_FILES = (SAFETENSORS_INDEX_FILE, SAFETENSORS_FILE, PYTORCH_FILE)

# Tensors a checkpoint may hold that are not weights.
IGNORED_KEYS = ("electra.embeddings.position_ids",)
# The generator's output matrix is the word embedding table (tied).
TIED_GENERATOR_KEY = "generator_lm_head.weight"
WORD_EMBEDDINGS_KEY = "electra.embeddings.word_embeddings.weight"


def _task_for_architecture(architecture):
    """(task class, head table fn, task kwargs fn) for an architecture.

    `task kwargs fn(config)` returns extra constructor arguments of the task
    (e.g. `num_classes` from `config["num_labels"]`).
    """
    from keras_electra.models.electra_discriminator import (
        ElectraDiscriminator,
    )
    from keras_electra.models.electra_causal_lm import ElectraCausalLM
    from keras_electra.models.electra_masked_lm import ElectraMaskedLM

    tasks = {
        "ElectraModel": (None, None, None),
        "ElectraForPreTraining": (
            ElectraDiscriminator,
            transformers_table.discriminator_head_table,
            None,
        ),
        "ElectraForMaskedLM": (
            ElectraMaskedLM,
            transformers_table.generator_head_table,
            None,
        ),
        "ElectraForCausalLM": (
            ElectraCausalLM,
            transformers_table.causal_lm_head_table,
            None,
        ),
    }
    tasks.update(_finetuning_tasks())
    if architecture not in tasks:
        raise ValueError(
            f"keras_electra cannot convert transformers architecture "
            f"`{architecture}`. Supported: {', '.join(sorted(tasks))}."
        )
    return tasks[architecture]


def _finetuning_tasks():
    """Architectures of fine-tuned checkpoints (task heads of issue 5)."""
    from keras_electra.models.electra_classifier import ElectraClassifier
    from keras_electra.models.electra_multiple_choice import (
        ElectraMultipleChoice,
    )
    from keras_electra.models.electra_question_answerer import (
        ElectraQuestionAnswerer,
    )
    from keras_electra.models.electra_token_classifier import (
        ElectraTokenClassifier,
    )

    return {
        "ElectraForSequenceClassification": (
            ElectraClassifier,
            transformers_table.classifier_head_table,
            lambda config: {
                "num_classes": _num_labels(config),
                "label_names": _label_names(config),
                "head": "transformers",
                "dropout": _classifier_dropout(config),
            },
        ),
        "ElectraForTokenClassification": (
            ElectraTokenClassifier,
            transformers_table.token_classifier_head_table,
            lambda config: {
                "num_classes": _num_labels(config),
                "label_names": _label_names(config),
                "dropout": _classifier_dropout(config),
            },
        ),
        "ElectraForQuestionAnswering": (
            ElectraQuestionAnswerer,
            transformers_table.question_answerer_head_table,
            None,
        ),
        "ElectraForMultipleChoice": (
            ElectraMultipleChoice,
            transformers_table.multiple_choice_head_table,
            _sequence_summary_kwargs,
        ),
    }


def _num_labels(config):
    if config.get("id2label"):
        return len(config["id2label"])
    return config.get("num_labels", 2)


def _label_names(config):
    """Class names from `id2label`, or `None` for transformers' defaults.

    transformers fills `id2label` with `LABEL_0`, `LABEL_1`, ... when a
    model is built without names; those carry no meaning and are dropped.
    """
    id2label = config.get("id2label") or {}
    names = [id2label[k] for k in sorted(id2label, key=int)]
    if not names or names == [f"LABEL_{i}" for i in range(len(names))]:
        return None
    return names


def _classifier_dropout(config):
    dropout = config.get("classifier_dropout")
    return config.get("hidden_dropout_prob", 0.1) if dropout is None else dropout


def _sequence_summary_kwargs(config):
    """`ElectraMultipleChoiceHead` arguments from transformers' summary config."""
    summary_type = config.get("summary_type", "first")
    if summary_type != "first":
        raise ValueError(
            f"`config.json` sets `summary_type` {summary_type!r}; "
            "keras_electra's multiple-choice head supports 'first' (the "
            "[CLS] vector, transformers' default for ELECTRA)."
        )
    if config.get("summary_proj_to_labels"):
        raise ValueError(
            "`config.json` sets `summary_proj_to_labels`, which "
            "keras_electra's multiple-choice head does not support."
        )
    activation = config.get("summary_activation", "gelu") or None
    if activation not in (None, "gelu", "tanh", "relu", "sigmoid"):
        raise ValueError(
            f"`config.json` sets `summary_activation` {activation!r}; "
            "supported: 'gelu' (exact), 'tanh', 'relu', 'sigmoid' or none."
        )
    return {
        "summary_use_proj": bool(config.get("summary_use_proj", True)),
        "summary_activation": activation,
        "summary_first_dropout": config.get("summary_first_dropout", 0.0),
        "summary_last_dropout": config.get("summary_last_dropout", 0.1),
    }


# === Reading the checkpoint ===


def load_transformers_config(directory):
    """Read and validate `config.json` of a transformers ELECTRA model."""
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No `{CONFIG_FILE}` in `{directory}`: not a transformers "
            "checkpoint directory."
        )
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    model_type = config.get("model_type")
    if model_type != "electra":
        raise ValueError(
            f"`{path}` has `model_type` {model_type!r}, but keras_electra only "
            "converts ELECTRA checkpoints (`model_type` 'electra')."
        )
    activation = config.get("hidden_act", "gelu")
    if activation != "gelu":
        raise ValueError(
            f"`{path}` sets `hidden_act` {activation!r}; ELECTRA (and "
            "keras_electra) use the exact GELU ('gelu')."
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(
            f"`{path}` sets `position_embedding_type` "
            f"{config['position_embedding_type']!r}; only 'absolute' "
            "position embeddings (Google's ELECTRA) are supported."
        )
    return config


def backbone_kwargs_from_config(config):
    """`ElectraBackbone` arguments from a transformers `config.json`."""
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "hidden_dim": config["hidden_size"],
        "embedding_dim": config.get("embedding_size", config["hidden_size"]),
        "intermediate_dim": config["intermediate_size"],
        "dropout": config.get("hidden_dropout_prob", 0.1),
        "max_sequence_length": config["max_position_embeddings"],
        "num_segments": config.get("type_vocab_size", 2),
    }


def _read_safetensors(path):
    from safetensors import safe_open

    try:
        with safe_open(path, framework="np") as f:
            return {key: f.get_tensor(key) for key in f.keys()}
    except Exception as e:  # safetensors raises its own error types.
        raise ValueError(
            f"Could not read the weights file `{path}` ({e}). The file is "
            "truncated or corrupt; download or convert it again."
        ) from e


def _read_pytorch_bin(path):
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            f"Reading `{path}` (PyTorch format) needs `torch`. Install it "
            "with `pip install torch==2.13.0`, or convert the checkpoint to "
            "safetensors."
        ) from e
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(
            f"Could not read the weights file `{path}` ({e}). The file is "
            "truncated or corrupt; download or convert it again."
        ) from e
    return {k: v.detach().float().numpy() for k, v in state.items()}


def read_transformers_weights(directory):
    """All tensors of a transformers checkpoint directory, as numpy arrays."""
    index_path = os.path.join(directory, SAFETENSORS_INDEX_FILE)
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        tensors = {}
        for shard in shards:
            shard_path = os.path.join(directory, shard)
            if not os.path.exists(shard_path):
                raise FileNotFoundError(
                    f"`{index_path}` names the shard `{shard}`, which is "
                    f"missing from `{directory}`."
                )
            tensors.update(_read_safetensors(shard_path))
        return tensors
    path = os.path.join(directory, SAFETENSORS_FILE)
    if os.path.exists(path):
        return _read_safetensors(path)
    path = os.path.join(directory, PYTORCH_FILE)
    if os.path.exists(path):
        return _read_pytorch_bin(path)
    raise FileNotFoundError(
        f"No weights in `{directory}`: expected one of "
        f"{', '.join(WEIGHT_FILES)}."
    )


def normalize_keys(tensors):
    """Put the base model's tensors under `electra.` as task models do.

    `ElectraModel.save_pretrained` writes `embeddings.*` and `encoder.*`
    without the prefix that the task models (`ElectraForPreTraining`, ...)
    use.
    """
    prefix = transformers_table.BASE_MODEL_PREFIX
    out = {}
    for key, value in tensors.items():
        if key.startswith(("embeddings.", "encoder.", "embeddings_project.")):
            key = prefix + key
        out[key] = value
    return out


def infer_architecture(config, tensors):
    """The transformers architecture of a checkpoint."""
    architectures = config.get("architectures") or []
    if architectures:
        return architectures[0]
    if any(k.startswith("discriminator_predictions.") for k in tensors):
        return "ElectraForPreTraining"
    if any(k.startswith("generator_predictions.") for k in tensors):
        if config.get("is_decoder"):
            return "ElectraForCausalLM"
        return "ElectraForMaskedLM"
    for prefix, architecture in _HEAD_PREFIXES:
        if any(k.startswith(prefix) for k in tensors):
            return architecture
    return "ElectraModel"


# Fine-tuned heads, most specific prefix first.
_HEAD_PREFIXES = (
    ("classifier.out_proj.", "ElectraForSequenceClassification"),
    ("sequence_summary.", "ElectraForMultipleChoice"),
    ("qa_outputs.", "ElectraForQuestionAnswering"),
    ("classifier.", "ElectraForTokenClassification"),
)


def load_vocabulary(directory, config):
    """The WordPiece vocabulary (list of tokens) and whether it is uncased."""
    lowercase = True
    tokenizer_config_path = os.path.join(directory, TOKENIZER_CONFIG_FILE)
    if os.path.exists(tokenizer_config_path):
        with open(tokenizer_config_path, encoding="utf-8") as f:
            lowercase = json.load(f).get("do_lower_case", True)
    vocab_path = os.path.join(directory, VOCAB_FILE)
    tokenizer_path = os.path.join(directory, TOKENIZER_FILE)
    if os.path.exists(vocab_path):
        with open(vocab_path, encoding="utf-8") as f:
            vocabulary = [line.rstrip("\n") for line in f]
        if vocabulary and vocabulary[-1] == "":
            vocabulary = vocabulary[:-1]
        source = vocab_path
    elif os.path.exists(tokenizer_path):
        with open(tokenizer_path, encoding="utf-8") as f:
            vocab = json.load(f)["model"]["vocab"]
        vocabulary = [None] * len(vocab)
        for token, index in vocab.items():
            vocabulary[index] = token
        source = tokenizer_path
    else:
        raise FileNotFoundError(
            f"No vocabulary in `{directory}`: expected `{VOCAB_FILE}` or "
            f"`{TOKENIZER_FILE}`."
        )
    if len(vocabulary) != config["vocab_size"]:
        raise ValueError(
            f"The vocabulary `{source}` has {len(vocabulary)} tokens but "
            f"`config.json` says `vocab_size` {config['vocab_size']}: the "
            "vocabulary does not belong to this checkpoint."
        )
    return vocabulary, lowercase


# === Building the Keras model ===


def load_transformers_model(directory, sequence_length=None):
    """Build the Keras ELECTRA model stored in a transformers directory.

    Returns the task (`ElectraDiscriminator`, `ElectraMaskedLM`, ...) with
    its preprocessor, or the `ElectraBackbone` for an `ElectraModel`
    checkpoint, together with its tokenizer.
    """
    from keras_electra.models.electra_backbone import ElectraBackbone
    from keras_electra.models.electra_tokenizer import ElectraTokenizer

    config = load_transformers_config(directory)
    vocabulary, lowercase = load_vocabulary(directory, config)
    tensors = normalize_keys(read_transformers_weights(directory))
    architecture = infer_architecture(config, tensors)
    task_cls, head_table, task_kwargs = _task_for_architecture(architecture)

    backbone = ElectraBackbone(**backbone_kwargs_from_config(config))
    tokenizer = ElectraTokenizer(vocabulary=vocabulary, lowercase=lowercase)
    table = transformers_table.backbone_table(backbone)
    model = backbone
    if task_cls is not None:
        preprocessor = task_cls.preprocessor_cls(
            tokenizer=tokenizer,
            sequence_length=sequence_length
            or config["max_position_embeddings"],
        )
        extra = task_kwargs(config) if task_kwargs else {}
        model = task_cls(backbone=backbone, preprocessor=preprocessor, **extra)
        table = table + head_table(model)

    if TIED_GENERATOR_KEY in tensors:
        tied = tensors.pop(TIED_GENERATOR_KEY)
        if WORD_EMBEDDINGS_KEY in tensors and not np.allclose(
            tied, tensors[WORD_EMBEDDINGS_KEY]
        ):
            raise ValueError(
                f"`{TIED_GENERATOR_KEY}` in `{directory}` differs from the "
                "word embeddings; ELECTRA's generator ties them."
            )
    assign_weights(table, tensors, source=directory, ignore=IGNORED_KEYS)
    return model, tokenizer


def convert_transformers_checkpoint(directory, output_dir):
    """Convert a transformers ELECTRA directory into a Keras preset.

    Args:
        directory: the transformers checkpoint directory.
        output_dir: where to write the Keras preset (created).

    Returns:
        The converted Keras model (task or backbone).
    """
    model, tokenizer = load_transformers_model(directory)
    model.save_to_preset(output_dir)
    if not hasattr(model, "preprocessor"):
        tokenizer.save_to_preset(output_dir)
    return model


def _architecture_of(model):
    """transformers' architecture name and head table of a Keras model."""
    from keras_electra.models.electra_backbone import ElectraBackbone

    if isinstance(model, ElectraBackbone):
        return "ElectraModel", None
    for architecture in (
        "ElectraForPreTraining",
        "ElectraForMaskedLM",
        "ElectraForCausalLM",
        *_finetuning_tasks(),
    ):
        task_cls, head_table, _ = _task_for_architecture(architecture)
        if isinstance(model, task_cls):
            return architecture, head_table
    raise ValueError(
        f"keras_electra cannot export a {type(model).__name__} to "
        "transformers."
    )


def export_transformers_weights(model):
    """A model's weights named as in a transformers checkpoint."""
    backbone = getattr(model, "backbone", model)
    table = transformers_table.backbone_table(backbone)
    _, head_table = _architecture_of(model)
    if head_table is not None:
        table += head_table(model)
    return export_weights(table)


def transformers_config(model):
    """A transformers `config.json` (as a dict) describing `model`.

    Classifiers and token classifiers write `num_labels` and, with
    `label_names`, `id2label`/`label2id`; `ElectraCausalLM` writes
    `is_decoder: true`.
    """
    backbone = getattr(model, "backbone", model)
    architecture, _ = _architecture_of(model)
    config = {
        "architectures": [architecture],
        "model_type": "electra",
        "vocab_size": backbone.vocabulary_size,
        "embedding_size": backbone.embedding_dim,
        "hidden_size": backbone.hidden_dim,
        "num_hidden_layers": backbone.num_layers,
        "num_attention_heads": backbone.num_heads,
        "intermediate_size": backbone.intermediate_dim,
        "hidden_act": "gelu",
        "hidden_dropout_prob": backbone.dropout,
        "attention_probs_dropout_prob": backbone.dropout,
        "max_position_embeddings": backbone.max_sequence_length,
        "type_vocab_size": backbone.num_segments,
        "layer_norm_eps": 1e-12,
        "position_embedding_type": "absolute",
        "pad_token_id": 0,
    }
    if architecture == "ElectraForCausalLM":
        config["is_decoder"] = True
    num_classes = getattr(model, "num_classes", None)
    if architecture in (
        "ElectraForSequenceClassification",
        "ElectraForTokenClassification",
    ):
        names = getattr(model, "label_names", None) or [
            f"LABEL_{i}" for i in range(num_classes)
        ]
        config["id2label"] = {str(i): name for i, name in enumerate(names)}
        config["label2id"] = {name: i for i, name in enumerate(names)}
        config["num_labels"] = num_classes
        config["classifier_dropout"] = model.dropout
    return config


def save_transformers_checkpoint(model, directory, tokenizer=None):
    """Write `model` as a transformers checkpoint directory.

    `config.json` (see `transformers_config`), `model.safetensors` and, when
    the model has a preprocessor (or `tokenizer` is given, for a backbone),
    `vocab.txt` and `tokenizer_config.json`.
    `transformers.AutoModel...from_pretrained(directory)` then loads it;
    `id2label` carries a classifier's `label_names`.
    """
    from safetensors.numpy import save_file

    # Everything that can fail (a model transformers has no class for)
    # before anything is written.
    tensors = export_transformers_weights(model)
    config = transformers_config(model)
    os.makedirs(directory, exist_ok=True)
    if "generator_predictions.dense.weight" in tensors:
        tensors[TIED_GENERATOR_KEY] = tensors[WORD_EMBEDDINGS_KEY].copy()
    save_file(
        {k: np.ascontiguousarray(v, "float32") for k, v in tensors.items()},
        os.path.join(directory, SAFETENSORS_FILE),
        metadata={"format": "pt"},
    )
    with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    preprocessor = getattr(model, "preprocessor", None)
    tokenizer = getattr(preprocessor, "tokenizer", None) or tokenizer
    if tokenizer is not None:
        with open(os.path.join(directory, VOCAB_FILE), "w", encoding="utf-8") as f:
            f.write("\n".join(tokenizer.get_vocabulary()) + "\n")
        with open(
            os.path.join(directory, TOKENIZER_CONFIG_FILE), "w", encoding="utf-8"
        ) as f:
            json.dump(
                {
                    "tokenizer_class": "ElectraTokenizer",
                    "do_lower_case": bool(tokenizer.uncased),
                },
                f,
                indent=2,
            )
    return directory


# === A task, a preset or a pre-trained pair, out to transformers ===


def _task_classes():
    """Class name -> class, for every task transformers has a class for."""
    return {
        task_cls.__name__: task_cls
        for task_cls, _, _ in map(
            _task_for_architecture,
            [
                "ElectraForPreTraining",
                "ElectraForMaskedLM",
                "ElectraForCausalLM",
                *_finetuning_tasks(),
            ],
        )
    }


def _load_preset_for_export(preset):
    """(model, tokenizer) of a local Keras preset: its task (named in
    `task.json`), else its backbone with the preset's tokenizer."""
    from keras_electra.models.electra_backbone import ElectraBackbone
    from keras_electra.models.electra_tokenizer import ElectraTokenizer

    task_file = os.path.join(preset, "task.json")
    if not os.path.isfile(task_file):
        return (
            ElectraBackbone.from_preset(preset),
            ElectraTokenizer.from_preset(preset),
        )
    with open(task_file, encoding="utf-8") as f:
        class_name = json.load(f).get("class_name")
    classes = _task_classes()
    if class_name not in classes:
        raise ValueError(
            f"The preset `{preset}` holds a {class_name}, which has no "
            f"transformers class; exportable: {', '.join(sorted(classes))}."
        )
    with warnings.catch_warnings():
        # A task saved after training holds its optimizer's state, which
        # an exported checkpoint does not carry.
        warnings.filterwarnings(
            "ignore", message="Skipping variable loading for optimizer"
        )
        return classes[class_name].from_preset(preset), None


def _export_pair(pair, directory):
    from keras_electra.pretraining import pair_preset

    discriminator, generator = pair_preset.pair_presets(pair)
    written = {}
    for member, preset in (
        (pair_preset.DISCRIMINATOR, discriminator),
        (pair_preset.GENERATOR, generator),
    ):
        model, _ = _load_preset_for_export(preset)
        written[member] = save_transformers_checkpoint(
            model, os.path.join(directory, member)
        )
    # Also a pair preset of keras_electra: `ElectraPretrainer.from_preset`
    # reads the two checkpoints back.
    pair_preset.write_pair_description(directory, tied_embeddings=True)
    return written


def _is_pair(preset):
    from keras_electra.pretraining import pair_preset

    directory = pair_preset.pair_directory(preset)
    return isinstance(directory, (str, os.PathLike)) and all(
        os.path.isdir(os.path.join(directory, member))
        for member in pair_preset.PAIR_MEMBERS
    )


def export_transformers(task_or_pair, directory):
    """Write a model as transformers checkpoint(s) in `directory`.

    Args:
        task_or_pair: what to write:
            - a task (`ElectraClassifier`, `ElectraTokenClassifier`,
              `ElectraQuestionAnswerer`, `ElectraMultipleChoice`,
              `ElectraDiscriminator`, `ElectraMaskedLM`,
              `ElectraCausalLM`) or an `ElectraBackbone`: one checkpoint of
              the matching class (`ElectraForSequenceClassification`, ...,
              `ElectraModel`), with `id2label` from the task's
              `label_names` and the tokenizer's `vocab.txt` and
              `tokenizer_config.json`;
            - a pre-trained pair: an `ElectraPretrainer`, a pair preset
              directory (`ElectraPretrainer.save_to_preset`, `keras-electra
              pretrain`) or the bundled pair's name
              (`"electra_tiny_gutenberg_en"`): two checkpoints, as Google's
              release has them, `directory/discriminator`
              (`ElectraForPreTraining`) and `directory/generator`
              (`ElectraForMaskedLM`);
            - any other preset (a directory, a built-in name, an `hf://`
              handle): its task, as above.
        directory: where to write (created).

    Returns:
        `directory`.

    `transformers.AutoModel...from_pretrained` loads what is written, and
    so does keras_electra's own `from_preset` (for a pair,
    `ElectraPretrainer.from_preset(directory)`).
    """
    from keras_electra.presets.resolver import resolve_preset
    from keras_electra.pretraining.electra_pretrainer import ElectraPretrainer

    directory = os.fspath(directory)
    if isinstance(task_or_pair, ElectraPretrainer):
        with tempfile.TemporaryDirectory() as tmp:
            task_or_pair.save_to_preset(tmp)
            _export_pair(tmp, directory)
        return directory
    if isinstance(task_or_pair, (str, os.PathLike)):
        preset = os.fspath(task_or_pair)
        if _is_pair(preset):
            _export_pair(preset, directory)
            return directory
        local = resolve_preset(preset)
        if not os.path.isdir(local):
            raise ValueError(
                f"Cannot export `{preset}`: it resolves to `{local}`, not a "
                "local preset directory. Download it first."
            )
        model, tokenizer = _load_preset_for_export(local)
        return save_transformers_checkpoint(model, directory, tokenizer)
    return save_transformers_checkpoint(task_or_pair, directory)
