"""NumPy formulas the layer tests compare against (independent of Keras)."""

import math

import numpy as np
from keras import ops


def gelu(x):
    """The exact GELU, `x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))`."""
    x = np.asarray(x, "float64")
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def layer_norm(x, gamma, beta, epsilon):
    """LayerNorm over the last axis (biased variance, as Keras and TF1)."""
    x = np.asarray(x, "float64")
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * gamma + beta


def randomize(layer, seed=0, scale=0.5):
    """Give every weight of a built layer random values (the default
    initializers leave biases at zero and weights tiny)."""
    rng = np.random.default_rng(seed)
    for weight in layer.weights:
        weight.assign(rng.normal(scale=scale, size=weight.shape).astype("float32"))


def numpy(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")
