"""Built-in preset names: registry, download -> convert -> cache, offline.

No network ever: `download_hf_checkpoint` is replaced by a fake hub that
copies a local tiny transformers checkpoint, registered under a test-only
name with its architecture.
"""

import os
import shutil

import keras
import numpy as np
import pytest

import keras_electra
from keras_electra import presets
from keras_electra.models.electra_classifier import ElectraClassifier
from keras_electra.presets import resolver
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.conftest import torch_inputs
from tools.convert_checkpoint import main as convert_main

ALL_CLASSES = (
    keras_electra.ElectraBackbone,
    keras_electra.ElectraTokenizer,
    keras_electra.ElectraTextClassifierPreprocessor,
    keras_electra.ElectraMaskedLMPreprocessor,
    keras_electra.ElectraDiscriminator,
    keras_electra.ElectraMaskedLM,
)
# Google's architectures, as the issue states them (E, H, L, heads, FFN).
EXPECTED = {
    "small_discriminator": (128, 256, 12, 4, 1024),
    "small_generator": (128, 256, 12, 4, 1024),
    "base_discriminator": (768, 768, 12, 12, 3072),
    "base_generator": (768, 256, 12, 4, 1024),
    "large_discriminator": (1024, 1024, 24, 16, 4096),
    "large_generator": (1024, 256, 24, 4, 1024),
}


# === The registry ===


def test_registry_holds_googles_six_checkpoints():
    assert sorted(presets.ELECTRA_PRESETS) == sorted(
        f"electra_{k}_en" for k in EXPECTED
    )
    for key, (e, h, layers, heads, ffn) in EXPECTED.items():
        entry = presets.ELECTRA_PRESETS[f"electra_{key}_en"]
        config = entry["config"]
        assert (
            config["embedding_dim"], config["hidden_dim"], config["num_layers"],
            config["num_heads"], config["intermediate_dim"],
        ) == (e, h, layers, heads, ffn)
        assert config["vocabulary_size"] == 30522
        meta = entry["metadata"]
        assert entry["source"] == f"hf://google/electra-{key.replace('_', '-')}"
        assert meta["license"] == "Apache-2.0" and meta["description"]
        assert "Wikipedia + BooksCorpus" in meta["description"]


def test_parameter_counts_agree_with_keras_hubs_published_counts():
    # keras-hub publishes the size of its ElectraBackbone for the same six
    # checkpoints: our backbone plus its pooler (hidden^2 + hidden).
    from keras_hub.src.models.electra.electra_presets import backbone_presets

    for key in EXPECTED:
        config = presets.ELECTRA_PRESETS[f"electra_{key}_en"]["config"]
        h = config["hidden_dim"]
        published = backbone_presets[f"electra_{key}_uncased_en"]
        assert presets.parameter_count(config) + h * h + h == published["metadata"]["params"]


@pytest.mark.parametrize("embedding_dim", [16, 32])
def test_parameter_count_counts_the_real_models(embedding_dim):
    config = dict(
        vocabulary_size=25, num_layers=2, num_heads=4, hidden_dim=32,
        embedding_dim=embedding_dim, intermediate_dim=64,
        max_sequence_length=64, num_segments=2,
    )
    backbone = keras_electra.ElectraBackbone(**config)
    assert presets.parameter_count(config) == backbone.count_params()
    disc = keras_electra.ElectraDiscriminator(backbone)
    assert presets.parameter_count(config, "discriminator") == disc.count_params()
    gen = keras_electra.ElectraMaskedLM(keras_electra.ElectraBackbone(**config))
    assert presets.parameter_count(config, "generator") == gen.count_params()


def test_names_are_registered_with_keras_hub():
    for cls in ALL_CLASSES + (ElectraClassifier,):
        assert set(presets.ELECTRA_PRESETS) <= set(cls.presets), cls.__name__
    import keras_hub

    # keras-hub's own ELECTRA keeps its own list.
    assert not set(presets.ELECTRA_PRESETS) & set(keras_hub.models.ElectraBackbone.presets)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ValueError, match="Did you mean 'electra_base_discriminator_en'"):
        keras_electra.ElectraBackbone.from_preset("electra_base_discrimnator_en")
    with pytest.raises(ValueError, match="electra_small_generator_en"):
        keras_electra.ElectraMaskedLM.from_preset("electra_small_generator_cased_en")


# === Name -> download -> convert -> cache -> offline ===

TEST_NAME = "electra_tiny_discriminator_en"


@pytest.fixture(scope="module")
def hub_checkpoint(tmp_path_factory):
    """The fake hub's only repository: a tiny ElectraForPreTraining."""
    from transformers import ElectraForPreTraining

    model = randomize_(ElectraForPreTraining(tiny_hf_config(16, 32))).eval()
    directory = str(tmp_path_factory.mktemp("hub") / "google--electra-tiny")
    save_hf_checkpoint(model, directory)
    return directory, model


@pytest.fixture
def fake_hub(hub_checkpoint, monkeypatch, tmp_path):
    """Register the test-only name; downloads copy the local checkpoint."""
    directory, model = hub_checkpoint
    config = dict(
        vocabulary_size=len(TINY_VOCAB), num_layers=2, num_heads=4,
        hidden_dim=32, embedding_dim=16, intermediate_dim=64,
        max_sequence_length=64, num_segments=2,
    )
    entry = {
        "metadata": {"description": "test", "params": 0, "license": "-"},
        "source": "hf://google/electra-tiny",
        "task": "ElectraDiscriminator",
        "kind": "discriminator",
        "config": config,
        "kaggle_handle": "hf://google/electra-tiny",
    }
    monkeypatch.setitem(presets.ELECTRA_PRESETS, TEST_NAME, entry)
    monkeypatch.setenv("KERAS_ELECTRA_CACHE", str(tmp_path / "cache"))
    hub = {"downloads": [], "online": True, "repo": directory}

    def download(handle):
        if not hub["online"]:
            raise OSError("no network")
        assert handle == "hf://google/electra-tiny"
        hub["downloads"].append(handle)
        local = str(tmp_path / "hf_cache" / f"snapshot{len(hub['downloads'])}")
        shutil.copytree(hub["repo"], local)
        return local

    monkeypatch.setattr(resolver, "download_hf_checkpoint", download)
    hub["model"] = model
    return hub


def _outputs_match_transformers(discriminator, hf_model):
    import torch

    batch = padded_batch(len(TINY_VOCAB))
    with torch.no_grad():
        expected = hf_model(**torch_inputs(batch)).logits.numpy()
    got = keras.ops.convert_to_numpy(discriminator(batch))
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_name_downloads_once_converts_caches_then_works_offline(fake_hub):
    disc = keras_electra.ElectraDiscriminator.from_preset(TEST_NAME)
    assert len(fake_hub["downloads"]) == 1
    _outputs_match_transformers(disc, fake_hub["model"])
    target = presets.preset_path(TEST_NAME)
    assert os.path.exists(os.path.join(target, "config.json"))

    fake_hub["online"] = False
    for cls in ALL_CLASSES:
        loaded = cls.from_preset(TEST_NAME)
        assert isinstance(loaded, cls)
    classifier = ElectraClassifier.from_preset(TEST_NAME, num_classes=2)
    assert classifier.num_classes == 2
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(classifier.backbone.token_embedding.embeddings),
        keras.ops.convert_to_numpy(disc.backbone.token_embedding.embeddings),
    )
    assert len(fake_hub["downloads"]) == 1


def test_offline_without_cache_says_which_files_and_how_to_convert(fake_hub):
    fake_hub["online"] = False
    with pytest.raises(OSError) as info:
        keras_electra.ElectraBackbone.from_preset("electra_base_generator_en")
    message = str(info.value)
    for needed in (
        "no network",
        "https://huggingface.co/google/electra-base-generator",
        "config.json", "vocab.txt", "model.safetensors", "pytorch_model.bin",
        "https://storage.googleapis.com/electra-data/electra_base.zip",
        "model.ckpt-<step>.index",
        "keras-electra convert --preset-name electra_base_generator_en SOURCE_DIR",
        presets.preset_path("electra_base_generator_en"),
    ):
        assert needed in message


def test_convert_tool_installs_a_preset_that_then_loads_offline(fake_hub):
    fake_hub["online"] = False
    assert convert_main(["--preset-name", TEST_NAME, fake_hub["repo"]]) == 0
    disc = keras_electra.ElectraDiscriminator.from_preset(TEST_NAME)
    _outputs_match_transformers(disc, fake_hub["model"])
    assert fake_hub["downloads"] == []
    # Installing again refuses to overwrite unless forced.
    assert convert_main(["--preset-name", TEST_NAME, fake_hub["repo"]]) == 1
    assert convert_main(["--preset-name", TEST_NAME, "--force", fake_hub["repo"]]) == 0


def _assert_nothing_left(name):
    target = presets.preset_path(name)
    assert not os.path.exists(target)
    parent = os.path.dirname(target)
    if os.path.exists(parent):
        assert [p for p in os.listdir(parent) if p.startswith(".tmp")] == []


def test_failed_conversion_leaves_nothing_in_the_cache(fake_hub, monkeypatch, tmp_path):
    from keras_electra.conversion import transformers_loader

    def failing(directory, output_dir):
        os.makedirs(os.path.join(output_dir, "assets"), exist_ok=True)
        with open(os.path.join(output_dir, "config.json"), "w") as f:
            f.write("{half")
        raise RuntimeError("conversion died half-way")

    monkeypatch.setattr(transformers_loader, "convert_transformers_checkpoint", failing)
    with pytest.raises(RuntimeError, match="half-way"):
        keras_electra.ElectraBackbone.from_preset(TEST_NAME)
    _assert_nothing_left(TEST_NAME)


def test_truncated_download_is_named_and_leaves_nothing(fake_hub, tmp_path):
    broken = shutil.copytree(fake_hub["repo"], tmp_path / "broken")
    path = os.path.join(broken, "model.safetensors")
    with open(path, "rb") as f:
        content = f.read()
    with open(path, "wb") as f:
        f.write(content[: len(content) // 2])
    fake_hub["repo"] = str(broken)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        keras_electra.ElectraDiscriminator.from_preset(TEST_NAME)
    _assert_nothing_left(TEST_NAME)


def test_download_of_another_architecture_is_refused(fake_hub, tmp_path):
    from transformers import ElectraForPreTraining

    other = str(tmp_path / "other")
    save_hf_checkpoint(ElectraForPreTraining(tiny_hf_config(16, 48)), other)
    fake_hub["repo"] = other
    with pytest.raises(ValueError, match="hidden_dim: got 48, expected 32"):
        keras_electra.ElectraDiscriminator.from_preset(TEST_NAME)
    _assert_nothing_left(TEST_NAME)
