"""Test settings for pre-training tests.

XLA's optimization passes take most of the JIT compile time of these small
models on CPU (about 3x on JAX) and the tests do not depend on them, so
they are turned off unless XLA_FLAGS is already set. This must happen
before JAX initializes its CPU backend, i.e. at collection.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
