"""Turn whatever a user passes as `preset` into a Keras preset directory.

keras-hub's preset machinery loads Keras presets (local, `kaggle://`,
`hf://`). ELECTRA users also hold transformers checkpoints and Google's
preset names, so every keras_electra class resolves its `preset` first:

- a built-in name (`electra_base_discriminator_en`): the converted preset
  in the cache, made on first use from its `hf://google/...` source;
- an `hf://org/name` handle: downloaded, and converted if it is in
  transformers' format;
- a local directory in transformers' format: converted (cached by content);
- a Keras preset directory or any other handle: passed through.

Conversions are written to a temporary directory and renamed into the
cache, so a failed download or conversion never leaves half a preset; a
lock file makes processes that convert the same preset at once wait for
the first one's result (one conversion, one copy in the cache).
"""

import contextlib
import difflib
import hashlib
import json
import os
import shutil
import tempfile

CACHE_ENV = "KERAS_ELECTRA_CACHE"
HF_SCHEME = "hf"
CONFIG_FILE = "config.json"


class PresetError(ValueError):
    """A preset directory whose files are not a usable preset; the message
    names the file and the problem."""


def cache_dir():
    """Root of keras_electra's cache (`$KERAS_ELECTRA_CACHE`)."""
    default = os.path.join(os.path.expanduser("~"), ".cache", "keras_electra")
    return os.environ.get(CACHE_ENV, default)


def _builtin_presets():
    from keras_electra.presets import ELECTRA_PRESETS

    return ELECTRA_PRESETS


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


def _is_transformers_dir(directory):
    config = read_preset_config(directory)
    if config is None:
        return False
    check_preset_config(directory, config)
    return "model_type" in config and "registered_name" not in config


def _local_fingerprint(directory):
    """A key that changes whenever a checkpoint directory's files change."""
    h = hashlib.sha256(os.path.abspath(directory).encode())
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            st = os.stat(path)
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def converted_path(cache_key):
    return os.path.join(cache_dir(), "converted", cache_key)


def convert_into_cache(source_dir, target, check=None, convert=None):
    """Convert a checkpoint directory into the Keras preset `target`.

    `convert(source_dir, output_dir)` does the conversion (default: a
    transformers directory). The preset is written to a temporary directory
    beside `target`, checked with `check(tmp_dir)` if given, then renamed:
    nothing is left at `target` if the conversion or the check fails.
    Returns `target`.
    """
    if convert is None:
        from keras_electra.conversion.transformers_loader import (
            convert_transformers_checkpoint as convert,
        )

    if _complete(target):
        return target
    parent, name = os.path.split(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    with _cache_lock(target):
        if _complete(target):
            return target  # Converted by another process while we waited.
        prefix = f".tmp-{name}-"
        # Left by a conversion that was killed (we hold the lock).
        for stale in os.listdir(parent):
            if stale.startswith(prefix):
                shutil.rmtree(os.path.join(parent, stale), ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=prefix, dir=parent)
        try:
            convert(source_dir, tmp)
            if check is not None:
                check(tmp)
            if os.path.exists(target):
                # An incomplete `target` (say, copied by hand) is replaced;
                # renamed away first, then deleted.
                trash = tempfile.mkdtemp(prefix=prefix, dir=parent)
                os.replace(target, os.path.join(trash, "old"))
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            for stale in os.listdir(parent):
                if stale.startswith(prefix):
                    shutil.rmtree(
                        os.path.join(parent, stale), ignore_errors=True
                    )
    return target


def _complete(target):
    return os.path.exists(os.path.join(target, CONFIG_FILE))


@contextlib.contextmanager
def _cache_lock(target):
    """An exclusive lock for writing `target`: POSIX `flock` on a file in
    `$KERAS_ELECTRA_CACHE/locks` (elsewhere none: the rename alone keeps
    the cache whole)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    locks = os.path.join(cache_dir(), "locks")
    os.makedirs(locks, exist_ok=True)
    key = hashlib.sha256(os.path.abspath(target).encode()).hexdigest()[:24]
    with open(os.path.join(locks, f"{key}.lock"), "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def download_hf_checkpoint(handle):
    """Download the files of `hf://org/name` that a conversion needs.

    Returns the local snapshot directory.
    """
    try:
        import huggingface_hub
    except ImportError as e:
        raise ImportError(
            f"Loading `{handle}` needs `huggingface_hub` "
            "(`pip install huggingface_hub`)."
        ) from e
    repo_id = handle.split("://", 1)[1]
    patterns = [
        "config.json",
        "vocab.txt",
        "tokenizer.json",
        "tokenizer_config.json",
        "*.safetensors",
        "model.safetensors.index.json",
        "*.weights.h5",
        "*.json",
        "assets/**",
    ]
    try:
        path = huggingface_hub.snapshot_download(
            repo_id=repo_id, allow_patterns=patterns
        )
    except Exception as e:
        raise OSError(
            f"Could not download `{handle}` ({type(e).__name__}: {e}). "
            "Without network access, download the checkpoint elsewhere "
            "(`config.json`, `vocab.txt`, `model.safetensors` or "
            "`pytorch_model.bin`) and pass its local directory, or convert "
            "it with `keras-electra convert`."
        ) from e
    has_weights = any(
        name.endswith((".safetensors", ".weights.h5"))
        for name in os.listdir(path)
    )
    if not has_weights:
        # Old repositories hold only `pytorch_model.bin`.
        huggingface_hub.hf_hub_download(repo_id, "pytorch_model.bin")
        path = huggingface_hub.snapshot_download(
            repo_id=repo_id, allow_patterns=patterns + ["pytorch_model.bin"]
        )
    return path


def unknown_preset_error(preset):
    names = sorted(_builtin_presets())
    close = difflib.get_close_matches(preset, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(
        f"Unknown preset {preset!r}.{hint} A preset is one of: a built-in "
        f"name ({', '.join(names)}); an `hf://org/name` or `kaggle://` "
        "handle; or a local directory holding a Keras preset or a "
        "transformers checkpoint."
    )


def _convert_keras_hub_or_keep(directory, cache_key):
    """Convert a keras-hub `ElectraBackbone` preset; keep any other."""
    from keras_electra.conversion import keras_hub_loader

    if not keras_hub_loader.is_keras_hub_electra_preset(directory):
        return directory
    return convert_into_cache(
        directory,
        converted_path("keras_hub--" + cache_key),
        convert=keras_hub_loader.convert_keras_hub_preset,
    )


def resolve_preset(preset):
    """Return a Keras preset (directory or handle) for `preset`."""
    if not isinstance(preset, (str, os.PathLike)):
        raise ValueError(
            f"A preset must be a string or path. Received: {preset!r}"
        )
    preset = os.fspath(preset)
    builtin = _builtin_presets()
    from keras_electra.presets import canonical_name  # keras-hub's names

    preset = canonical_name(preset)
    if preset in builtin:
        from keras_electra.presets import resolve_builtin_preset

        return resolve_builtin_preset(preset)
    if "://" in preset:
        scheme = preset.split("://", 1)[0].lower()
        if scheme != HF_SCHEME:
            return preset  # kaggle://, gs://, ...: keras-hub loads these.
        local = download_hf_checkpoint(preset)
        key = "hf--" + preset.split("://", 1)[1].replace("/", "--")
        if _is_transformers_dir(local):
            return convert_into_cache(local, converted_path(key))
        return _convert_keras_hub_or_keep(local, key)
    if os.path.isdir(preset):
        if _is_transformers_dir(preset):
            from keras_electra.presets.validation import check_vocabulary_file

            check_vocabulary_file(os.path.join(preset, "vocab.txt"))
            return convert_into_cache(
                preset, converted_path(_local_fingerprint(preset))
            )
        return _convert_keras_hub_or_keep(preset, _local_fingerprint(preset))
    if os.path.exists(preset):
        raise ValueError(
            f"Preset {preset!r} is a file; a preset is a directory (a Keras "
            "preset or a transformers checkpoint)."
        )
    if os.sep in preset or preset.startswith("."):
        raise FileNotFoundError(f"Preset directory {preset!r} does not exist.")
    raise unknown_preset_error(preset)


class PresetResolvingMixin:
    """Makes `from_preset` accept every preset form keras_electra knows.

    Placed before the keras-hub base class (`Backbone`, `Task`,
    `Preprocessor`, `Tokenizer`); it resolves the preset, then hands over.
    """

    @classmethod
    def from_preset(cls, preset, **kwargs):
        from keras_electra.presets.validation import load_checked

        # Checks the preset's files and explains load errors.
        return load_checked(
            super().from_preset, resolve_preset(preset), **kwargs
        )
