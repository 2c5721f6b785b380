"""The in-graph Gumbel noise of replaced token detection.

`gumbel_noise` must draw Gumbel(0, 1) samples (Gumbel-max sampling from
the generator is exact only then), and the pre-training layer must draw
fresh noise at every call and every training step from the model's seed
generator. That `tf.distribute` replicas draw different noise (and still
Gumbel(0, 1)) is checked in test_distribution.py, whose TensorFlow worker
draws it on two MirroredStrategy replicas.
"""

import keras
import numpy as np
from keras import ops

from keras_electra.pretraining import replaced_token_detection_layer
from keras_electra.pretraining.replaced_token_detection import gumbel_noise
from tests.pretraining.helpers import packed_batch
from tests.pretraining.helpers import tiny_pretrainer

EULER_GAMMA = 0.5772156649015329  # Mean of Gumbel(0, 1).
GUMBEL_VAR = np.pi**2 / 6  # Its variance.
GUMBEL_KURTOSIS = 27 / 5  # E[(x - mean)^4] / var^2 (excess 12/5).
N = 2**18


def test_gumbel_noise_has_gumbel_moments_and_distribution():
    """Mean, variance and CDF of 2^18 draws against Gumbel(0, 1).

    Tolerances from the sample size: five standard errors of the mean
    (sqrt(var / N) = 0.0025) and of the sample variance
    (var * sqrt((kurtosis - 1) / N) = 0.0067), and for the largest CDF
    gap (Kolmogorov-Smirnov) 1.95 / sqrt(N) = 0.0038, the 0.1% critical
    value. A test fails by chance well under once in 10^4 runs; the draws
    are seeded, so a given backend passes or fails every time.
    """
    x = gumbel_noise((512, 512), seed=keras.random.SeedGenerator(0))
    assert keras.backend.standardize_dtype(x.dtype) == "float32"
    x = ops.convert_to_numpy(x).astype("float64").ravel()
    assert x.size == N and np.all(np.isfinite(x))
    mean_se = np.sqrt(GUMBEL_VAR / N)
    var_se = GUMBEL_VAR * np.sqrt((GUMBEL_KURTOSIS - 1) / N)
    print(f"mean {x.mean():.5f} var {x.var():.5f}")
    assert abs(x.mean() - EULER_GAMMA) < 5 * mean_se
    assert abs(x.var() - GUMBEL_VAR) < 5 * var_se
    x.sort()
    cdf = np.exp(-np.exp(-x))
    upper = np.arange(1, N + 1) / N
    ks = max(np.max(upper - cdf), np.max(cdf - (upper - 1 / N)))
    print(f"KS distance {ks:.5f}")
    assert ks < 1.95 / np.sqrt(N)


def _recording_noise(monkeypatch):
    """Record the noise the layer draws (eager calls only)."""
    draws = []

    def recording(shape, seed=None):
        noise = gumbel_noise(shape, seed=seed)
        draws.append(ops.convert_to_numpy(noise))
        return noise

    monkeypatch.setattr(replaced_token_detection_layer, "gumbel_noise", recording)
    return draws


def test_layer_draws_fresh_noise_at_every_call(monkeypatch):
    draws = _recording_noise(monkeypatch)
    model = tiny_pretrainer(seed=0, dropout=0.0)
    batch = packed_batch(batch=4, seq=16)
    state = ops.convert_to_numpy(model.seed_generator.state).copy()
    model(batch)
    model(batch)
    assert len(draws) == 2
    first = draws[0]
    assert draws[0].shape == (4, 2, model.backbone.vocabulary_size)
    assert np.mean(draws[0] == draws[1]) < 0.01
    assert not np.array_equal(
        ops.convert_to_numpy(model.seed_generator.state), state
    )
    # The same seed draws the same noise again.
    draws.clear()
    tiny_pretrainer(seed=0, dropout=0.0)(batch)
    np.testing.assert_array_equal(draws[0], first)


def test_training_steps_draw_fresh_noise():
    """Compiled `fit` steps (XLA/graph on TF and JAX): with the weights
    held (SGD, learning rate 0) and the masking fixed, only the sampling
    noise can change between steps; the generator loss does not depend on
    it, the discriminator loss does (other samples, other labels)."""
    model = tiny_pretrainer(seed=0, dropout=0.0)
    batch = packed_batch(batch=4, seq=16)
    masked = {
        k: ops.convert_to_numpy(v) for k, v in model.mask(batch).items()
    }
    layer = model.replaced_token_detection_layer
    # Masking fixed; the noise is drawn as `call` draws it.
    layer.mask = lambda inputs: masked
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    state = ops.convert_to_numpy(model.seed_generator.state).copy()
    history = model.fit(batch, batch_size=4, epochs=3, verbose=0).history
    print(history)
    np.testing.assert_allclose(
        history["generator_loss"], history["generator_loss"][0], rtol=1e-6
    )
    disc = history["discriminator_loss"]
    assert len(set(disc)) == 3, disc
    assert not np.array_equal(
        ops.convert_to_numpy(model.seed_generator.state), state
    )
