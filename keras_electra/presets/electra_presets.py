"""The registry of Google's released ELECTRA checkpoints: tables, no I/O.

Like keras-hub's `<model>_presets.py`: one entry per built-in name with its
source (Google's transformers-format repository on the Hugging Face Hub,
`hf://google/electra-...`), Google's original TF1 release it comes from,
and the architecture it must have; keras-hub's names for the same six
checkpoints (`KERAS_HUB_ALIASES`); and Google's fine-tuning
hyper-parameters for each model size (`FINETUNING_DEFAULTS`). The lookups
by name below read these tables and nothing else.

What the names resolve to (download, convert, cache) is
`keras_electra.presets.resolver`. This module imports nothing.
"""

LICENSE = "Apache-2.0"
GOOGLE_RELEASE = (
    "https://storage.googleapis.com/electra-data/electra_{size}.zip"
)
HF_URL = "https://huggingface.co/google/electra-{size}-{kind}"
SIZES = ("small", "base", "large")
# The two networks of ELECTRA, in this order: the names of the released
# checkpoints' kinds and of a pre-training pair's members (the one
# definition; `presets.resolver`, `pretraining.pair_preset`, the converters
# and the command line take them from here).
DISCRIMINATOR = "discriminator"
GENERATOR = "generator"
PAIR_MEMBERS = (DISCRIMINATOR, GENERATOR)
TASKS = {
    DISCRIMINATOR: "ElectraDiscriminator",
    GENERATOR: "ElectraMaskedLM",
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
    if head == DISCRIMINATOR:
        count += h * h + h + h + 1  # dense + dense_prediction
    elif head == GENERATOR:
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
    for kind in PAIR_MEMBERS
}

# keras-hub's own names for the same checkpoints
# (keras_hub/src/models/electra/electra_presets.py) -> ours.
KERAS_HUB_ALIASES = {
    f"electra_{size}_{kind}_uncased_en": f"electra_{size}_{kind}_en"
    for size in SIZES
    for kind in PAIR_MEMBERS
}


def canonical_name(name):
    """Our registry name for `name` (a keras-hub alias), else `name`."""
    return KERAS_HUB_ALIASES.get(name, name)


# Presets that ship inside the package (`keras_electra/presets/bundled/
# <name>/`: a generator + discriminator pair with its model card), so they
# load offline. Each was pre-trained by this package; its card says how.
BUNDLED_PRESETS = {
    "electra_tiny_gutenberg_en": {
        "metadata": {
            "description": (
                "A tiny ELECTRA (4 layers, hidden 128, 2 heads, embeddings "
                "128; generator: the same depth at half the width, sharing "
                "the embeddings) with its own 6,158-piece uncased "
                "vocabulary, pre-trained by keras_electra on nine "
                "public-domain novels, held-out chapters excluded. Ships "
                "with the package (no download). Model card: README.md in "
                "its directory."
            ),
            # Discriminator and generator, the shared embeddings once.
            "params": 1_837_775,
            "license": LICENSE,
            "path": "electra",
        },
        "kind": "pair",
        "task": "ElectraDiscriminator",
        # Files the pair's members share byte for byte (here the one
        # vocabulary): the package stores each once and
        # `bundled_preset_dir` links it into place.
        "shared_files": {
            "generator/assets/tokenizer/vocabulary.txt": (
                "discriminator/assets/tokenizer/vocabulary.txt"
            ),
        },
    },
}


def is_bundled_name(name):
    """`name` is a preset that ships inside the package."""
    return name in BUNDLED_PRESETS


def is_builtin_name(name):
    """`name` is a built-in preset name (one of Google's, a keras-hub alias
    of one, or a bundled preset)."""
    return canonical_name(name) in ELECTRA_PRESETS or is_bundled_name(name)


def builtin_names():
    """Every built-in name (Google's and the bundled ones), sorted."""
    return sorted([*ELECTRA_PRESETS, *BUNDLED_PRESETS])


def finetuning_defaults(name):
    """Google's fine-tuning defaults (`FINETUNING_DEFAULTS`) for the size
    of Google's preset `name` (or alias); `None` for any other model."""
    if not isinstance(name, str) or canonical_name(name) not in ELECTRA_PRESETS:
        return None
    size = ELECTRA_PRESETS[canonical_name(name)]["size"]
    return dict(FINETUNING_DEFAULTS[size])
