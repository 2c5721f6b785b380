"""Serve exported SavedModels in a process that has no Keras.

Run as `python serving_process.py requests.pkl results.pkl`. Imports of
`keras`, `keras_hub`, `keras_electra` and `tf_keras` are made to fail, as
on a serving machine without them: TensorFlow then starts without Keras
(its own `import keras` is optional). `tensorflow_text`'s Python package
needs Keras (`tf.keras`) at import, so its kernel libraries are loaded
directly, as a TF Serving binary links them.

`requests.pkl` holds `{"models": {name: path}, "calls": [{"model",
"signature", "inputs"}]}`; `results.pkl` gets, per call, the outputs as
NumPy arrays (strings decoded to `str`) or the error message, plus the
modules of the blocked packages that got imported (there must be none).
"""

import glob
import importlib.abc
import importlib.machinery
import importlib.util
import os
import pickle
import sys

import numpy as np

BLOCKED = ("keras", "keras_hub", "keras_electra", "tf_keras")


class _BlockImports(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return importlib.machinery.ModuleSpec(name, self)
        return None

    def create_module(self, spec):
        raise ModuleNotFoundError(
            f"No module named {spec.name!r} (blocked)", name=spec.name
        )

    def exec_module(self, module):
        raise AssertionError("unreachable")


def load_tf_text_kernels(tf):
    spec = importlib.util.find_spec("tensorflow_text")
    root = spec.submodule_search_locations[0]
    libraries = sorted(glob.glob(os.path.join(root, "python", "ops", "_*.so")))
    if not libraries:
        raise FileNotFoundError(f"No TF Text kernels under {root}")
    for library in libraries:
        tf.load_op_library(library)


def to_numpy(tensor):
    value = tensor.numpy()
    if value.dtype == object:
        return np.char.decode(value.astype(bytes), "utf-8")
    return value


def main(requests_path, results_path):
    sys.meta_path.insert(0, _BlockImports())
    import tensorflow as tf

    load_tf_text_kernels(tf)
    with open(requests_path, "rb") as f:
        requests = pickle.load(f)
    models = {
        name: tf.saved_model.load(path)
        for name, path in requests["models"].items()
    }
    results = []
    for call in requests["calls"]:
        signature = models[call["model"]].signatures[call["signature"]]
        inputs = {k: tf.constant(v) for k, v in call["inputs"].items()}
        try:
            outputs = signature(**inputs)
            results.append({k: to_numpy(v) for k, v in outputs.items()})
        except Exception as e:  # reported per call, checked by the tests
            results.append({"error": f"{type(e).__name__}: {e}"})
    imported = sorted(
        m for m in sys.modules if m.split(".")[0] in BLOCKED + ("tensorflow_text",)
    )
    with open(results_path, "wb") as f:
        pickle.dump({"calls": results, "imported": imported}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
