"""Bad transformers checkpoints are refused with errors that name the problem."""

import json
import os

import pytest
import torch
import transformers

import keras_electra
from tests.conftest import TINY_VOCAB
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config


@pytest.fixture()
def checkpoint(tmp_path):
    model = transformers.ElectraForPreTraining(tiny_hf_config()).eval()
    return model, save_hf_checkpoint(model, str(tmp_path / "ckpt"), bin=True)


def rewrite_state(directory, edit):
    path = os.path.join(directory, "pytorch_model.bin")
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)


def test_missing_weight_is_named(checkpoint):
    _, directory = checkpoint
    key = "electra.encoder.layer.1.output.dense.weight"
    rewrite_state(directory, lambda s: s.pop(key))
    with pytest.raises(ValueError, match=f"missing weights: {key}"):
        keras_electra.ElectraDiscriminator.from_preset(directory)


def test_unexpected_weight_is_named(checkpoint):
    _, directory = checkpoint
    rewrite_state(directory, lambda s: s.update(extra=torch.zeros(3)))
    with pytest.raises(ValueError, match="unexpected weights.*extra"):
        keras_electra.ElectraDiscriminator.from_preset(directory)


def test_wrong_shape_is_named(checkpoint):
    _, directory = checkpoint
    key = "discriminator_predictions.dense.bias"
    rewrite_state(directory, lambda s: s.update({key: torch.zeros(7)}))
    with pytest.raises(ValueError, match=f"{key}: checkpoint has shape \\(7,\\)"):
        keras_electra.ElectraDiscriminator.from_preset(directory)


def test_truncated_weights_file(tmp_path):
    model = transformers.ElectraForPreTraining(tiny_hf_config()).eval()
    directory = save_hf_checkpoint(model, str(tmp_path / "ckpt"))
    path = os.path.join(directory, "model.safetensors")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="model.safetensors.*truncated"):
        keras_electra.ElectraBackbone.from_preset(directory)


def test_no_weights_file(checkpoint):
    _, directory = checkpoint
    os.remove(os.path.join(directory, "pytorch_model.bin"))
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        keras_electra.ElectraBackbone.from_preset(directory)


def test_vocabulary_size_disagrees_with_config(checkpoint):
    _, directory = checkpoint
    with open(os.path.join(directory, "vocab.txt"), "w") as f:
        f.write("\n".join(TINY_VOCAB + ["extra"]) + "\n")
    with pytest.raises(ValueError, match="vocab.txt.*26 tokens.*vocab_size.*25"):
        keras_electra.ElectraDiscriminator.from_preset(directory)


def test_unknown_model_type(checkpoint):
    _, directory = checkpoint
    path = os.path.join(directory, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["model_type"] = "bert"
    with open(path, "w") as f:
        json.dump(config, f)
    with pytest.raises(ValueError, match="model_type.*'bert'.*ELECTRA"):
        keras_electra.ElectraBackbone.from_preset(directory)


def test_missing_vocabulary(checkpoint):
    _, directory = checkpoint
    os.remove(os.path.join(directory, "vocab.txt"))
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        keras_electra.ElectraDiscriminator.from_preset(directory)


def test_failed_conversion_leaves_nothing_in_the_cache(checkpoint):
    _, directory = checkpoint
    rewrite_state(directory, lambda s: s.pop("discriminator_predictions.dense.bias"))
    cache = os.environ["KERAS_ELECTRA_CACHE"]
    before = set(_walk(cache))
    with pytest.raises(ValueError):
        keras_electra.ElectraDiscriminator.from_preset(directory)
    # Nothing was left but the containers and the conversion lock's own
    # file (it stays, empty, so concurrent converters lock the same inode).
    locks = os.path.join(cache, "locks")
    containers = {locks, os.path.join(cache, "converted")}

    def kept(paths):
        return {p for p in paths if p not in containers
                and not p.startswith(locks + os.sep)}

    assert kept(_walk(cache)) == kept(before)


def _walk(root):
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            yield os.path.join(base, name)
