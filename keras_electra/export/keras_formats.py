"""Keras' own export formats of a task, from every backend.

`task.export(path, format=...)` with one of Keras' formats (`KERAS_FORMATS`:
`"tf_saved_model"`, `"onnx"`, `"litert"`, `"openvino"`) writes Keras'
token-id graph (inputs `token_ids`, `segment_ids`, `padding_mask`, plus
`mask_positions` for the masked LM; the model's logits out). Keras 3.15
writes all four from the TensorFlow backend, but none of them from JAX
(symbolic shapes fail in the position embedding, `onnx` wants `jax2onnx`,
`litert` refuses) or PyTorch (`tf_saved_model` fails on the dict inputs,
`onnx` and `openvino` on the tied embedding, `litert` wants
`litert-torch`). So from JAX and PyTorch the task is rebuilt under
TensorFlow in a subprocess (`tf_subprocess`) and Keras exports it there:
the same graph and file, whatever the backend.

`"onnx"` is `keras_electra.export.export_onnx` (the same tf2onnx
conversion, from every backend): Keras' own ONNX export leaves
TensorFlow's `Erfc` (the exact GELU) in the graph, which ONNX has no
operator for, and onnxruntime refuses the file ("No Op registered for
Erfc"); `export_onnx` converts it.

Each format runs in its own runtime: `tf.saved_model.load`, onnxruntime,
ai-edge-litert's interpreter, OpenVINO (`pip install
"keras-electra[export]"`); `tests/export/test_keras_formats.py` checks every
task in each against Keras' outputs (OpenVINO's CPU plugin computes in
bfloat16 where the CPU has it, unless compiled with
`{"INFERENCE_PRECISION_HINT": "f32"}`: 1e-3 off, against 3e-8 with it).
"""

import os
import shutil
import tempfile

import keras
import numpy as np

from keras_electra.export.onnx import export_onnx
from keras_electra.export.onnx import write_onnx
from keras_electra.export.tf_subprocess import write_in_tensorflow_subprocess

KERAS_FORMATS = ("tf_saved_model", "onnx", "litert", "openvino")
# What Keras' exporter needs installed, per format (beyond TensorFlow).
_EXPORT_NEEDS = {"openvino": ("openvino",)}


def export_keras_format(task, filepath, format, verbose=None,
                        input_signature=None, **kwargs):
    """`keras.Model.export(filepath, format=format)` of `task`, written by
    Keras' TensorFlow backend whatever the running backend (`"onnx"`:
    `export_onnx(task, filepath, **kwargs)`). Returns what Keras' export
    returns under TensorFlow (the path for `"onnx"`), else None."""
    if format not in KERAS_FORMATS:
        raise ValueError(
            f"`format` must be one of {KERAS_FORMATS} here. Received: "
            f"{format!r}"
        )
    if format == "onnx":
        if input_signature is not None:
            raise ValueError(
                'format="onnx" takes no `input_signature`: its inputs are '
                "the task's, int32 with dynamic batch and sequence length."
            )
        return export_onnx(task, filepath, **kwargs)
    for module in _EXPORT_NEEDS.get(format, ()):
        try:
            __import__(module)
        except ImportError as e:
            raise ImportError(
                f'Exporting format="{format}" needs `{module}`: '
                '`pip install "keras-electra[export]"`.'
            ) from e
    if keras.backend.backend() == "tensorflow":
        _call_once(task)
        return keras.Model.export(
            task, filepath, format=format, verbose=verbose,
            input_signature=input_signature, **kwargs
        )
    if input_signature is not None or kwargs:
        given = ["input_signature"] * (input_signature is not None) + list(kwargs)
        raise ValueError(
            f'From the {keras.backend.backend()} backend, format="{format}" '
            "is written by Keras' TensorFlow backend in a subprocess, with "
            f"its default options; {', '.join(given)} cannot be passed "
            "along. Export under KERAS_BACKEND=tensorflow to set them (the "
            "task's preset loads there unchanged)."
        )
    filepath = os.path.abspath(os.fspath(filepath))
    parent = os.path.dirname(filepath)
    os.makedirs(parent, exist_ok=True)
    # Written beside `filepath` and moved into place only when complete
    # (OpenVINO writes two files: NAME.xml and NAME.bin).
    staging = tempfile.mkdtemp(prefix=".tmp-export-", dir=parent)
    try:
        target = os.path.join(staging, os.path.basename(filepath))
        write_in_tensorflow_subprocess(
            [(task, filepath, {"format": format})], [target], "keras_format"
        )
        for name in os.listdir(staging):
            destination = os.path.join(parent, name)
            if os.path.isdir(destination):
                shutil.rmtree(destination)
            os.replace(os.path.join(staging, name), destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if verbose:
        print(f"Saved the {format} export at {filepath}")
    return None


def _call_once(task):
    """Run `task` once on a batch of zeros: Keras' ONNX export refuses a
    model that was never called (as one just loaded from a preset)."""
    zeros = {
        name: np.zeros([1 if d is None else d for d in x.shape], x.dtype)
        for name, x in task.input.items()
    }
    task(zeros, training=False)


def write_keras_format(task, path, options):
    """Write `task` in `options["format"]` under TensorFlow (the
    subprocess' writer, `tf_subprocess.WRITERS["keras_format"]`)."""
    if options["format"] == "onnx":
        return write_onnx(task, path, options)
    _call_once(task)
    keras.Model.export(task, path, format=options["format"], verbose=False)
