"""Moved: this helper of the model classes is `keras_electra.models.sequence_length`.

This old import path is kept as an alias of that very module.
"""

import sys

from keras_electra.models import sequence_length

sys.modules[__name__] = sequence_length
