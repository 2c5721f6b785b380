"""Serving exports: TensorFlow SavedModels (and ONNX) from any backend.

This package is callable: `keras_electra.export(task, path, ...)` is
`keras_electra.export.saved_model.export`. `export_many` exports several
tasks at once; `export_onnx` writes the token-id graph as ONNX.
"""

import sys
import types

from keras_electra.export.onnx import export_onnx
from keras_electra.export.saved_model import export
from keras_electra.export.saved_model import export_many


class _CallableModule(types.ModuleType):
    """Makes `keras_electra.export(task, path)` call `export` while
    `keras_electra.export` stays this package (its submodules import)."""

    def __call__(self, task, path, **kwargs):
        return export(task, path, **kwargs)

    __call__.__doc__ = export.__doc__


sys.modules[__name__].__class__ = _CallableModule
