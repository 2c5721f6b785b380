"""What `keras-electra` leaves off stderr unless `--verbose` is given.

The libraries under the command report things a user has nothing to do
about: TensorFlow's C++ start-up notices ("Could not find cuda drivers",
"failed call to cuInit: ... CUDA error", oneDNN and CPU-instruction
notices), grain's absl warning about its read-ahead buffer (from
keras-hub's input pipeline), and Python warnings printed with the source
line that raised them (a bare `saveable.load_own_variables(store)`). A
newcomer reads "CUDA error" as a failure. `quiet_libraries` keeps those
off; errors (exceptions, the command's own messages, fatal log lines) still
reach the user, and Python warnings still show, as one line each.

TensorFlow writes its first notices from its C++ libraries as they load,
before its logging is initialized, and `TF_CPP_MIN_LOG_LEVEL` does not
reach those (tensorflow/tensorflow#100442). So `import tensorflow` runs
with file descriptor 2 sent to a temporary file, and what it wrote is
passed on afterwards, less the lines in TensorFlow's log format that are
not fatal.
"""

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

# Read by TensorFlow's C++ logging once it is initialized: 3 keeps its
# info, warning and error lines (errors reach Python as exceptions).
ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3"}
# TensorFlow's (glog/absl format) info, warning and error lines, the
# line absl prints before it is initialized, and the second line of the
# CPU-instruction notice. A fatal (`F...`) line is kept.
_NOTICE = re.compile(
    r"^(?:[IWE]\d{4} [\d:.]+\s+\d+ [^\]\s]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow"
    r")"
)
# Keras warns this when a task preset saved after training (its weights
# file holds the optimizer's state) is loaded into a new, unbuilt
# optimizer: the model's weights load; only the optimizer starts afresh.
OPTIMIZER_NOT_LOADED = r"Skipping variable loading for optimizer"


def is_notice(line):
    """Whether `line` is one of TensorFlow's start-up log lines."""
    return bool(_NOTICE.match(line))


def _import_tensorflow_quietly():
    """`import tensorflow`, passing on only what is not a notice."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", "replace")
            kept = [
                line
                for line in text.splitlines(keepends=True)
                if not is_notice(line)
            ]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def _one_line_warning(message, category, filename, lineno, file=None,
                      line=None):
    """`warnings.showwarning` for the command: the message, without the
    file, the category or the line of source that raised it."""
    stream = sys.stderr if file is None else file
    text = str(message).strip()
    stream.write(f"keras-electra: warning: {text}\n")


def quiet_libraries():
    """Keep the libraries' notices off stderr for the rest of this process.

    Call before anything imports TensorFlow or Keras (the environment is
    read when TensorFlow starts). A setting the user made in the
    environment (say `TF_CPP_MIN_LOG_LEVEL=0`) stays.
    """
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    _import_tensorflow_quietly()
    # grain (under keras-hub's pipeline) and TensorFlow log to Python's
    # `absl` logger; their warnings are about their own tuning.
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.showwarning = _one_line_warning


@contextlib.contextmanager
def optimizer_not_loaded_is_expected():
    """Loading a trained task preset for use: its saved optimizer state is
    not wanted, so Keras' warning that it was not loaded is left out.
    (Resuming from a checkpoint does not go through here: there, it would
    be a real mismatch.)"""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=OPTIMIZER_NOT_LOADED)
        yield
