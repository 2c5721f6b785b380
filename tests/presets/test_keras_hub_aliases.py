"""keras-hub's names for Google's six ELECTRA checkpoints
(`electra_base_discriminator_uncased_en`, ...) are aliases of ours. No
network: the cache is prepared by hand."""

import json
import os

from keras_electra import presets
from keras_electra.cli import app
from keras_electra.presets import cache
from keras_electra.presets import resolver


def test_every_keras_hub_electra_name_is_an_alias():
    # Private module: keras-hub exports no public list of its presets by
    # model (tests only).
    from keras_hub.src.models.electra.electra_presets import backbone_presets

    assert set(presets.KERAS_HUB_ALIASES) == set(backbone_presets)
    for alias, name in presets.KERAS_HUB_ALIASES.items():
        assert name in presets.ELECTRA_PRESETS
        assert alias.replace("_uncased_en", "_en") == name
        assert presets.canonical_name(alias) == name
        assert presets.is_builtin_name(alias)
    assert presets.canonical_name("electra_small_generator_en") == "electra_small_generator_en"
    assert not presets.is_builtin_name("electra_small_generator_cased_en")


def test_an_alias_resolves_to_the_same_cached_preset(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    name = "electra_base_discriminator_en"
    target = presets.preset_path(name)
    os.makedirs(target)
    with open(os.path.join(target, "config.json"), "w") as f:
        json.dump({"config": {}}, f)

    def no_network(handle):
        raise AssertionError(f"downloaded {handle}")

    monkeypatch.setattr(resolver, "download_hf_checkpoint", no_network)
    resolved = resolver.resolve_preset("electra_base_discriminator_uncased_en")
    assert resolved == resolver.resolve_preset(name) == target


def test_the_command_line_accepts_an_alias():
    alias = "electra_large_generator_uncased_en"
    assert app.model_spec(alias) == alias
    args = app.build_parser().parse_args(["fill-mask", "--model", alias, "a [MASK]"])
    assert args.model == alias


def test_offline_instructions_name_the_installed_command():
    message = presets.offline_instructions("electra_small_discriminator_en")
    assert "keras-electra convert --preset-name electra_small_discriminator_en" in message
    assert "tools/convert_checkpoint.py" not in message
