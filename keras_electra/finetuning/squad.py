"""Moved: this module is `keras_electra.metrics.squad`.

This old import path is kept as an alias of that very module.
"""

import sys

from keras_electra.metrics import squad

sys.modules[__name__] = squad
