"""Export an ELECTRA model's token-id graph to ONNX.

`export_onnx(task, path)` writes the task's Keras model (inputs
`token_ids`, `segment_ids`, `padding_mask` and, for the masked LM,
`mask_positions`: int32 `[batch, seq]` with dynamic batch and sequence
length; one output, the model's logits) as an ONNX file for ONNX Runtime
and other ONNX consumers. Tokenization stays outside: ONNX has no
WordPiece operator (use the SavedModel's string signature for that).

Like the SavedModel export, the graph is always traced by Keras'
TensorFlow backend, in-process or, from JAX and PyTorch, in a TensorFlow
subprocess, and converted with `tf2onnx` (`pip install
"keras-electra[onnx]"`).
"""

import os

import keras
import numpy as np

from keras_electra.export.tf_subprocess import staged
from keras_electra.export.tf_subprocess import write_in_tensorflow_subprocess

DEFAULT_OPSET = 17


def export_onnx(task, path, *, opset=DEFAULT_OPSET, overwrite=False):
    """Write the token-id graph of `task` as an ONNX model file.

    Args:
        task: a keras_electra task or `ElectraBackbone`, under any backend.
        path: the `.onnx` file to write.
        opset: int. The ONNX opset (at least 13).
        overwrite: bool. Replace an existing `path`.

    Returns:
        The absolute `path`.

    Example:
    ```python
    keras_electra.export.onnx.export_onnx(classifier, "classifier.onnx")

    import onnxruntime
    session = onnxruntime.InferenceSession("classifier.onnx")
    (logits,) = session.run(
        None,
        {"token_ids": ids, "segment_ids": segments, "padding_mask": mask},
    )
    ```
    """
    _require_tf2onnx()
    if not isinstance(task, keras.Model) or not isinstance(task.input, dict):
        raise ValueError(
            "`export_onnx` takes a keras_electra task or backbone (a Keras "
            f"model with named token inputs). Received: {type(task).__name__}"
        )
    if not isinstance(opset, int) or opset < 13:
        raise ValueError(f"`opset` must be an int >= 13. Received: {opset!r}")
    path = os.path.abspath(os.fspath(path))
    if os.path.lexists(path) and not overwrite:
        raise FileExistsError(
            f"{path!r} already exists. Pass `overwrite=True` to replace it."
        )
    options = {"opset": opset, "overwrite": bool(overwrite)}
    jobs = [(task, path, options)]
    with staged(jobs, "model.onnx") as targets:
        if keras.backend.backend() == "tensorflow":
            write_onnx(task, targets[0], options)
        else:
            write_in_tensorflow_subprocess(jobs, targets, "onnx")
    return path


def _require_tf2onnx():
    try:
        import tf2onnx  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "ONNX export needs `tf2onnx` and `onnx`: "
            '`pip install "keras-electra[onnx]"`.'
        ) from e


def write_onnx(task, path, options):
    """Trace `task` under TensorFlow and convert it to ONNX at `path`."""
    import tensorflow as tf

    _require_tf2onnx()
    import tf2onnx

    _register_erfc()
    names = list(task.input.keys())
    function = tf.function(
        lambda inputs: task(inputs, training=False), autograph=False
    )
    # Every dimension dynamic: `[batch, seq]`, or `[batch, choices, seq]`
    # for the multiple-choice task.
    spec = {
        n: tf.TensorSpec([None] * len(task.input[n].shape), tf.int32, name=n)
        for n in names
    }
    model_proto, _ = tf2onnx.convert.from_function(
        function,
        input_signature=[spec],
        opset=int(options.get("opset") or DEFAULT_OPSET),
    )
    output_name = "logits" if hasattr(task, "backbone") else "sequence_output"
    _rename_output(model_proto, output_name)
    with open(path, "wb") as f:
        f.write(model_proto.SerializeToString())


def _rename_output(model_proto, name):
    graph = model_proto.graph
    if len(graph.output) != 1:
        return
    old = graph.output[0].name
    for node in graph.node:
        node.output[:] = [name if o == old else o for o in node.output]
        node.input[:] = [name if i == old else i for i in node.input]
    graph.output[0].name = name


_ERFC_REGISTERED = []


def _register_erfc():
    """Teach tf2onnx TensorFlow's `Erfc`, which the exact GELU uses.

    tf2onnx 1.17 has no converter for it; `erfc(x) = 1 - erf(x)` with ONNX
    `Erf` (exact to float32 rounding where the GELU uses it).
    """
    if _ERFC_REGISTERED:
        return
    from tf2onnx import utils
    from tf2onnx.handler import tf_op

    @tf_op("Erfc")
    class Erfc:  # noqa: F841  (registered by the decorator)
        @classmethod
        def version_9(cls, ctx, node, **kwargs):
            x = node.input[0]
            dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(x))
            one = ctx.make_const(
                utils.make_name("erfc_one"), np.array(1, dtype=dtype)
            )
            erf = ctx.make_node("Erf", [x], op_name_scope=node.name)
            shapes, dtypes = node.output_shapes, node.output_dtypes
            ctx.remove_node(node.name)
            ctx.make_node(
                "Sub",
                [one.output[0], erf.output[0]],
                outputs=[node.output[0]],
                name=node.name,
                shapes=shapes,
                dtypes=dtypes,
            )

    _ERFC_REGISTERED.append(Erfc)
