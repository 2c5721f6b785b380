"""Checks of a local preset directory, so that a broken one fails clearly.

Keras' own errors for a broken preset are either cryptic (an h5 error for
a truncated weights file, "17 objects could not be loaded" for weights of
another architecture) or absent (weights of a deeper model load silently
into a shallower one). `load_checked` checks the files before loading and
the loaded weights after, and names the problem.
"""

import json
import os

from keras_electra.presets.cache import cache_dir
from keras_electra.utils.data_files import iter_lines

CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
WEIGHT_FILES = ("model.weights.h5", "task.weights.h5")
VOCABULARY_ASSET = os.path.join("assets", "tokenizer", "vocabulary.txt")
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class PresetError(ValueError):
    """A preset directory whose files are not a usable preset; the message
    names the file and the problem."""


def read_preset_config(directory):
    """The `config.json` of a preset directory (a dict), or `None` if it
    has none; `PresetError` if it is not a JSON object."""
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise PresetError(
            f"`{path}` is not a JSON file ({type(e).__name__}: "
            f"{str(e)[:200]}): the preset directory `{directory}` is broken."
        ) from None
    if not isinstance(config, dict):
        raise PresetError(
            f"`{path}` holds a JSON {type(config).__name__}, not the object "
            "of a model config: the preset directory is broken."
        )
    return config


def _config_kind(config):
    """What a `config.json` that is not a model config looks like."""
    if "tokenizer_class" in config or "do_lower_case" in config:
        return "a tokenizer config (`tokenizer_config.json`)"
    if "vocab" in config or "model" in config and "added_tokens" in config:
        return "a tokenizer file (`tokenizer.json`)"
    return "no model config"


def check_preset_config(directory, config):
    """`PresetError` unless `config` (from `directory/config.json`) is a
    Keras preset config or a transformers model config."""
    if "model_type" in config:
        return
    inner = config.get("config")
    if ("class_name" in config or "registered_name" in config) and isinstance(
        inner, dict
    ):
        return
    path = os.path.join(directory, CONFIG_FILE)
    raise PresetError(
        f"`{path}` is not a model config: it has neither `model_type` (a "
        "transformers checkpoint) nor `class_name` and `config` (a Keras "
        f"preset); it looks like {_config_kind(config)}. Its keys: "
        f"{', '.join(sorted(map(str, config))[:8]) or '(none)'}."
    )


def _where(directory):
    """A hint on how to repair `directory`."""
    if os.path.abspath(directory).startswith(os.path.abspath(cache_dir())):
        return (
            f" `{directory}` is in keras_electra's cache: delete it and it is "
            "downloaded and converted again on the next `from_preset`."
        )
    return " Save or convert the preset again."


def _h5_shapes(path):
    """The shapes of all arrays in a Keras `.weights.h5` file."""
    import h5py

    shapes = []
    try:
        with h5py.File(path, "r") as f:
            f.visititems(
                lambda name, obj: shapes.append(tuple(obj.shape))
                if isinstance(obj, h5py.Dataset)
                else None
            )
    except OSError as e:
        raise ValueError(
            f"The weights file `{path}` is truncated or corrupt ({e})."
            + _where(os.path.dirname(path))
        ) from e
    return shapes


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(
            f"`{path}` is not a readable JSON file ({e})."
            + _where(os.path.dirname(path))
        ) from e


def read_vocabulary_file(path):
    """The tokens of a WordPiece vocabulary file, one per line.

    Raises `ValueError` naming the file (and line) if it is not UTF-8
    text, holds a token twice, or lacks one of `[PAD] [UNK] [CLS] [SEP]
    [MASK]`: such a vocabulary would load and then tokenize wrongly.
    """
    tokens, first_line = [], {}
    for number, line in iter_lines(path):
        token = line.rstrip("\n").rstrip("\r")
        if token in first_line and token:
            raise PresetError(
                f"The vocabulary `{path}` holds {token!r} twice (lines "
                f"{first_line[token]} and {number}): every token must be "
                "on one line only." + _where(os.path.dirname(path))
            )
        first_line.setdefault(token, number)
        tokens.append(token)
    if tokens and tokens[-1] == "":
        tokens.pop()
    missing = [t for t in SPECIAL_TOKENS if t not in first_line]
    if missing:
        raise PresetError(
            f"The vocabulary `{path}` lacks the special token"
            f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}, which "
            f"ELECTRA needs ({' '.join(SPECIAL_TOKENS)})."
            + _where(os.path.dirname(path))
        )
    return tokens


def check_vocabulary_file(path):
    """`read_vocabulary_file` if `path` exists (else nothing)."""
    if os.path.isfile(path):
        read_vocabulary_file(path)


def check_preset_files(directory):
    """Check a Keras preset directory before loading it.

    Raises `ValueError` naming the problem if `config.json` is not a model
    config (say, a tokenizer config), if a weights file is empty,
    truncated or corrupt, if the vocabulary holds a token twice or lacks a
    special token, or if it does not have the backbone's
    `vocabulary_size`.
    """
    config = read_preset_config(directory)
    if config is not None:
        check_preset_config(directory, config)
    for name in WEIGHT_FILES:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            if os.path.getsize(path) == 0:
                raise PresetError(
                    f"The weights file `{path}` is empty (0 bytes)."
                    + _where(directory)
                )
            _h5_shapes(path)
    config_path = os.path.join(directory, CONFIG_FILE)
    vocab_path = os.path.join(directory, VOCABULARY_ASSET)
    if not os.path.exists(vocab_path):
        return
    tokens = read_vocabulary_file(vocab_path)
    if config is None:
        return
    inner = config.get("config")
    size = inner.get("vocabulary_size") if isinstance(inner, dict) else None
    if size is not None and len(tokens) != size:
        raise ValueError(
            f"The vocabulary `{vocab_path}` has {len(tokens)} tokens but the "
            f"backbone in `{config_path}` has `vocabulary_size` {size}: the "
            "vocabulary does not belong to these weights." + _where(directory)
        )


def _mismatch(backbone, directory):
    """A message if `model.weights.h5` does not hold `backbone`'s weights."""
    path = os.path.join(directory, WEIGHT_FILES[0])
    if backbone is None or not os.path.exists(path):
        return None
    in_file = sorted(_h5_shapes(path))
    in_model = sorted(tuple(v.shape) for v in backbone.weights)
    if in_file == in_model:
        return None
    only_file, only_model = list(in_file), []
    for shape in in_model:
        if shape in only_file:
            only_file.remove(shape)
        else:
            only_model.append(shape)
    return (
        f"The weights in `{path}` do not match the architecture in "
        f"`{os.path.join(directory, CONFIG_FILE)}`: the file holds "
        f"{len(in_file)} arrays, the config describes {len(in_model)}. "
        f"Shapes only in the file: {only_file[:6]}; only in the config: "
        f"{only_model[:6]}. The config (e.g. `hidden_dim`, `num_layers`, "
        "`vocabulary_size`) and the weights come from different models."
        + _where(directory)
    )


def _backbone_from_config(directory):
    import keras

    config = _read_json(os.path.join(directory, CONFIG_FILE))
    try:
        return keras.saving.deserialize_keras_object(config)
    except Exception:
        return None


def load_checked(load, preset, **kwargs):
    """`load(preset, **kwargs)` with checks for local preset directories."""
    from keras_hub.models import Backbone

    if not (isinstance(preset, str) and os.path.isdir(preset)):
        return load(preset, **kwargs)
    check_preset_files(preset)
    has_config = os.path.exists(os.path.join(preset, CONFIG_FILE))
    try:
        loaded = load(preset, **kwargs)
    except Exception as e:
        problem = has_config and _mismatch(
            _backbone_from_config(preset), preset
        )
        if problem:
            raise ValueError(problem) from e
        raise
    if has_config and kwargs.get("load_weights", True):
        backbone = loaded if isinstance(loaded, Backbone) else None
        backbone = getattr(loaded, "backbone", backbone)
        problem = _mismatch(backbone, preset)
        if problem:
            raise ValueError(problem)
    return loaded
