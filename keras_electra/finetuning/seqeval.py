"""Moved: this module is `keras_electra.metrics.seqeval`.

This old import path is kept as an alias of that very module.
"""

import sys

from keras_electra.metrics import seqeval

sys.modules[__name__] = seqeval
