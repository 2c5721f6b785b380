"""Serving exports: TensorFlow SavedModels (and ONNX) from any backend.

The usual entry point is the task's own method, `task.export(path)` (see
`keras_electra.models.electra_task_export`), which calls
`export_saved_model(task, path)`: a SavedModel taking raw strings, served
with TensorFlow alone. `export_many` exports several tasks at once (one
TensorFlow subprocess from JAX or PyTorch); `export_onnx` writes the
token-id graph as ONNX.

The same function is `keras_electra.export_saved_model` at the top level.
"""

from keras_electra.export.onnx import export_onnx
from keras_electra.export.saved_model import export_many
from keras_electra.export.saved_model import export_saved_model

__all__ = ["export_many", "export_onnx", "export_saved_model"]
