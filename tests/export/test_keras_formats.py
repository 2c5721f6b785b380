"""Keras' export formats, each run by its own runtime (issue 31, item 3).

`task.export(path, format=...)` for `tf_saved_model`, `onnx`, `litert` and
`openvino` works from every backend (Keras' TensorFlow backend writes it,
in a subprocess from JAX and PyTorch: `keras_electra.export.keras_formats`),
and what it writes, run by `tf.saved_model.load`, onnxruntime,
ai-edge-litert's interpreter and OpenVINO, gives Keras' outputs within
1e-4. Tiny models; one subprocess per export from JAX and PyTorch."""

import os

import keras
import numpy as np
import pytest
from keras import ops

from keras_electra.export import keras_formats
from keras_electra.export.tf_subprocess import write_in_tensorflow_subprocess
from tests.conversion.test_transformers_export import build
from tests.conversion.test_transformers_export import keras_and_torch_inputs
from tests.conversion.test_transformers_export import randomize

TOLERANCE = 1e-4
FILES = {
    "tf_saved_model": "model",
    "onnx": "model.onnx",
    "litert": "model.tflite",
    "openvino": "model.xml",
}
TASKS = [
    "ElectraClassifier",
    "ElectraTokenClassifier",
    "ElectraQuestionAnswerer",
    "ElectraMultipleChoice",
    "ElectraMaskedLM",
    "ElectraDiscriminator",
]


def run_in_runtime(fmt, path, inputs):
    """The exported model's output, computed by the format's own runtime."""
    if fmt == "tf_saved_model":
        import tensorflow as tf

        served = tf.saved_model.load(path)
        return np.asarray(
            served.serve({k: tf.constant(v) for k, v in inputs.items()})
        )
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path)
        (out,) = session.run(None, inputs)
        return out
    if fmt == "litert":
        from ai_edge_litert.interpreter import Interpreter

        runner = Interpreter(model_path=path).get_signature_runner()
        (out,) = runner(**inputs).values()
        return out
    import openvino

    # f32: the CPU plugin otherwise computes in bfloat16 where it can.
    compiled = openvino.Core().compile_model(
        path, "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    # The first output is the model's; Keras' OpenVINO export (3.15) also
    # lists two int32 scalars of the attention's shape arithmetic.
    return compiled(inputs)[compiled.output(0)]


def check(fmt, task, kind, path):
    inputs, _ = keras_and_torch_inputs(kind)
    inputs = {k: np.asarray(v, "int32") for k, v in inputs.items()}
    expected = ops.convert_to_numpy(task(inputs, training=False))
    got = run_in_runtime(fmt, path, inputs)
    assert got.shape == expected.shape, (fmt, kind, got.shape)
    diff = np.abs(got - expected).max()
    assert diff <= TOLERANCE, f"{fmt} {kind}: max |diff| {diff:.3g}"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", list(FILES))
def test_task_export_writes_each_format_from_this_backend(fmt, tmp_path):
    """The public path, `task.export(path, format=...)`, on the running
    backend."""
    task = randomize(build("ElectraClassifier"))
    path = str(tmp_path / FILES[fmt])
    task.export(path, format=fmt)
    assert sorted(os.listdir(tmp_path)) == sorted(
        [FILES[fmt]] + (["model.bin"] if fmt == "openvino" else [])
    )  # nothing left beside it
    check(fmt, task, "ElectraClassifier", path)


@pytest.mark.slow
@pytest.mark.skipif(
    keras.config.backend() != "tensorflow",
    reason="the file is Keras' TensorFlow export of the same preset from "
    "every backend (the test above runs that path on JAX and PyTorch); "
    "20 exports take about 3 minutes, once is enough for CI",
)
def test_every_task_in_every_format(tmp_path):
    """Every other exportable task in every format, written as
    `task.export` writes them (from JAX and PyTorch: all in one TensorFlow
    subprocess)."""
    # The classifier: in the test above.
    tasks = {
        kind: randomize(build(kind), seed=i)
        for i, kind in enumerate(TASKS)
        if kind != "ElectraClassifier"
    }
    jobs, targets = [], []
    for kind, task in tasks.items():
        for fmt, name in FILES.items():
            target = str(tmp_path / kind / fmt / name)
            os.makedirs(os.path.dirname(target))
            jobs.append((task, target, {"format": fmt, "overwrite": False}))
            targets.append(target)
    if keras.config.backend() == "tensorflow":
        for task, target, options in jobs:
            keras_formats.write_keras_format(task, target, options)
    else:
        write_in_tensorflow_subprocess(jobs, targets, "keras_format")
    for (task, target, options), kind in zip(
        jobs, [k for k in tasks for _ in FILES]
    ):
        check(options["format"], task, kind, target)


def test_options_that_cannot_travel_get_a_named_error(tmp_path):
    task = build("ElectraClassifier")
    if keras.config.backend() == "tensorflow":
        with pytest.raises(ValueError, match="input_signature"):
            task.export(
                str(tmp_path / "m.onnx"), format="onnx", input_signature=[]
            )
    else:
        with pytest.raises(ValueError, match="KERAS_BACKEND=tensorflow"):
            task.export(
                str(tmp_path / "m.tflite"), format="litert",
                input_signature=[],
            )
    assert os.listdir(tmp_path) == []
