import keras
import numpy as np
from keras import ops

from tests.pretraining.helpers import packed_batch
from tests.pretraining.helpers import tiny_pretrainer


def _xla(fn):
    """`fn` compiled with XLA by the backend (torch: run as is)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


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

    # The compiled replaced-token-detection step computes what the eager one
    # does, given the same masking and noise. (TensorFlow's stateless RNG
    # picks a different algorithm under XLA, so fresh noise would differ.)
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

    eager = losses(batch, masked, noise)
    compiled = _xla(losses)(batch, masked, noise)
    for a, b in zip(compiled, eager):
        np.testing.assert_allclose(
            ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=1e-5
        )
