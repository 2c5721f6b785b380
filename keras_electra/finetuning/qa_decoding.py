"""Moved: this module is `keras_electra.models.qa_decoding`.

This old import path is kept as an alias of that very module.
"""

import sys

from keras_electra.models import qa_decoding

sys.modules[__name__] = qa_decoding
