"""Turn whatever a user passes as `preset` into a Keras preset directory.

keras-hub's preset machinery loads Keras presets (local, `kaggle://`,
`hf://`). ELECTRA users also hold transformers checkpoints and Google's
preset names, so every keras_electra class resolves its `preset` first
(`PresetResolvingMixin`):

- a built-in name (`electra_base_discriminator_en`, or keras-hub's alias
  `electra_base_discriminator_uncased_en`): the converted preset in the
  cache, made on first use from its `hf://google/...` source;
- an `hf://org/name` handle: downloaded, and converted if it is a
  checkpoint in a registered source format;
- a local directory in a registered source format: converted (cached by
  content);
- a Keras preset directory or any other handle: passed through.

Source formats (transformers, keras-hub's own `ElectraBackbone`) are
registered by `keras_electra.conversion` when it is imported (and
`import keras_electra` always imports it): the converters build models,
so they live above this package, which imports no model and no converter.
Conversions go through `keras_electra.presets.cache`: nothing half-written
is ever left in the cache.
"""

import dataclasses
import difflib
import hashlib
import json
import os
import shutil
import tempfile

from keras_electra.presets.adapters import restore_adapter
from keras_electra.presets.adapters import save_with_adapter
from keras_electra.presets.cache import bundled_path
from keras_electra.presets.cache import converted_path
from keras_electra.presets.cache import is_complete
from keras_electra.presets.cache import preset_path
from keras_electra.presets.cache import write_into_cache
from keras_electra.presets.electra_presets import BUNDLED_PRESETS
from keras_electra.presets.electra_presets import DISCRIMINATOR
from keras_electra.presets.electra_presets import ELECTRA_PRESETS
from keras_electra.presets.electra_presets import builtin_names
from keras_electra.presets.electra_presets import HF_FILES
from keras_electra.presets.electra_presets import PAIR_MEMBERS
from keras_electra.presets.electra_presets import canonical_name
from keras_electra.presets.validation import CONFIG_FILE
from keras_electra.presets.validation import check_preset_config
from keras_electra.presets.validation import check_vocabulary_file
from keras_electra.presets.validation import load_checked
from keras_electra.presets.validation import read_preset_config

HF_SCHEME = "hf"
TRANSFORMERS = "transformers"


# === Source formats: filled in by `keras_electra.conversion` ===


@dataclasses.dataclass(frozen=True)
class SourceFormat:
    """A checkpoint format that `resolve_preset` converts to a Keras preset.

    Attributes:
        name: the format's name (`"transformers"`, `"keras_hub"`).
        detect: `detect(directory) -> bool`.
        convert: `convert(source_dir, output_dir)`: writes the Keras preset.
        cache_prefix: prepended to the cache key of its conversions
            (`$KERAS_ELECTRA_CACHE/converted/<prefix><key>`).
        backbone_config: `backbone_config(directory)`: the `ElectraBackbone`
            arguments of a checkpoint, to check a built-in preset's source
            before converting it; `None` if the format cannot tell.
    """

    name: str
    detect: object
    convert: object
    cache_prefix: str = ""
    backbone_config: object = None


# Name -> `SourceFormat`, tried in registration order.
_SOURCE_FORMATS = {}


def register_source_format(
    name, detect, convert, cache_prefix="", backbone_config=None
):
    """Register (or replace) a checkpoint format `resolve_preset` converts.

    Called by `keras_electra.conversion` when it is imported.
    """
    _SOURCE_FORMATS[name] = SourceFormat(
        name, detect, convert, cache_prefix, backbone_config
    )


def registered_format(name):
    """The registered `SourceFormat` called `name`, or a clear error."""
    if name not in _SOURCE_FORMATS:
        raise RuntimeError(
            f"No converter for {name} checkpoints is registered. "
            "`keras_electra.conversion` registers them when it is imported "
            "(`import keras_electra` does that)."
        )
    return _SOURCE_FORMATS[name]


def source_format(directory):
    """The registered format of checkpoint `directory`, or `None` (a Keras
    preset, or files no converter knows). `PresetError` if its
    `config.json` is not a model config."""
    config = read_preset_config(directory)
    if config is not None:
        check_preset_config(directory, config)
    for fmt in _SOURCE_FORMATS.values():
        if fmt.detect(directory):
            return fmt
    return None


def is_transformers_dir(directory):
    """Whether `directory` is a transformers checkpoint (its `config.json`
    has `model_type` and is no Keras config); `PresetError` if its
    `config.json` is not a model config."""
    config = read_preset_config(directory)
    if config is None:
        return False
    check_preset_config(directory, config)
    return "model_type" in config and "registered_name" not in config


_is_transformers_dir = is_transformers_dir  # the old private name


# === Conversion into the cache ===


def _local_fingerprint(directory):
    """A key that changes whenever a checkpoint directory's files change."""
    h = hashlib.sha256(os.path.abspath(directory).encode())
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            st = os.stat(path)
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def convert_into_cache(source_dir, target, check=None, convert=None):
    """Convert a checkpoint directory into the Keras preset `target`.

    `convert(source_dir, output_dir)` does the conversion (default: the
    registered transformers converter). Written atomically (see
    `keras_electra.presets.cache.write_into_cache`), checked with
    `check(tmp_dir)` if given. Returns `target`.
    """
    if is_complete(target):
        return target
    if convert is None:
        convert = registered_format(TRANSFORMERS).convert
    return write_into_cache(source_dir, target, convert, check=check)


def _convert_if_checkpoint(directory, cache_key):
    """The converted preset if `directory` is in a registered source
    format, else `directory` itself (a Keras preset)."""
    fmt = source_format(directory)
    if fmt is None:
        return directory
    return convert_into_cache(
        directory,
        converted_path(fmt.cache_prefix + cache_key),
        convert=fmt.convert,
    )


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


# === Built-in names ===


def unknown_preset_error(preset):
    names = builtin_names()
    close = difflib.get_close_matches(preset, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(
        f"Unknown preset {preset!r}.{hint} A preset is one of: a built-in "
        f"name ({', '.join(names)}); an `hf://org/name` or `kaggle://` "
        "handle; or a local directory holding a Keras preset or a "
        "transformers checkpoint."
    )


def check_architecture(name, preset_dir):
    """The converted preset must have the registered architecture."""
    with open(os.path.join(preset_dir, CONFIG_FILE), encoding="utf-8") as f:
        _compare_architecture(name, json.load(f)["config"])


def _check_source_architecture(name, source_dir):
    """Refuse a downloaded checkpoint of another architecture before
    converting it."""
    fmt = source_format(source_dir)
    if fmt is not None and fmt.backbone_config is not None:
        _compare_architecture(name, fmt.backbone_config(source_dir))


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
    if os.path.exists(os.path.join(target, CONFIG_FILE)):
        return target
    source = ELECTRA_PRESETS[name]["source"]
    try:
        local = download_hf_checkpoint(source)
    except OSError as e:
        raise OSError(
            f"Preset {name!r} is not in the cache ({target}) and its source "
            f"`{source}` could not be downloaded ({e}).\n"
            + offline_instructions(name)
        ) from e
    _check_source_architecture(name, local)
    return convert_into_cache(
        local, target, check=lambda tmp: check_architecture(name, tmp)
    )


# === Any preset ===


BUNDLED_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "bundled"
)
# The pair format's description file, which also marks a finished pair
# directory. Defined here, below `keras_electra.pretraining.pair_preset`
# (the format's definition), which takes it from here.
PAIR_FILE = "pretraining_pair.json"


def bundled_preset_dir(name):
    """The directory of bundled pair preset `name`, every file in place.

    The package's own directory, unless its registry entry lists
    `shared_files` that the package stores once (a tied pair's generator
    backbone is the discriminator's): then a directory in the cache of
    links to the package's files, with each shared file linked from its
    one copy. It is made on first use and follows the installed package.
    """
    if name not in BUNDLED_PRESETS:
        raise ValueError(f"{name!r} is not a bundled preset.")
    packaged = os.path.join(BUNDLED_DIR, name)
    shared = BUNDLED_PRESETS[name].get("shared_files", {})
    if not shared:
        return packaged
    files = sorted(
        os.path.relpath(os.path.join(root, f), packaged)
        for root, _, names in os.walk(packaged)
        for f in names
    )
    key = hashlib.sha256(
        json.dumps([packaged, files, sorted(shared.items())]).encode()
    ).hexdigest()[:16]

    def link_all(source, tmp):
        for relative in sorted(set(files) | set(shared)):
            original = os.path.join(source, shared.get(relative, relative))
            if not os.path.isfile(original):
                raise FileNotFoundError(
                    f"The bundled preset {name!r} is incomplete: "
                    f"{original} is missing. Reinstall keras_electra."
                )
            target = os.path.join(tmp, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _link_or_copy(original, target)

    try:
        return write_into_cache(
            packaged, bundled_path(name, key), link_all, marker=PAIR_FILE
        )
    except FileNotFoundError:
        raise  # The package itself is incomplete (`link_all`).
    except OSError:
        # A cache this user cannot write (a read-only home or file
        # system): a directory of this process's own instead.
        tmp = tempfile.mkdtemp(prefix=f"keras_electra_{name}_")
        link_all(packaged, tmp)
        return tmp


def _link_or_copy(source, target):
    """A symbolic link to `source`, or a copy where links are refused."""
    try:
        os.symlink(os.path.abspath(source), target)
    except OSError:
        shutil.copyfile(source, target)


def resolve_preset(preset, member=DISCRIMINATOR):
    """Return a Keras preset (directory or handle) for `preset`.

    `member` picks the network of a bundled pair preset: `"discriminator"`
    (every class but the generator's) or `"generator"`.
    """
    if not isinstance(preset, (str, os.PathLike)):
        raise ValueError(
            f"A preset must be a string or path. Received: {preset!r}"
        )
    preset = canonical_name(os.fspath(preset))  # keras-hub's names too
    if preset in BUNDLED_PRESETS:
        if member not in PAIR_MEMBERS:
            raise ValueError(
                f"`member` must be one of {PAIR_MEMBERS}. Received: {member!r}"
            )
        return os.path.join(bundled_preset_dir(preset), member)
    if preset in ELECTRA_PRESETS:
        return resolve_builtin_preset(preset)
    if "://" in preset:
        scheme = preset.split("://", 1)[0].lower()
        if scheme != HF_SCHEME:
            return preset  # kaggle://, gs://, ...: keras-hub loads these.
        local = download_hf_checkpoint(preset)
        key = "hf--" + preset.split("://", 1)[1].replace("/", "--")
        return _convert_if_checkpoint(local, key)
    if os.path.isdir(preset):
        if source_format(preset) is not None:
            check_vocabulary_file(os.path.join(preset, "vocab.txt"))
        return _convert_if_checkpoint(preset, _local_fingerprint(preset))
    if os.path.exists(preset):
        raise ValueError(
            f"Preset {preset!r} is a file; a preset is a directory (a Keras "
            "preset or a transformers checkpoint)."
        )
    if os.sep in preset or preset.startswith("."):
        raise FileNotFoundError(f"Preset directory {preset!r} does not exist.")
    raise unknown_preset_error(preset)


class PresetResolvingMixin:
    """Makes `from_preset` accept every preset form keras_electra knows,
    and keeps LoRA adapters apart in `save_to_preset` (`adapters`).

    Placed before the keras-hub base class (`Backbone`, `Task`,
    `Preprocessor`, `Tokenizer`); it resolves the preset, then hands over.
    """

    # Which network of a bundled generator + discriminator pair this class
    # loads; the generator's classes set `GENERATOR`.
    preset_pair_member = DISCRIMINATOR

    @classmethod
    def from_preset(cls, preset, **kwargs):
        preset = resolve_preset(preset, member=cls.preset_pair_member)
        # Checks the preset's files and explains load errors.
        loaded = load_checked(super().from_preset, preset, **kwargs)
        return restore_adapter(
            loaded, preset, load_weights=kwargs.get("load_weights", True)
        )

    def save_to_preset(self, preset_dir, **kwargs):
        # With LoRA on, the base weights and the adapters are kept apart.
        return save_with_adapter(
            super().save_to_preset, self, preset_dir, **kwargs
        )
