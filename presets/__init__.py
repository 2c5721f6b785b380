"""The registry of Google's released ELECTRA checkpoints.

Installed as `keras_electra.presets` (see `pyproject.toml`). Each entry
names its source (a transformers-format repository on the Hugging Face Hub)
and the architecture it must have; the first `from_preset(name)` downloads
the source once, checks it against that architecture, converts it and keeps
the Keras preset in the cache (`$KERAS_ELECTRA_CACHE/presets/<name>`).
"""

import os

from keras_electra.utils.preset_resolution import cache_dir
from keras_electra.utils.preset_resolution import convert_into_cache
from keras_electra.utils.preset_resolution import download_hf_checkpoint

_LICENSE = "Apache-2.0"
_DATA = "uncased English; Wikipedia + BooksCorpus (Google's release)"

# Architecture of each released model (the paper's Table 6 and Google's
# `configure_pretraining.py`); `embedding_dim` is the shared embedding size.
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
    per_layer = 4 * (h * h + h) + 2 * h + (h * f + f) + (f * h + h) + 2 * h
    count += n * per_layer
    if head == "discriminator":
        count += h * h + h + h + 1
    elif head == "generator":
        count += h * e + e + 2 * e + v  # dense, LayerNorm, output bias
    return count


def _entry(size, kind):
    config = {**_COMMON, **_SHAPES[f"{size}_{kind}"]}
    return {
        "metadata": {
            "description": (
                f"ELECTRA-{size} {kind} ({config['num_layers']} layers, "
                f"hidden {config['hidden_dim']}, embeddings "
                f"{config['embedding_dim']}), {_DATA}."
            ),
            "params": parameter_count(config, head=kind),
            "license": _LICENSE,
            "path": "electra",
        },
        "source": f"hf://google/electra-{size}-{kind}",
        "task": "ElectraDiscriminator" if kind == "discriminator" else "ElectraMaskedLM",
        "config": config,
        # keras-hub's registry wants a handle; ours resolves before it looks.
        "kaggle_handle": f"hf://google/electra-{size}-{kind}",
    }


ELECTRA_PRESETS = {
    f"electra_{size}_{kind}_en": _entry(size, kind)
    for size in ("small", "base", "large")
    for kind in ("discriminator", "generator")
}


def _check_architecture(name, preset_dir):
    """The converted checkpoint must have the registered architecture."""
    import json

    with open(os.path.join(preset_dir, "config.json"), encoding="utf-8") as f:
        saved = json.load(f)["config"]
    expected = ELECTRA_PRESETS[name]["config"]
    wrong = {
        k: (saved.get(k), v) for k, v in expected.items() if saved.get(k) != v
    }
    if wrong:
        details = ", ".join(f"{k}: got {g}, expected {x}" for k, (g, x) in wrong.items())
        raise ValueError(
            f"The checkpoint downloaded for preset {name!r} does not have its "
            f"registered architecture ({details})."
        )


def resolve_builtin_preset(name):
    """The cached Keras preset for a built-in name; converts on first use."""
    target = os.path.join(cache_dir(), "presets", name)
    if os.path.exists(os.path.join(target, "config.json")):
        return target
    source = ELECTRA_PRESETS[name]["source"]
    try:
        local = download_hf_checkpoint(source)
    except OSError as e:
        raise OSError(
            f"Preset {name!r} is not in the cache ({target}) and its source "
            f"`{source}` could not be downloaded. To install it offline, get "
            "the checkpoint files elsewhere (transformers format: config.json, "
            "vocab.txt, model.safetensors or pytorch_model.bin; or Google's "
            "TF1 release: model.ckpt.* and vocab.txt) and run\n"
            f"    python tools/convert_checkpoint.py --preset-name {name} "
            "SOURCE_DIR\n"
            f"which writes the converted preset to {target}."
        ) from e
    return convert_into_cache(
        local, target, check=lambda tmp: _check_architecture(name, tmp)
    )
