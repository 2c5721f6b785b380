import numpy as np
from keras import ops

import keras_electra
from keras_electra.losses.replaced_token_loss import discriminator_loss
from keras_electra.pretraining.replaced_token_detection import generator_loss
from keras_electra.pretraining.replaced_token_detection import (
    replace_masked_tokens,
)
from keras_electra.pretraining.replaced_token_detection import (
    sample_from_generator,
)
from tests.conftest import TINY_VOCAB
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.pretraining.helpers import packed_batch


def np_gumbel(shape, seed):
    # Google's sample_from_softmax noise.
    u = np.random.default_rng(seed).uniform(size=shape).astype("float32")
    return -np.log(-np.log(u + 1e-9) + 1e-9)


def to_np(outputs):
    return {k: ops.convert_to_numpy(v) for k, v in outputs.items()}


def test_sampling_is_gumbel_max_with_temperature():
    logits = np.array([[[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]]], "float32")
    noise = np.array([[[0.0, 1.5, 0.0], [0.0, 0.0, 0.0]]], "float32")
    sampled = ops.convert_to_numpy(sample_from_generator(logits, noise))
    np.testing.assert_array_equal(sampled, [[1, 2]])  # 2.0 < 1.0 + 1.5
    hot = ops.convert_to_numpy(sample_from_generator(logits, noise, 0.5))
    np.testing.assert_array_equal(hot, [[0, 2]])  # 4.0 > 2.0 + 1.5


def test_every_masked_position_gets_its_sample_replaced_only_if_different():
    token_ids = np.array([[2, 10, 11, 12, 3, 0]], "int32")
    positions = np.array([[1, 3, 0]], "int32")
    weights = np.array([[1.0, 1.0, 0.0]], "float32")
    sampled = np.array([[17, 12, 9]], "int32")  # 12 equals the original.
    corrupted, replaced = replace_masked_tokens(
        token_ids, positions, weights, sampled
    )
    np.testing.assert_array_equal(
        ops.convert_to_numpy(corrupted), [[2, 17, 11, 12, 3, 0]]
    )
    np.testing.assert_array_equal(
        ops.convert_to_numpy(replaced), [[0, 1, 0, 0, 0, 0]]
    )


def test_losses_follow_googles_formulas():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 7)).astype("float32")
    ids = rng.integers(0, 7, size=(2, 3)).astype("int32")
    weights = np.array([[1, 1, 0], [1, 0, 0]], "float32")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, ids[..., None], -1)[..., 0]
    expected = (nll * weights).sum() / (weights.sum() + 1e-6)
    got = generator_loss(logits, ids, weights)
    np.testing.assert_allclose(ops.convert_to_numpy(got), expected, rtol=1e-6)

    disc_logits = rng.normal(size=(2, 5)).astype("float32")
    labels = rng.integers(0, 2, size=(2, 5))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    p = 1 / (1 + np.exp(-disc_logits))
    bce = -(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    expected = (bce * mask).sum() / (mask.sum() + 1e-6)
    got = discriminator_loss(disc_logits, labels, mask)
    np.testing.assert_allclose(ops.convert_to_numpy(got), expected, rtol=1e-6)


def _hf_pair(tmp_path):
    """transformers generator + discriminator sharing embedding values."""
    import torch
    from transformers import ElectraForMaskedLM
    from transformers import ElectraForPreTraining

    torch.manual_seed(0)
    generator = randomize_(
        ElectraForMaskedLM(tiny_hf_config(embedding_size=16, hidden_size=16)),
        seed=1,
    ).eval()
    discriminator = randomize_(
        ElectraForPreTraining(tiny_hf_config(embedding_size=16, hidden_size=32)),
        seed=2,
    ).eval()
    # ELECTRA shares the embeddings: copy the discriminator's into the
    # generator (its output layer is tied to its word embeddings).
    generator.electra.embeddings.load_state_dict(
        discriminator.electra.embeddings.state_dict()
    )
    assert torch.equal(
        generator.generator_lm_head.weight,
        discriminator.electra.embeddings.word_embeddings.weight,
    )
    save_hf_checkpoint(generator, str(tmp_path / "generator"))
    save_hf_checkpoint(discriminator, str(tmp_path / "discriminator"))
    return generator, discriminator


def _reference_losses(hf_generator, hf_discriminator, batch, masked, noise):
    """Replaced token detection computed with transformers in PyTorch."""
    import torch

    def t(x):
        return torch.tensor(np.asarray(x), dtype=torch.long)

    token_ids = batch["token_ids"]
    attention_mask = t(batch["padding_mask"])
    token_type_ids = t(batch["segment_ids"])
    rows, slots = np.nonzero(masked["mask_weights"] > 0)
    positions = masked["mask_positions"][rows, slots]
    labels = np.full(token_ids.shape, -100)
    labels[rows, positions] = token_ids[rows, positions]
    with torch.no_grad():
        generated = hf_generator(
            input_ids=t(masked["token_ids"]),
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            labels=t(labels),
        )
        logits = generated.logits.numpy()[rows, positions]
        sampled = np.argmax(logits + noise[rows, slots], axis=-1)
        corrupted = token_ids.copy()
        corrupted[rows, positions] = sampled
        replaced = (corrupted != token_ids).astype("int64")
        discriminated = hf_discriminator(
            input_ids=t(corrupted),
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            labels=t(replaced),
        )
    generator_loss = generated.loss.item()
    discriminator_loss = discriminated.loss.item()
    return {
        "generator_loss": generator_loss,
        "discriminator_loss": discriminator_loss,
        "loss": generator_loss + 50.0 * discriminator_loss,
        "corrupted_ids": corrupted,
        "replaced": replaced,
    }


def test_losses_equal_transformers_reference(tmp_path):
    hf_generator, hf_discriminator = _hf_pair(tmp_path)
    generator = keras_electra.ElectraMaskedLM.from_preset(
        str(tmp_path / "generator")
    )
    discriminator = keras_electra.ElectraDiscriminator.from_preset(
        str(tmp_path / "discriminator")
    )
    pretrainer = keras_electra.ElectraPretrainer(
        discriminator, generator, seed=3
    )
    assert pretrainer.discriminator_weight == 50.0

    batch = packed_batch(batch=3, seq=20, vocab_size=len(TINY_VOCAB), seed=7)
    masked = to_np(pretrainer.mask(batch))
    num_slots = masked["mask_positions"].shape[1]
    noise = np_gumbel((3, num_slots, len(TINY_VOCAB)), seed=8)
    ours = to_np(
        pretrainer.replaced_token_detection(batch, masked, noise, training=False)
    )
    reference = _reference_losses(
        hf_generator, hf_discriminator, batch, masked, noise
    )
    print(
        "ours", {k: float(ours[k]) for k in ("generator_loss", "discriminator_loss", "loss")},
        "reference", {k: reference[k] for k in ("generator_loss", "discriminator_loss", "loss")},
    )
    # Same samples, so the same corrupted input and labels.
    np.testing.assert_array_equal(ours["corrupted_ids"], reference["corrupted_ids"])
    np.testing.assert_array_equal(ours["replaced"], reference["replaced"])
    assert 0 < reference["replaced"].sum() < masked["mask_weights"].sum() + 1
    for key in ("generator_loss", "discriminator_loss", "loss"):
        np.testing.assert_allclose(
            float(ours[key]), reference[key], rtol=1e-6, atol=1e-5, err_msg=key
        )
