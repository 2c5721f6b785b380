"""A broken Keras preset fails with an error that names the problem."""

import json
import os
import shutil

import pytest

import keras_electra
from keras_electra.presets.cache import cache_dir
from tests.conftest import TINY_VOCAB


@pytest.fixture(scope="module")
def good_preset(tmp_path_factory):
    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=len(TINY_VOCAB), num_layers=2, num_heads=4,
        hidden_dim=32, embedding_dim=16, intermediate_dim=64,
        max_sequence_length=64,
    )
    directory = str(tmp_path_factory.mktemp("good"))
    backbone.save_to_preset(directory)
    keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB).save_to_preset(directory)
    return directory


@pytest.fixture
def copy_of(good_preset, tmp_path):
    return shutil.copytree(good_preset, tmp_path / "preset")


def _edit_config(directory, **changes):
    path = os.path.join(directory, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["config"].update(changes)
    with open(path, "w") as f:
        json.dump(config, f)


def test_good_preset_loads(good_preset):
    assert keras_electra.ElectraBackbone.from_preset(good_preset).num_layers == 2


def test_truncated_weights_file(copy_of):
    path = os.path.join(copy_of, "model.weights.h5")
    with open(path, "rb") as f:
        content = f.read()
    with open(path, "wb") as f:
        f.write(content[: len(content) // 2])
    with pytest.raises(ValueError, match=r"model\.weights\.h5` is truncated or corrupt"):
        keras_electra.ElectraBackbone.from_preset(str(copy_of))


def test_config_with_other_shapes_than_the_weights(copy_of):
    _edit_config(copy_of, hidden_dim=64)
    with pytest.raises(ValueError, match="do not match the architecture"):
        keras_electra.ElectraBackbone.from_preset(str(copy_of))


def test_config_with_fewer_layers_than_the_weights(copy_of):
    # Keras itself would load the first layer and drop the second silently.
    _edit_config(copy_of, num_layers=1)
    with pytest.raises(ValueError, match=r"holds 39 arrays, the config describes 23"):
        keras_electra.ElectraBackbone.from_preset(str(copy_of))


@pytest.mark.parametrize(
    "cls", [keras_electra.ElectraBackbone, keras_electra.ElectraTokenizer]
)
def test_vocabulary_of_the_wrong_size(copy_of, cls):
    path = os.path.join(copy_of, "assets", "tokenizer", "vocabulary.txt")
    with open(path, "a") as f:
        f.write("extra\n")
    with pytest.raises(ValueError, match=r"26 tokens.*`vocabulary_size` 25"):
        cls.from_preset(str(copy_of))


def test_broken_preset_in_the_cache_says_delete_it(good_preset):
    cached = shutil.copytree(good_preset, os.path.join(cache_dir(), "presets", "broken"))
    _edit_config(cached, num_layers=1)
    with pytest.raises(ValueError, match="delete it"):
        keras_electra.ElectraBackbone.from_preset(str(cached))
    shutil.rmtree(cached)


def test_missing_and_file_presets(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        keras_electra.ElectraBackbone.from_preset(str(tmp_path / "nope"))
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        keras_electra.ElectraBackbone.from_preset(str(path))
