"""Data parallelism runs in subprocesses: devices are fixed at startup.

`keras.distribution.DataParallel` is JAX's and `tf.distribute` is
TensorFlow's: each test runs in the CI pass of its own backend (running it
from the other passes would repeat the same subprocess).
"""

import functools
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.pretraining.distribution_worker import RESULT_PREFIX

EULER_GAMMA = 0.5772156649015329
GUMBEL_VAR = np.pi**2 / 6

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(backend, extra_env):
    env = dict(os.environ, KERAS_BACKEND=backend, **extra_env)
    process = subprocess.run(
        [sys.executable, "-m", "tests.pretraining.distribution_worker", backend],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-3000:]
    line = [l for l in process.stdout.splitlines() if l.startswith(RESULT_PREFIX)]
    return json.loads(line[-1][len(RESULT_PREFIX):])


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="runs in the JAX pass"
)
def test_jax_data_parallel_gives_the_single_device_losses():
    flags = os.environ.get("XLA_FLAGS", "")
    result = _run(
        "jax",
        {"XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count=4"},
    )
    print(result)
    assert result["devices"] == 4
    assert result["replicated"]  # Weights replicated, batch split.
    np.testing.assert_allclose(result["parallel"], result["single"], rtol=1e-5)
    assert result["single"][0] != result["single"][1]


@functools.lru_cache(maxsize=None)
def _tf_result():
    """The TensorFlow worker's result, run once for both tests."""
    return _run("tensorflow", {})


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="runs in the TF pass"
)
def test_tf_mirrored_replicas_mask_differently():
    result = _tf_result()
    print(result)
    assert result["replicas"] == 2
    first, second = result["positions"]
    assert first != second  # Same inputs, different noise per replica.
    # Gumbel noise: each replica its own draw, both Gumbel(0, 1) (five
    # standard errors of the mean / variance for the sample size; see
    # test_gumbel_noise.py).
    n = result["noise_size"]
    assert result["noise_equal_fraction"] < 1e-3
    for mean, var in zip(result["noise_mean"], result["noise_var"]):
        assert abs(mean - EULER_GAMMA) < 5 * np.sqrt(GUMBEL_VAR / n)
        assert abs(var - GUMBEL_VAR) < 5 * GUMBEL_VAR * np.sqrt(4.4 / n)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="runs in the TF pass"
)
def test_tf_mirrored_step_follows_the_gradient_of_the_mean():
    """One SGD step of `fit` under MirroredStrategy (2 replicas, 4 examples
    each, masking and noise fixed per replica) lands where one device's
    step along the gradient of the mean of the two replicas' losses does,
    at float32 tolerance. Summing unscaled replica gradients would double
    the step; an unreduced one would halve it."""
    result = _tf_result()
    np.testing.assert_allclose(
        result["strategy_loss"], result["expected_loss"], rtol=1e-5
    )
    updates, errors = np.array(result["updates"]), np.array(result["errors"])
    print("largest update", updates.max(), "largest error", errors.max())
    # Nearly every variable moves, some by far more than the tolerance
    # (a wrong replica scaling would be off by a whole update)...
    assert np.mean(updates > 0) > 0.9
    assert updates.max() > 1e-3
    # ...and lands where the one-device step does, up to float32 rounding
    # (weights are O(0.1-1); 1e-6 is a few ulps).
    assert errors.max() < 1e-6, errors
