"""Moved: the optimizer is `keras_electra.optimizers.optimization`.

This old import path is kept as an alias of that very module (same module
object: every name, private ones too).
"""

import sys

from keras_electra.optimizers import optimization

sys.modules[__name__] = optimization
