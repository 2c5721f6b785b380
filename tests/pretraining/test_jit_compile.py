import keras
import numpy as np
from keras import ops

from tests.pretraining.helpers import packed_batch
from tests.pretraining.helpers import tiny_pretrainer


def _xla(fn):
    """`fn` compiled with XLA by TensorFlow or JAX; `None` on torch.

    Torch has no cheap compiled path for this step on CPU: `torch.compile`
    of it (measured with torch 2.13, Keras 3.15) splits into 34 graphs at
    33 graph breaks ("Dynamo does not know how to trace the builtin
    pybind11_object.__new__"), hits Dynamo's recompile limit in Keras'
    `TorchLayer.forward`, and the inductor compile of the tiny step ran
    over 7 minutes on 2 CPU cores before it was stopped. There the eager
    step is checked against the NumPy reference only.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return None


def _log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _reference_losses(model, batch, masked, noise):
    """The RTD losses in NumPy, from the two networks' logits.

    Google's `run_pretraining.py` written out: Gumbel-max sample of the
    generator's logits, samples put at the used mask slots, "replaced"
    where the token changed, masked-LM cross-entropy over the used slots
    and sigmoid cross-entropy over the real tokens, each over its weight
    sum + 1e-6, and `gen + 50 * disc`. (The networks themselves are
    checked against transformers elsewhere.)
    """
    layer = model.replaced_token_detection_layer
    generator_logits = ops.convert_to_numpy(
        layer.generator_logits(
            masked["token_ids"],
            batch["segment_ids"],
            batch["padding_mask"],
            masked["mask_positions"],
            training=False,
        )
    ).astype("float64")
    weights = masked["mask_weights"].astype("float64")
    label_log_probs = np.take_along_axis(
        _log_softmax(generator_logits), masked["mask_ids"][..., None], -1
    )[..., 0]
    gen_loss = -(label_log_probs * weights).sum() / (weights.sum() + 1e-6)

    sampled = (generator_logits + noise).argmax(-1)
    corrupted = batch["token_ids"].copy()
    for row, slot in zip(*np.nonzero(weights)):
        corrupted[row, masked["mask_positions"][row, slot]] = sampled[row, slot]
    replaced = (corrupted != batch["token_ids"]).astype("float64")
    logits = ops.convert_to_numpy(
        model.discriminator(
            {
                "token_ids": corrupted,
                "segment_ids": batch["segment_ids"],
                "padding_mask": batch["padding_mask"],
            },
            training=False,
        )
    ).astype("float64")
    per_token = (
        np.maximum(logits, 0) - logits * replaced + np.log1p(np.exp(-np.abs(logits)))
    )
    real = batch["padding_mask"].astype("float64")
    disc_loss = (per_token * real).sum() / (real.sum() + 1e-6)
    return gen_loss, disc_loss, gen_loss + 50.0 * disc_loss, replaced.sum()


def test_jit_compiled_training():
    """XLA on TensorFlow and JAX; eager on torch (see README.md, "Pre-training").

    On torch, `jit_compile=True` means `torch.compile` of the train step;
    Keras' torch random ops break its graph and force recompiles, which
    made the first step take minutes on CPU, so Keras' default there
    ("auto" -> eager) is what we support.
    """
    backend = keras.backend.backend()
    model = tiny_pretrainer(seed=0, dropout=0.0)
    reference = tiny_pretrainer(seed=0, dropout=0.0)
    reference.set_weights(model.get_weights())
    if backend == "torch":
        model.compile(learning_rate=1e-2, num_train_steps=10, warmup_steps=0)
        assert model.jit_compile is False
    else:
        model.compile(
            learning_rate=1e-2,
            num_train_steps=10,
            warmup_steps=0,
            jit_compile=True,
        )
        assert model.jit_compile is True
    batch = packed_batch(batch=4, seq=16)
    history = model.fit(batch, batch_size=4, epochs=4, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert history["loss"][-1] < history["loss"][0]

    # The replaced-token-detection step computes the NumPy reference's
    # losses given the same masking and noise, eagerly and (TensorFlow,
    # JAX) compiled with XLA. (TensorFlow's stateless RNG picks a different
    # algorithm under XLA, so fresh noise would differ.)
    masked = {
        k: ops.convert_to_numpy(v) for k, v in reference.mask(batch).items()
    }
    num_slots = masked["mask_positions"].shape[1]
    noise = np.random.default_rng(0).gumbel(
        size=(4, num_slots, reference.backbone.vocabulary_size)
    ).astype("float32")

    def losses(batch, masked, noise):
        out = reference.replaced_token_detection(batch, masked, noise)
        return out["generator_loss"], out["discriminator_loss"], out["loss"]

    *expected, num_replaced = _reference_losses(reference, batch, masked, noise)
    assert num_replaced > 0  # The discriminator loss sees both labels.
    runs = {"eager": losses(batch, masked, noise)}
    compiled = _xla(losses)
    if compiled is not None:
        runs["compiled"] = compiled(batch, masked, noise)
    for name, run in runs.items():
        for a, b in zip(run, expected):
            np.testing.assert_allclose(
                ops.convert_to_numpy(a), b, rtol=1e-5, err_msg=name
            )
