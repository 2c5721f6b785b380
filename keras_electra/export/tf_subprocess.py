"""Export from JAX or PyTorch: the same task, rebuilt under TensorFlow.

A Keras process cannot switch backend, and the serving graphs are always
traced by Keras' TensorFlow backend. So a task living under JAX or PyTorch
is saved as a Keras preset (backend-independent config, weights and
vocabulary) to a temporary directory, and a `KERAS_BACKEND=tensorflow`
subprocess rebuilds it and runs the writer (`WRITERS`: the SavedModel's or
the ONNX exporter's) on it: one subprocess for any number of tasks.

`staged` is the other half every exporter shares: targets are written
beside their paths and renamed into place only when all succeeded, so a
failed export never leaves a half-written model.

This module imports neither writer (they import it); the child finds them
by name.
"""

import contextlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import keras


@contextlib.contextmanager
def staged(jobs, name="saved_model"):
    """Yield a temporary target (`name`) beside each job's path; rename the
    targets into place only if the block succeeds, so that a failed export
    leaves nothing behind."""
    staging = []
    try:
        for _, path, _ in jobs:
            parent = os.path.dirname(path)
            os.makedirs(parent, exist_ok=True)
            staging.append(tempfile.mkdtemp(prefix=".tmp-export-", dir=parent))
        targets = [os.path.join(tmp, name) for tmp in staging]
        yield targets
        for (_, path, options), target in zip(jobs, targets):
            if os.path.lexists(path):
                if not options["overwrite"]:
                    raise FileExistsError(
                        f"{path!r} appeared during the export."
                    )
                if os.path.isdir(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)
            os.replace(target, path)
    finally:
        for tmp in staging:
            shutil.rmtree(tmp, ignore_errors=True)


# The child's program. `import keras_electra` loads (and registers for
# deserialization) every class, as the saved tasks need.
_SUBPROCESS_CODE = (
    "import sys\n"
    "import keras_electra\n"
    "from keras_electra.export.tf_subprocess import run_exports\n"
    "run_exports(sys.argv[1])\n"
)
# What the child runs for each job, by name: `module:function(task, path,
# options)`. Named, not imported: the writers' modules import this one.
WRITERS = {
    "saved_model": "keras_electra.export.saved_model:write_saved_model",
    "onnx": "keras_electra.export.onnx:write_onnx",
    # Keras' own `export(format=...)`: `keras_electra.export.keras_formats`.
    "keras_format": "keras_electra.export.keras_formats:write_keras_format",
}


def write_in_tensorflow_subprocess(jobs, targets, writer):
    """Save each task as a Keras preset; rebuild and export them all in one
    `KERAS_BACKEND=tensorflow` subprocess.

    Args:
        jobs: list of `(task, path, options)`.
        targets: where the subprocess writes each job's export.
        writer: a name in `WRITERS`: `"saved_model"`
            (`keras_electra.export.saved_model.write_saved_model`) or
            `"onnx"` (`keras_electra.export.onnx.write_onnx`).
    """
    if writer not in WRITERS:
        raise ValueError(f"Unknown writer {writer!r}; one of {sorted(WRITERS)}.")
    for task, _, _ in jobs:
        if type(task).__module__ == "__main__":
            raise ValueError(
                f"Cannot export a {type(task).__name__} defined in `__main__` "
                f"from the {keras.backend.backend()} backend: the exporter "
                "rebuilds the task under TensorFlow in a subprocess, which "
                "imports its class. Define the class in an importable module."
            )
    with tempfile.TemporaryDirectory(prefix="keras_electra_export_") as tmp:
        specs = []
        for i, ((task, _, options), target) in enumerate(zip(jobs, targets)):
            preset = os.path.join(tmp, f"preset_{i}")
            task.save_to_preset(preset)
            specs.append(
                {
                    "module": type(task).__module__,
                    "class": type(task).__qualname__,
                    "preset": preset,
                    "path": target,
                    "options": options,
                    "writer": writer,
                }
            )
        spec_path = os.path.join(tmp, "exports.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(specs, f)
        env = dict(os.environ)
        env["KERAS_BACKEND"] = "tensorflow"
        # Tracing needs no accelerator; leave the parent's GPUs alone.
        env["CUDA_VISIBLE_DEVICES"] = "-1"
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        package_root = os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH")) if p
        )
        # `-P`: no current directory on `sys.path`, whose files could
        # shadow the package named by PYTHONPATH above.
        safe_path = ["-P"] if sys.version_info >= (3, 11) else []
        result = subprocess.run(
            [sys.executable, *safe_path, "-c", _SUBPROCESS_CODE, spec_path],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            log = (result.stderr or "") + (result.stdout or "")
            names = ", ".join(type(task).__name__ for task, _, _ in jobs)
            raise RuntimeError(
                f"Exporting ({names}) failed in the TensorFlow subprocess "
                f"(exit code {result.returncode}). Its output ends with:\n"
                f"{log[-4000:]}"
            )
        for target in targets:
            if not os.path.exists(target):
                raise RuntimeError(
                    "The TensorFlow export subprocess exited without writing "
                    f"{target!r}."
                )


def run_exports(spec_path):
    """The child's side: rebuild each task and write it (TensorFlow
    backend; `keras_electra` is imported by `_SUBPROCESS_CODE`)."""
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "The export subprocess must run with KERAS_BACKEND=tensorflow."
        )
    with open(spec_path, encoding="utf-8") as f:
        specs = json.load(f)
    for spec in specs:
        cls = importlib.import_module(spec["module"])
        for name in spec["class"].split("."):
            cls = getattr(cls, name)
        task = cls.from_preset(spec["preset"])
        module, function = WRITERS[spec["writer"]].split(":")
        write = getattr(importlib.import_module(module), function)
        write(task, spec["path"], spec["options"])
