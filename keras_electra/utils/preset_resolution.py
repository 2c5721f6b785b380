"""Moved: the preset resolver is `keras_electra.presets.resolver`.

This old import path is kept as an alias of that very module (same module
object, so `keras_electra.utils.preset_resolution.X` is the resolver's `X`).
An alias only: `tests/test_import_structure.py` exempts it from the rule
that `utils` imports nothing above itself, and checks that it holds no code.
"""

import sys

from keras_electra.presets import resolver

sys.modules[__name__] = resolver
