"""The registry of Google's released ELECTRA checkpoints.

Installed as `keras_electra.presets` (see `pyproject.toml`). Each entry
names its source (Google's transformers-format repository on the Hugging
Face Hub, `hf://google/electra-...`), Google's original TF1 release it
comes from, and the architecture it must have. The first
`from_preset(name)` downloads the source once, checks it against that
architecture, converts it and keeps the Keras preset in the cache
(`$KERAS_ELECTRA_CACHE/presets/<name>`); later calls need no network.
Without network, `keras-electra convert --preset-name <name> SOURCE_DIR`
installs a preset into that same place from local files.

keras-hub's names for the same six checkpoints
(`electra_base_discriminator_uncased_en`, ...) are aliases of ours
(`KERAS_HUB_ALIASES`). `FINETUNING_DEFAULTS` holds Google's fine-tuning
hyper-parameters for each model size (`keras-electra finetune` uses them).

The names are also registered with keras-hub (when the package's classes
load, see `keras_electra/__init__.py`), so that
`keras_electra.ElectraBackbone.presets` (and every task's `presets`)
lists them. Importing this module imports neither Keras nor keras-hub.
"""

import json
import os
import sys

from keras_electra.utils import preset_resolution

LICENSE = "Apache-2.0"
GOOGLE_RELEASE = (
    "https://storage.googleapis.com/electra-data/electra_{size}.zip"
)
HF_URL = "https://huggingface.co/google/electra-{size}-{kind}"
SIZES = ("small", "base", "large")
KINDS = ("discriminator", "generator")
TASKS = {
    "discriminator": "ElectraDiscriminator",
    "generator": "ElectraMaskedLM",
}
# Files a transformers-format source must have (any one weights file).
HF_FILES = "config.json, vocab.txt and model.safetensors (or pytorch_model.bin)"

# Architecture of each released model: Google's `configure_pretraining.py`
# (model sizes; generator_hidden_size 1/4 for base and large, 1.0 for the
# released small model) and the Hub configs. The embedding size is shared
# by both networks of a pair.
_SHAPES = {
    "small_discriminator": dict(
        embedding_dim=128, hidden_dim=256, num_layers=12, num_heads=4,
        intermediate_dim=1024,
    ),
    "small_generator": dict(
        embedding_dim=128, hidden_dim=256, num_layers=12, num_heads=4,
        intermediate_dim=1024,
    ),
    "base_discriminator": dict(
        embedding_dim=768, hidden_dim=768, num_layers=12, num_heads=12,
        intermediate_dim=3072,
    ),
    "base_generator": dict(
        embedding_dim=768, hidden_dim=256, num_layers=12, num_heads=4,
        intermediate_dim=1024,
    ),
    "large_discriminator": dict(
        embedding_dim=1024, hidden_dim=1024, num_layers=24, num_heads=16,
        intermediate_dim=4096,
    ),
    "large_generator": dict(
        embedding_dim=1024, hidden_dim=256, num_layers=24, num_heads=4,
        intermediate_dim=1024,
    ),
}
_COMMON = dict(vocabulary_size=30522, max_sequence_length=512, num_segments=2)


def parameter_count(config, head=None):
    """Number of weights of an ELECTRA model with `config` (backbone args).

    `head` adds the task head: "discriminator" or "generator".
    """
    v, e, h = config["vocabulary_size"], config["embedding_dim"], config["hidden_dim"]
    f, n = config["intermediate_dim"], config["num_layers"]
    p, s = config["max_sequence_length"], config["num_segments"]
    count = (v + p + s) * e + 2 * e  # embeddings + LayerNorm
    if e != h:
        count += e * h + h  # projection
    # attention (q, k, v, out) + LayerNorm + feedforward + LayerNorm
    per_layer = 4 * (h * h + h) + 2 * h + (h * f + f) + (f * h + h) + 2 * h
    count += n * per_layer
    if head == "discriminator":
        count += h * h + h + h + 1  # dense + dense_prediction
    elif head == "generator":
        count += h * e + e + 2 * e + v  # dense, LayerNorm, output bias
    return count


# Google's fine-tuning defaults by model size, from google-research/electra
# `configure_finetuning.py`: learning rate 1e-4 (5e-5 for large), layer-wise
# learning-rate decay 0.8 (0.9 for large), 3 epochs (GLUE tasks other than
# RTE and STS-B, which take 10; SQuAD takes 2). The paper's Table 7 lists
# 3e-4 for ELECTRA-Small; the released code's default, used here, is 1e-4.
FINETUNING_DEFAULTS = {
    "small": dict(learning_rate=1e-4, layerwise_lr_decay=0.8, epochs=3),
    "base": dict(learning_rate=1e-4, layerwise_lr_decay=0.8, epochs=3),
    "large": dict(learning_rate=5e-5, layerwise_lr_decay=0.9, epochs=3),
}


def _entry(size, kind):
    config = {**_COMMON, **_SHAPES[f"{size}_{kind}"]}
    source = f"hf://google/electra-{size}-{kind}"
    return {
        "metadata": {
            "description": (
                f"ELECTRA-{size.capitalize()} {kind} "
                f"({config['num_layers']} layers, hidden "
                f"{config['hidden_dim']}, embeddings "
                f"{config['embedding_dim']}), uncased English, pre-trained "
                "by Google on Wikipedia + BooksCorpus."
            ),
            "params": parameter_count(config, head=kind),
            "license": LICENSE,
            "source": source,
            "url": HF_URL.format(size=size, kind=kind),
            "original_release": GOOGLE_RELEASE.format(size=size),
            "path": "electra",
        },
        "source": source,
        "task": TASKS[kind],
        "kind": kind,
        "size": size,
        "config": config,
        # keras-hub's registry wants a handle; ours resolves names first.
        "kaggle_handle": source,
    }


ELECTRA_PRESETS = {
    f"electra_{size}_{kind}_en": _entry(size, kind)
    for size in SIZES
    for kind in KINDS
}

# keras-hub's own names for the same checkpoints
# (keras_hub/src/models/electra/electra_presets.py) -> ours.
KERAS_HUB_ALIASES = {
    f"electra_{size}_{kind}_uncased_en": f"electra_{size}_{kind}_en"
    for size in SIZES
    for kind in KINDS
}


def canonical_name(name):
    """Our registry name for `name` (a keras-hub alias), else `name`."""
    return KERAS_HUB_ALIASES.get(name, name)


def is_builtin_name(name):
    """`name` is a built-in preset name or a keras-hub alias of one."""
    return canonical_name(name) in ELECTRA_PRESETS


def finetuning_defaults(name):
    """Google's fine-tuning defaults (`FINETUNING_DEFAULTS`) for the size
    of built-in preset `name` (or alias); `None` for any other model."""
    if not isinstance(name, str) or not is_builtin_name(name):
        return None
    size = ELECTRA_PRESETS[canonical_name(name)]["size"]
    return dict(FINETUNING_DEFAULTS[size])


def preset_path(name):
    """Where the converted preset `name` lives in the cache."""
    return os.path.join(preset_resolution.cache_dir(), "presets", name)


def check_architecture(name, preset_dir):
    """The converted preset must have the registered architecture."""
    with open(os.path.join(preset_dir, "config.json"), encoding="utf-8") as f:
        _compare_architecture(name, json.load(f)["config"])


def _check_source_architecture(name, source_dir):
    """Refuse a downloaded transformers checkpoint before converting it."""
    from keras_electra.conversion import transformers_loader

    if preset_resolution._is_transformers_dir(source_dir):
        config = transformers_loader.load_transformers_config(source_dir)
        _compare_architecture(
            name, transformers_loader.backbone_kwargs_from_config(config)
        )


def _compare_architecture(name, saved):
    expected = ELECTRA_PRESETS[name]["config"]
    wrong = {
        k: (saved.get(k), v) for k, v in expected.items() if saved.get(k) != v
    }
    if wrong:
        details = ", ".join(
            f"{k}: got {g}, expected {x}" for k, (g, x) in wrong.items()
        )
        raise ValueError(
            f"The checkpoint for preset {name!r} does not have its "
            f"registered architecture ({details}): it is not {name}."
        )


def offline_instructions(name):
    """How to install preset `name` without network access."""
    entry = ELECTRA_PRESETS[name]
    meta = entry["metadata"]
    return (
        f"To install it from local files, get either\n"
        f"  - the transformers checkpoint {meta['url']} ({HF_FILES}), or\n"
        f"  - Google's original TF1 release {meta['original_release']} "
        "(unzipped: model.ckpt-<step>.index, model.ckpt-<step>.data-*, "
        "vocab.txt; it holds the generator and the discriminator)\n"
        "into a directory SOURCE_DIR, then run\n"
        f"    keras-electra convert --preset-name {name} SOURCE_DIR\n"
        f"which writes the converted preset to {preset_path(name)}."
    )


def resolve_builtin_preset(name):
    """The cached Keras preset for a built-in name (or keras-hub alias);
    converts on first use."""
    name = canonical_name(name)
    target = preset_path(name)
    if os.path.exists(os.path.join(target, "config.json")):
        return target
    source = ELECTRA_PRESETS[name]["source"]
    try:
        local = preset_resolution.download_hf_checkpoint(source)
    except OSError as e:
        raise OSError(
            f"Preset {name!r} is not in the cache ({target}) and its source "
            f"`{source}` could not be downloaded ({e}).\n"
            + offline_instructions(name)
        ) from e
    _check_source_architecture(name, local)
    return preset_resolution.convert_into_cache(
        local, target, check=lambda tmp: check_architecture(name, tmp)
    )


def _register_with_keras_hub():
    """List the names in `ElectraBackbone.presets` (and the tasks')."""
    # Private: keras-hub has no public API to register presets (0.32).
    from keras_hub.src.utils.preset_utils import register_presets

    from keras_electra.models.electra_backbone import ElectraBackbone

    register_presets(ELECTRA_PRESETS, ElectraBackbone)


# Registered by `keras_electra._load_all` (the first public class used); here
# when the backbone is already loaded. Never imports Keras by itself.
if "keras_electra.models.electra_backbone" in sys.modules:
    _register_with_keras_hub()
