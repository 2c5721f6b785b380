"""Our models against transformers on the same weights (float32, <= 1e-5).

transformers models are built from configs with random weights (biases and
LayerNorms included), saved with `save_pretrained` (safetensors) or
`torch.save` (`pytorch_model.bin`), and loaded with our `from_preset`.
"""

import numpy as np
import pytest
import torch
import transformers
from keras import ops

import keras_electra
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.conftest import torch_inputs

TOLERANCE = 1e-5
CASES = {
    # (transformers class, our class, what to compare)
    "backbone": (transformers.ElectraModel, keras_electra.ElectraBackbone),
    "discriminator": (
        transformers.ElectraForPreTraining,
        keras_electra.ElectraDiscriminator,
    ),
    "generator": (transformers.ElectraForMaskedLM, keras_electra.ElectraMaskedLM),
}


def reference_and_ours(kind, embedding_size, tmp_path, bin=False):
    hf_cls, our_cls = CASES[kind]
    config = tiny_hf_config(embedding_size=embedding_size, hidden_size=32)
    hf_model = randomize_(hf_cls(config).eval(), seed=embedding_size)
    directory = save_hf_checkpoint(hf_model, str(tmp_path / kind), bin=bin)
    ours = our_cls.from_preset(directory)
    batch = padded_batch(config.vocab_size, batch=3, seq=12)
    with torch.no_grad():
        out = hf_model(**torch_inputs(batch))
    if kind == "backbone":
        reference = out.last_hidden_state.numpy()
    else:
        reference = out.logits.numpy()
    if kind == "generator":
        # Logits at every position, so that padding rows are included too.
        positions = np.tile(np.arange(12, dtype="int32"), (3, 1))
        batch = {**batch, "mask_positions": positions}
    result = ops.convert_to_numpy(ours(batch, training=False))
    return result, reference, batch["padding_mask"].astype(bool)


@pytest.mark.parametrize("embedding_size", [16, 32], ids=["E16-H32", "E32-H32"])
@pytest.mark.parametrize("kind", list(CASES))
def test_parity_safetensors(kind, embedding_size, tmp_path):
    ours, reference, real = reference_and_ours(kind, embedding_size, tmp_path)
    assert ours.shape == reference.shape
    # Real tokens are what users read; padded positions must match too
    # (both implementations attend only to real tokens).
    diff = np.abs(ours - reference)
    print(f"{kind} E={embedding_size}: max |diff| {diff.max():.3g}")
    assert diff[real].max() <= TOLERANCE
    assert diff.max() <= TOLERANCE


def test_parity_pytorch_bin(tmp_path):
    ours, reference, _ = reference_and_ours(
        "discriminator", 16, tmp_path, bin=True
    )
    assert np.abs(ours - reference).max() <= TOLERANCE


def test_generator_head_is_tied_to_embeddings(tmp_path):
    config = tiny_hf_config()
    hf_model = randomize_(transformers.ElectraForMaskedLM(config).eval())
    directory = save_hf_checkpoint(hf_model, str(tmp_path / "g"))
    generator = keras_electra.ElectraMaskedLM.from_preset(directory)
    head = generator.masked_lm_head
    assert head.token_embedding is generator.backbone.token_embedding
    np.testing.assert_allclose(
        ops.convert_to_numpy(generator.backbone.token_embedding.embeddings),
        hf_model.generator_lm_head.weight.detach().numpy(),
    )


def test_discriminator_checkpoint_loads_into_backbone(tmp_path):
    config = tiny_hf_config()
    hf_model = randomize_(transformers.ElectraForPreTraining(config).eval())
    directory = save_hf_checkpoint(hf_model, str(tmp_path / "d"))
    backbone = keras_electra.ElectraBackbone.from_preset(directory)
    batch = padded_batch(config.vocab_size)
    with torch.no_grad():
        reference = hf_model.electra(**torch_inputs(batch)).last_hidden_state
    diff = np.abs(ops.convert_to_numpy(backbone(batch)) - reference.numpy())
    assert diff.max() <= TOLERANCE


def test_tokenizer_and_preprocessor_come_with_the_checkpoint(tmp_path):
    from tests.conftest import TINY_VOCAB

    config = tiny_hf_config()
    hf_model = transformers.ElectraForPreTraining(config).eval()
    directory = save_hf_checkpoint(hf_model, str(tmp_path / "d"))
    tokenizer = keras_electra.ElectraTokenizer.from_preset(directory)
    assert tokenizer.get_vocabulary() == TINY_VOCAB
    discriminator = keras_electra.ElectraDiscriminator.from_preset(directory)
    result = discriminator.detect_replaced("The quick brown fox.")
    assert [token for token, _ in result] == ["the", "quick", "brown", "fox", "."]
    assert all(0.0 <= p <= 1.0 for _, p in result)
