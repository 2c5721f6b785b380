"""`ElectraPretrainer(objective="mlm")`: masked-LM alone, BERT's objective
on the discriminator's network, against transformers' `ElectraForMaskedLM`
loss (float32, 1e-5 like the replaced-token-detection tests)."""

import keras
import numpy as np
import pytest

import keras_electra
from tests.conftest import TINY_VOCAB
from tests.pretraining.helpers import packed_batch
from tests.pretraining.helpers import DISCRIMINATOR
from tests.pretraining.helpers import tiny_pretrainer
from tests.pretraining.test_replaced_token_detection import _hf_pair
from tests.tiny_models import tiny_backbone
from tests.tiny_models import tiny_tokenizer


def _np(outputs):
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


def _hf_masked_lm_loss(hf_model, batch, masked):
    """transformers' masked-LM loss of the masked batch (labels: the
    original tokens at the real masked slots, -100 elsewhere)."""
    import torch

    def t(x):
        return torch.tensor(np.asarray(x), dtype=torch.long)

    rows, slots = np.nonzero(masked["mask_weights"] > 0)
    positions = masked["mask_positions"][rows, slots]
    labels = np.full(batch["token_ids"].shape, -100)
    labels[rows, positions] = batch["token_ids"][rows, positions]
    with torch.no_grad():
        out = hf_model(
            input_ids=t(masked["token_ids"]),
            attention_mask=t(batch["padding_mask"]),
            token_type_ids=t(batch["segment_ids"]),
            labels=t(labels),
        )
    predictions = out.logits.numpy()[rows, positions].argmax(-1)
    return out.loss.item(), predictions, (rows, slots)


def test_masked_lm_loss_equals_transformers(tmp_path):
    # transformers' `ElectraForMaskedLM`, random weights, as a preset.
    hf_model, _ = _hf_pair(tmp_path)
    generator = keras_electra.ElectraMaskedLM.from_preset(
        str(tmp_path / "generator")
    )
    # The masked-LM head on the discriminator's own network.
    discriminator = keras_electra.ElectraDiscriminator(generator.backbone)
    pretrainer = keras_electra.ElectraPretrainer(
        discriminator, generator, tokenizer=tiny_tokenizer(), seed=3,
        objective="mlm",
    )
    batch = packed_batch(batch=3, seq=20, vocab_size=len(TINY_VOCAB), seed=7)
    masked = _np(pretrainer.mask(batch))
    ours = _np(
        pretrainer.replaced_token_detection_layer.masked_lm_step(
            batch, masked, training=False
        )
    )
    reference, predictions, (rows, slots) = _hf_masked_lm_loss(
        hf_model, batch, masked
    )
    assert masked["mask_weights"].sum() > 0
    np.testing.assert_allclose(
        float(ours["generator_loss"]), reference, rtol=1e-6, atol=1e-5
    )
    # The whole loss is the masked-LM loss: no discriminator term.
    assert float(ours["loss"]) == float(ours["generator_loss"])
    assert float(ours["discriminator_loss"]) == 0.0
    np.testing.assert_array_equal(
        ours["generator_predictions"][rows, slots], predictions
    )
    # Nothing is sampled: the input seen is the masked one.
    np.testing.assert_array_equal(ours["corrupted_ids"], masked["token_ids"])
    assert ours["replaced"].sum() == 0


def test_call_and_fit_train_masked_lm_alone():
    pretrainer = tiny_pretrainer(seed=0, dropout=0.0, objective="mlm")
    # One network: the masked-LM head sits on the discriminator's backbone.
    assert pretrainer.tie_all_weights
    batch = packed_batch(batch=4, seq=16, seed=1)
    outputs = _np(pretrainer(batch, training=False))
    assert float(outputs["loss"]) == float(outputs["generator_loss"]) > 0
    assert float(outputs["discriminator_loss"]) == 0.0

    before_backbone = keras.ops.convert_to_numpy(
        pretrainer.backbone.embeddings.token_embedding.embeddings
    )
    pretrainer.compile(learning_rate=1e-2, num_train_steps=4, warmup_steps=0)
    history = pretrainer.fit(
        {k: np.tile(v, (2, 1)) for k, v in batch.items()},
        batch_size=4, epochs=2, verbose=0,
    ).history
    # Only the generator's metrics: the discriminator is not trained.
    assert set(history) == {"loss", "generator_loss", "generator_accuracy"}
    assert np.isfinite(history["loss"]).all()
    after_backbone = keras.ops.convert_to_numpy(
        pretrainer.backbone.embeddings.token_embedding.embeddings
    )
    assert not np.allclose(before_backbone, after_backbone)


def test_objective_is_saved_in_the_config():
    pretrainer = tiny_pretrainer(seed=0, objective="mlm")
    config = pretrainer.get_config()
    assert config["objective"] == "mlm"
    restored = keras_electra.ElectraPretrainer.from_config(config)
    assert restored.objective == "mlm"
    assert restored.tie_all_weights
    assert restored.replaced_token_detection_layer.objective == "mlm"
    assert tiny_pretrainer(seed=0).get_config()["objective"] == "rtd"


def test_bad_objective_and_untied_generator_are_named():
    with pytest.raises(ValueError, match="`objective` must be one of"):
        tiny_pretrainer(seed=0, objective="clm")
    backbone = tiny_backbone(**DISCRIMINATOR)
    separate = tiny_backbone(**{**DISCRIMINATOR, "hidden_dim": 8})
    with pytest.raises(ValueError, match="objective='mlm'"):
        keras_electra.ElectraPretrainer(
            backbone, separate, tokenizer=tiny_tokenizer(), objective="mlm"
        )
