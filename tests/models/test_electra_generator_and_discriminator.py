"""The generator and discriminator tasks as users drive them: raw strings."""

import keras
import numpy as np
import pytest
from keras import ops

import keras_electra
from tests.conftest import TINY_VOCAB
from tests.tiny_models import tiny_backbone


# The shared tiny backbone, twice as wide, 16 positions.
BACKBONE = dict(hidden_dim=32, embedding_dim=16, max_sequence_length=16)


@pytest.fixture(scope="module")
def tokenizer():
    return keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)


def test_generator_learns_to_fill_mask(tokenizer):
    preprocessor = keras_electra.ElectraMaskedLMPreprocessor(
        tokenizer,
        sequence_length=10,
        mask_selection_rate=0.3,
        mask_selection_length=3,
    )
    generator = keras_electra.ElectraMaskedLM(tiny_backbone(0, **BACKBONE), preprocessor)
    generator.compile(optimizer=keras.optimizers.Adam(1e-2))
    texts = ["the quick brown fox jumped over the lazy dog"] * 64
    history = generator.fit(texts, batch_size=32, epochs=12, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * losses[0]
    [candidates] = generator.fill_mask("the quick [MASK] fox jumped", top_k=3)
    assert candidates[0][0] == "brown"
    assert sum(p for _, p in candidates) <= 1.0 + 1e-6


def test_fill_mask_needs_a_mask(tokenizer):
    preprocessor = keras_electra.ElectraMaskedLMPreprocessor(tokenizer, sequence_length=8)
    generator = keras_electra.ElectraMaskedLM(tiny_backbone(0, **BACKBONE), preprocessor)
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        generator.fill_mask("no mask here")


def test_discriminator_learns_which_token_was_replaced(tokenizer):
    preprocessor = keras_electra.ElectraTextClassifierPreprocessor(
        tokenizer, sequence_length=8
    )
    discriminator = keras_electra.ElectraDiscriminator(tiny_backbone(0, **BACKBONE), preprocessor)
    discriminator.compile(optimizer=keras.optimizers.Adam(3e-3))
    # "cat" in a dog sentence is the replaced token (position 3).
    texts = ["the lazy cat sat", "the lazy dog sat"] * 32
    labels = np.zeros((64, 8), "float32")
    labels[0::2, 3] = 1.0
    mask = ops.convert_to_numpy(preprocessor(texts)["padding_mask"])
    weights = mask.astype("float32")
    discriminator.fit(
        texts,
        labels,
        sample_weight=weights,
        batch_size=16,
        epochs=20,
        verbose=0,
    )
    replaced = dict(discriminator.detect_replaced("the lazy cat sat"))
    original = dict(discriminator.detect_replaced("the lazy dog sat"))
    assert replaced["cat"] > 0.8
    assert original["dog"] < 0.2
    assert replaced["the"] < 0.2


def test_task_configs_round_trip():
    backbone = tiny_backbone(0, **BACKBONE)
    for task in (
        keras_electra.ElectraDiscriminator(backbone),
        keras_electra.ElectraMaskedLM(backbone),
    ):
        restored = task.__class__.from_config(task.get_config())
        assert restored.backbone.get_config() == backbone.get_config()
