"""Moved: this helper of the model classes is `keras_electra.models.tf_graph`.

This old import path is kept as an alias of that very module.
"""

import sys

from keras_electra.models import tf_graph

sys.modules[__name__] = tf_graph
