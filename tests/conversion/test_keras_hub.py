"""keras-hub's own ElectraBackbone presets load into ours.

keras-hub's model uses the tanh-approximate GELU and a pooler, so its
outputs are not ours. The references: every weight of theirs (pooler
aside) is one of ours; keras-hub's own model, rebuilt with the exact GELU
and given the preset's weights, computes what ours does; and transformers,
given our weights, agrees too.
"""

import logging

import keras
import keras_hub
import numpy as np
import pytest

import keras_electra
from keras_electra.conversion.transformers_loader import export_transformers_weights
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import torch_inputs

CONFIG = dict(
    vocab_size=len(TINY_VOCAB), num_layers=2, num_heads=4, hidden_dim=32,
    embedding_dim=16, intermediate_dim=64, max_sequence_length=64,
)


@pytest.fixture(scope="module")
def keras_hub_preset(tmp_path_factory):
    """A keras-hub ElectraBackbone preset with random weights everywhere."""
    backbone = keras_hub.models.ElectraBackbone(**CONFIG)
    rng = np.random.default_rng(0)
    for v in backbone.weights:
        noise = rng.normal(0, 0.1, size=v.shape).astype("float32")
        v.assign(noise + 1.0 if v.path.endswith("gamma") else noise)
    tokenizer = keras_hub.models.ElectraTokenizer(vocabulary=TINY_VOCAB, lowercase=True)
    directory = str(tmp_path_factory.mktemp("keras_hub_electra"))
    backbone.save_to_preset(directory)
    tokenizer.save_to_preset(directory)
    return directory, backbone


def test_every_weight_arrives_and_the_pooler_is_noted(keras_hub_preset, caplog):
    directory, theirs = keras_hub_preset
    with caplog.at_level(logging.WARNING):
        ours = keras_electra.ElectraBackbone.from_preset(directory)
    assert "pooler" in caplog.text
    ours_values = [keras.ops.convert_to_numpy(v) for v in ours.weights]
    theirs_values = {
        v.path: keras.ops.convert_to_numpy(v)
        for v in theirs.weights
        if not v.path.startswith("pooled_dense/")
    }
    assert len(ours_values) == len(theirs_values)
    for path, value in theirs_values.items():
        matches = [
            o for o in ours_values if o.shape == value.shape and np.array_equal(o, value)
        ]
        assert len(matches) == 1, f"{path} did not arrive exactly once"


def test_outputs_equal_keras_hub_with_exact_gelu(keras_hub_preset, monkeypatch):
    from keras_hub.src.models.electra import electra_backbone as kh_electra

    directory, _ = keras_hub_preset
    ours = keras_electra.ElectraBackbone.from_preset(directory)
    monkeypatch.setattr(
        kh_electra, "gelu_approximate", lambda x: keras.activations.gelu(x, approximate=False)
    )
    reference = keras_hub.models.ElectraBackbone(**CONFIG)
    reference.load_weights(f"{directory}/model.weights.h5")
    batch = padded_batch(len(TINY_VOCAB))
    expected = keras.ops.convert_to_numpy(reference(batch)["sequence_output"])
    got = keras.ops.convert_to_numpy(ours(batch))
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


def test_outputs_equal_transformers_given_the_same_weights(keras_hub_preset):
    import torch
    from transformers import ElectraModel

    from tests.conftest import tiny_hf_config

    directory, _ = keras_hub_preset
    ours = keras_electra.ElectraBackbone.from_preset(directory)
    hf = ElectraModel(tiny_hf_config(16, 32)).eval()
    state = {
        k.removeprefix("electra."): torch.from_numpy(v)
        for k, v in export_transformers_weights(ours).items()
    }
    missing, unexpected = hf.load_state_dict(state, strict=False)
    assert not unexpected and all("position_ids" in k or "token_type_ids" in k for k in missing)
    batch = padded_batch(len(TINY_VOCAB))
    with torch.no_grad():
        expected = hf(**torch_inputs(batch)).last_hidden_state.numpy()
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ours(batch)), expected, atol=1e-5, rtol=0
    )


def test_tokenizer_arrives(keras_hub_preset):
    directory, _ = keras_hub_preset
    theirs = keras_hub.models.ElectraTokenizer.from_preset(directory)
    ours = keras_electra.ElectraTokenizer.from_preset(directory)
    text = "The quick brown fox jumped over the lazy dogs."
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(ours(text)), keras.ops.convert_to_numpy(theirs(text))
    )
    assert ours.get_vocabulary() == TINY_VOCAB
