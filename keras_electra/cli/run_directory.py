"""The run directory of a command: its config, checkpoints, results,
plots and models (`runs/<timestamp>-<command>` unless `--output-dir`)."""

import json
import os
import platform
import time

import keras

import keras_electra
from keras_electra.cli.shared import UsageError
from keras_electra.cli.shared import default_output_dir


class RunDir:
    """The run directory: config, checkpoints, results, plot, models."""

    def __init__(self, args, command, chief=True):
        self.root = os.path.abspath(
            args.output_dir or default_output_dir(command)
        )
        os.makedirs(self.root, exist_ok=True)
        self.logdir = getattr(args, "logdir", None)
        if not chief:
            return  # A data-parallel run's other processes write nothing.
        config = {
            "command": command,
            "options": {k: v for k, v in vars(args).items() if k != "command"},
            "backend": keras.config.backend(),
            "keras_electra": keras_electra.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        self.write_json("config.json", config)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_json(self, name, value):
        with open(self.path(name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, default=str)
            f.write("\n")

    def callbacks(self, name, checkpoints=True):
        """Checkpoints (resume on rerun) and TensorBoard logs for `name`."""
        from keras_electra.pretraining.checkpointing import (
            AtomicBackupAndRestore,
        )

        callbacks = []
        if checkpoints:
            callbacks.append(
                AtomicBackupAndRestore(
                    self.path("checkpoints", name), delete_checkpoint=False
                )
            )
        if self.logdir:
            _require_tensorboard()
            callbacks.append(
                keras.callbacks.TensorBoard(
                    os.path.join(self.logdir, name), write_graph=False
                )
            )
        return callbacks


def _require_tensorboard():
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise UsageError(
            "--logdir needs the `tensorboard` package: pip install tensorboard"
        ) from None


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
