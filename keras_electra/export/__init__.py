"""Serving exports: TensorFlow SavedModels from any Keras backend.

`keras_electra.export(task, path)` is `saved_model.export`.
"""

from keras_electra.export.saved_model import export
from keras_electra.export.saved_model import export_many
from keras_electra.export.onnx import export_onnx
