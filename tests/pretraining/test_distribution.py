"""Data parallelism runs in subprocesses: devices are fixed at startup.

`keras.distribution.DataParallel` is JAX's and `tf.distribute` is
TensorFlow's: each test runs in the CI pass of its own backend (running it
from the other passes would repeat the same subprocess).
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.pretraining.distribution_worker import RESULT_PREFIX

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


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="runs in the TF pass"
)
def test_tf_mirrored_replicas_mask_differently():
    result = _run("tensorflow", {})
    print(result)
    assert result["replicas"] == 2
    first, second = result["positions"]
    assert first != second  # Same inputs, different noise per replica.
    # The replicas mask differently from one device, so the losses differ
    # a little; but they are means, not sums over replicas.
    np.testing.assert_allclose(result["losses"], result["single"], rtol=0.1)
