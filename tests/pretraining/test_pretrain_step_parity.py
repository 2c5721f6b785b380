"""Two pre-training steps of `ElectraPretrainer` match a PyTorch reference.

The reference is transformers' `ElectraForMaskedLM` (generator) and
`ElectraForPreTraining` (discriminator) sharing one embedding module (its
word table also the generator's output layer), the replaced-token-detection
loss written out from Google's `run_pretraining.py`, and Google's
`AdamWeightDecayOptimizer` (`model/optimization.py`) written out by hand in
PyTorch: global-norm clipping at 1.0, Adam without bias correction, epsilon
1e-6, decoupled weight decay (0.1 here) except on LayerNorm and biases,
and the learning rate decaying linearly to 0 (no layer-wise rates in
pre-training). Our side is `pretrainer.compile()`'s default optimizer and
`train_on_batch`, i.e. the real compiled training step.

Masking and sampling noise: the step draws both from the pretrainer's seed
generator. Before each step the test draws them the same way
(`pretrainer.mask`, then `gumbel_noise` on the same seed generator), hands
them to the reference, and puts the seed state back, so the step draws the
same values again. The step's reported losses equal the reference's, which
confirms it.
"""

import numpy as np
from keras import ops

import keras_electra
from keras_electra.conversion.transformers_loader import (
    export_transformers_weights,
)
from keras_electra.pretraining.replaced_token_detection import gumbel_noise
from tests.conftest import TINY_VOCAB
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.pretraining.helpers import packed_batch

# Weight decay 0.1 (Google: 0.01) so that decaying a LayerNorm or a bias by
# mistake moves it by far more than the 1e-5 tolerance.
LR, NUM_TRAIN_STEPS, WEIGHT_DECAY = 2e-3, 10, 0.1
BETA_1, BETA_2, EPSILON, CLIP_NORM = 0.9, 0.999, 1e-6, 1.0
DISCRIMINATOR_WEIGHT = 50.0


def _hf_pair(directory):
    """transformers generator + discriminator, saved for our `from_preset`;
    returned sharing one embedding module, as ELECTRA trains them."""
    import torch
    from transformers import ElectraForMaskedLM
    from transformers import ElectraForPreTraining

    torch.manual_seed(0)
    generator_config = tiny_hf_config(embedding_size=16, hidden_size=16)
    generator_config.num_attention_heads = 2
    generator = randomize_(ElectraForMaskedLM(generator_config), seed=1)
    discriminator = randomize_(
        ElectraForPreTraining(tiny_hf_config(embedding_size=16, hidden_size=32)),
        seed=2,
    )
    generator.electra.embeddings.load_state_dict(
        discriminator.electra.embeddings.state_dict()
    )
    save_hf_checkpoint(generator, str(directory / "generator"))
    save_hf_checkpoint(discriminator, str(directory / "discriminator"))
    # One embedding module for both; the generator's output layer is the
    # shared word table (plus its own bias).
    generator.electra.embeddings = discriminator.electra.embeddings
    # transformers' `padding_idx` keeps the [PAD] row from the lookup's
    # gradient; Google's code has none, and a sample may be [PAD] (the
    # generator samples from the whole vocabulary).
    discriminator.electra.embeddings.word_embeddings.padding_idx = None
    generator.generator_lm_head.weight = (
        discriminator.electra.embeddings.word_embeddings.weight
    )
    generator.train()  # dropout is 0 in the tiny configs
    discriminator.train()
    return generator, discriminator


def _named_parameters(generator, discriminator):
    """Every trained parameter once, with its transformers name."""
    seen, named = set(), []
    for prefix, model in (("discriminator", discriminator), ("generator", generator)):
        for name, parameter in model.named_parameters():
            if id(parameter) not in seen:
                seen.add(id(parameter))
                named.append((f"{prefix}.{name}", parameter))
    return named


class GoogleAdamWeightDecay:
    """Google's `AdamWeightDecayOptimizer` with `clip_by_global_norm` and
    `polynomial_decay` (power 1, no warm-up), in plain PyTorch."""

    def __init__(self, named_parameters):
        import torch

        self.named = named_parameters
        self.m = [torch.zeros_like(p) for _, p in named_parameters]
        self.v = [torch.zeros_like(p) for _, p in named_parameters]
        self.step_count = 0

    def step(self):
        import torch

        grads = [p.grad for _, p in self.named]
        global_norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))
        scale = CLIP_NORM / max(global_norm.item(), CLIP_NORM)
        lr = LR * (1.0 - min(self.step_count, NUM_TRAIN_STEPS) / NUM_TRAIN_STEPS)
        with torch.no_grad():
            for (name, p), g, m, v in zip(self.named, grads, self.m, self.v):
                g = g * scale
                m.copy_(BETA_1 * m + (1.0 - BETA_1) * g)
                v.copy_(BETA_2 * v + (1.0 - BETA_2) * g * g)
                update = m / (torch.sqrt(v) + EPSILON)
                if not any(x in name for x in ("LayerNorm", "layer_norm", "bias")):
                    update = update + WEIGHT_DECAY * p
                p.sub_(lr * update)
        self.step_count += 1
        return global_norm.item()


def _reference_step(generator, discriminator, optimizer, batch, masked, noise):
    """One replaced-token-detection step in PyTorch; returns the losses."""
    import torch

    def t(x):
        return torch.tensor(np.asarray(x), dtype=torch.long)

    token_ids = np.asarray(batch["token_ids"])
    padding = torch.tensor(batch["padding_mask"], dtype=torch.float32)
    segments = t(batch["segment_ids"])
    for _, p in optimizer.named:
        p.grad = None

    logits = generator(
        input_ids=t(masked["token_ids"]),
        attention_mask=t(batch["padding_mask"]),
        token_type_ids=segments,
    ).logits
    positions = t(masked["mask_positions"])
    weights = torch.tensor(masked["mask_weights"], dtype=torch.float32)
    # [batch, slots, vocab]: the logits at the masked positions.
    at_masks = torch.gather(
        logits, 1, positions[..., None].expand(-1, -1, logits.shape[-1])
    )
    log_probs = torch.log_softmax(at_masks, dim=-1)
    nll = -torch.gather(log_probs, 2, t(masked["mask_ids"])[..., None])[..., 0]
    generator_loss = (nll * weights).sum() / (weights.sum() + 1e-6)

    sampled = torch.argmax(
        at_masks.detach() + torch.tensor(noise), dim=-1
    ).numpy()
    corrupted = token_ids.copy()
    for row, slot in zip(*np.nonzero(np.asarray(masked["mask_weights"]) > 0)):
        corrupted[row, masked["mask_positions"][row, slot]] = sampled[row, slot]
    replaced = (corrupted != token_ids).astype("float32")

    disc_logits = discriminator(
        input_ids=t(corrupted),
        attention_mask=t(batch["padding_mask"]),
        token_type_ids=segments,
    ).logits
    per_token = torch.nn.functional.binary_cross_entropy_with_logits(
        disc_logits, torch.tensor(replaced), reduction="none"
    )
    discriminator_loss = (per_token * padding).sum() / (padding.sum() + 1e-6)
    loss = generator_loss + DISCRIMINATOR_WEIGHT * discriminator_loss
    loss.backward()
    global_norm = optimizer.step()
    return {
        "loss": loss.item(),
        "generator_loss": generator_loss.item(),
        "discriminator_loss": discriminator_loss.item(),
        "global_norm": global_norm,
        "corrupted": corrupted,
        "replaced": replaced,
    }


def _draws(pretrainer, batch):
    """The masking and noise the next training step will draw."""
    seed_generator = pretrainer.seed_generator
    state = ops.convert_to_numpy(seed_generator.state)
    masked = {
        k: ops.convert_to_numpy(v) for k, v in pretrainer.mask(batch).items()
    }
    batch_size, slots = masked["mask_positions"].shape
    noise = ops.convert_to_numpy(
        gumbel_noise((batch_size, slots, len(TINY_VOCAB)), seed=seed_generator)
    )
    seed_generator.state.assign(state)
    return masked, noise


def test_two_pretraining_steps_match_pytorch_reference(tmp_path):
    import torch

    hf_generator, hf_discriminator = _hf_pair(tmp_path)
    before = {
        name: p.detach().numpy().copy()
        for name, p in _named_parameters(hf_generator, hf_discriminator)
    }
    generator = keras_electra.ElectraMaskedLM.from_preset(
        str(tmp_path / "generator")
    )
    discriminator = keras_electra.ElectraDiscriminator.from_preset(
        str(tmp_path / "discriminator")
    )
    pretrainer = keras_electra.ElectraPretrainer(discriminator, generator, seed=5)
    pretrainer.compile(
        learning_rate=LR,
        num_train_steps=NUM_TRAIN_STEPS,
        warmup_steps=0,
        weight_decay_rate=WEIGHT_DECAY,
    )
    optimizer = GoogleAdamWeightDecay(
        _named_parameters(hf_generator, hf_discriminator)
    )

    for step, seed in enumerate((11, 12)):
        batch = packed_batch(batch=3, seq=20, vocab_size=len(TINY_VOCAB), seed=seed)
        masked, noise = _draws(pretrainer, batch)
        ours = pretrainer.train_on_batch(batch, return_dict=True)
        reference = _reference_step(
            hf_generator, hf_discriminator, optimizer, batch, masked, noise
        )
        print(
            f"step {step}: ours loss {ours['loss']:.6f}, reference "
            f"{reference['loss']:.6f}, gradient norm {reference['global_norm']:.3f}, "
            f"replaced {int(reference['replaced'].sum())}"
        )
        # The draws were the step's: same losses (a different masking or
        # sample would move them by far more than float32 rounding).
        for key in ("loss", "generator_loss", "discriminator_loss"):
            np.testing.assert_allclose(
                float(ours[key]), reference[key], rtol=1e-4, err_msg=key
            )
        # Clipping is active, and some samples differ from the original.
        assert reference["global_norm"] > 2 * CLIP_NORM
        assert reference["replaced"].sum() > 0

    # All weights after 2 steps: the discriminator's (with the shared
    # embeddings) and the generator's own (its embedding copy is unused).
    ours = {
        f"discriminator.{k}": v
        for k, v in export_transformers_weights(pretrainer.discriminator).items()
    }
    ours.update(
        (f"generator.{k}", v)
        for k, v in export_transformers_weights(pretrainer.generator).items()
        if not k.startswith("electra.embeddings.")
    )
    state = {
        name: p.detach().numpy()
        for name, p in _named_parameters(hf_generator, hf_discriminator)
    }
    # Every reference parameter is compared (the generator's embeddings
    # are the discriminator's module, listed once under its name).
    assert set(ours) == set(state), set(ours) ^ set(state)
    diffs = {name: float(np.abs(ours[name] - state[name]).max()) for name in state}
    worst = max(diffs, key=diffs.get)
    print(f"pre-training step parity: max weight diff {diffs[worst]:.2e} ({worst})")
    assert diffs[worst] <= 1e-5, sorted(diffs.items(), key=lambda kv: -kv[1])[:5]
    # Every parameter moved (by about the learning rate): nothing is frozen
    # on either side. (Not the attention key biases: softmax ignores them,
    # so their gradient is 0, and biases get no weight decay.)
    moved = {
        name: float(np.abs(state[name] - before[name]).max())
        for name in state
        if not name.endswith("key.bias")
    }
    assert min(moved.values()) > LR / 10, min(moved.items(), key=lambda kv: kv[1])
    assert torch.equal(
        hf_generator.generator_lm_head.weight,
        hf_discriminator.electra.embeddings.word_embeddings.weight,
    )
