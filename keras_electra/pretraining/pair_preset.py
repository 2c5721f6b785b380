"""The pair preset: a generator + discriminator, saved for pre-training.

A pair directory holds two ordinary presets and a JSON file naming them:

    <pair>/discriminator/        an `ElectraDiscriminator` preset
    <pair>/generator/            an `ElectraMaskedLM` preset
    <pair>/pretraining_pair.json {"format": "keras_electra.pretraining_pair",
                                  "version": 1,
                                  "discriminator": "discriminator",
                                  "generator": "generator", ...}

`ElectraPretrainer.save_to_preset` writes one (with `tied_embeddings`,
`tied_all_weights`, `global_step`), so does `keras-electra convert --model
pair` from Google's TF1 release (`keras_electra.conversion.
google_tf1_loader`, with `tied_embeddings`, `global_step`, `source`);
`ElectraPretrainer.from_preset` and the command line read it. Each member
also loads on its own (`ElectraDiscriminator.from_preset(
"<pair>/discriminator")`). This module is the format's one definition.
"""

import json
import os

from keras_electra.presets import DISCRIMINATOR
from keras_electra.presets import ELECTRA_PRESETS
from keras_electra.presets import GENERATOR
from keras_electra.presets import PAIR_MEMBERS
from keras_electra.presets import bundled_preset_dir
from keras_electra.presets import is_bundled_name
from keras_electra.presets.resolver import PAIR_FILE

PAIR_FORMAT = "keras_electra.pretraining_pair"
PAIR_VERSION = 1
# The member names (`DISCRIMINATOR`, `GENERATOR`) are defined in
# `keras_electra.presets`. Each member is saved in a folder of its own name;
# a description may name other folders.


def write_pair_description(pair_dir, **fields):
    """Write `pair_dir/pretraining_pair.json`: the format, the member
    folders, then `fields` (e.g. `tied_embeddings`, `global_step`)."""
    description = {
        "format": PAIR_FORMAT,
        "version": PAIR_VERSION,
        **{member: member for member in PAIR_MEMBERS},
        **fields,
    }
    path = os.path.join(pair_dir, PAIR_FILE)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(description, f, indent=2)
    return description


def read_pair_description(preset):
    """The description of pair directory `preset`, or `{}` if `preset` is
    not one (another preset, a name, a handle)."""
    if not isinstance(preset, (str, os.PathLike)):
        return {}
    preset = pair_directory(preset)
    description = os.path.join(preset, PAIR_FILE)
    if not os.path.isfile(description):
        return {}
    with open(description, encoding="utf-8") as f:
        return json.load(f)


def pair_directory(preset):
    """The directory of a bundled pair preset's name; else `preset`."""
    if isinstance(preset, str) and is_bundled_name(preset):
        return bundled_preset_dir(preset)
    return preset


def member_preset(preset, member):
    """`preset/<member>` if `preset` is a pair directory holding that
    member (`"discriminator"` or `"generator"`), else `preset` itself."""
    if isinstance(preset, str) and os.path.isdir(os.path.join(preset, member)):
        return os.path.join(preset, member)
    return preset


def pair_presets(preset, generator_preset=None):
    """(discriminator preset, generator preset) for a pair.

    `preset` is a pair directory, or a discriminator preset with
    `generator_preset` its generator; for a built-in discriminator name
    (`electra_small_discriminator_en`) the generator defaults to its pair
    (`electra_small_generator_en`).
    """
    if generator_preset is not None:
        return preset, generator_preset
    preset = pair_directory(preset)
    if isinstance(preset, (str, os.PathLike)) and os.path.isdir(preset):
        names = {member: member for member in PAIR_MEMBERS}
        names.update(
            (k, v)
            for k, v in read_pair_description(preset).items()
            if k in PAIR_MEMBERS
        )
        discriminator = os.path.join(preset, names[DISCRIMINATOR])
        generator = os.path.join(preset, names[GENERATOR])
        if os.path.isdir(discriminator) and os.path.isdir(generator):
            return discriminator, generator
    if preset in ELECTRA_PRESETS and "_discriminator_" in preset:
        return preset, preset.replace("_discriminator_", "_generator_")
    raise ValueError(
        f"Cannot find the generator for {preset!r}. Pass "
        "`generator_preset=`, or a directory with `discriminator/` and "
        "`generator/` presets (written by `ElectraPretrainer.save_to_preset` "
        "or `keras-electra convert`)."
    )
