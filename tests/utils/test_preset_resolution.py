"""`hf://` handles go through the real download code (hub mocked locally)."""

import os

import huggingface_hub
import keras
import numpy as np
import pytest
import torch
import transformers

import keras_electra
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.conftest import torch_inputs


@pytest.fixture()
def local_hub(tmp_path, monkeypatch):
    """`snapshot_download` served from a local directory, calls recorded."""
    model = randomize_(transformers.ElectraForPreTraining(tiny_hf_config()).eval())
    repo = save_hf_checkpoint(model, str(tmp_path / "hub" / "someone--electra"))
    calls = []

    def snapshot_download(repo_id, allow_patterns=None, **kwargs):
        calls.append((repo_id, tuple(allow_patterns or ())))
        if repo_id != "someone/electra":
            raise huggingface_hub.errors.RepositoryNotFoundError(repo_id)
        return repo

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return model, calls


def test_hf_handle_downloads_converts_and_matches(local_hub):
    model, calls = local_hub
    discriminator = keras_electra.ElectraDiscriminator.from_preset(
        "hf://someone/electra"
    )
    assert calls and calls[0][0] == "someone/electra"
    assert "config.json" in calls[0][1] and "vocab.txt" in calls[0][1]
    batch = padded_batch(model.config.vocab_size)
    with torch.no_grad():
        reference = model(**torch_inputs(batch)).logits.numpy()
    ours = keras.ops.convert_to_numpy(discriminator(batch, training=False))
    assert np.abs(ours - reference).max() <= 1e-5
    cache = os.environ["KERAS_ELECTRA_CACHE"]
    assert os.path.isdir(os.path.join(cache, "converted", "hf--someone--electra"))


def test_hf_handle_that_does_not_exist(local_hub):
    with pytest.raises(OSError, match="hf://someone/missing"):
        keras_electra.ElectraBackbone.from_preset("hf://someone/missing")


def test_local_transformers_directory_is_converted_once(tmp_path):
    model = transformers.ElectraModel(tiny_hf_config()).eval()
    directory = save_hf_checkpoint(model, str(tmp_path / "ckpt"))
    keras_electra.ElectraBackbone.from_preset(directory)
    converted = os.path.join(os.environ["KERAS_ELECTRA_CACHE"], "converted")
    before = sorted(os.listdir(converted))
    keras_electra.ElectraBackbone.from_preset(directory)
    assert sorted(os.listdir(converted)) == before
