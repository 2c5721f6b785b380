"""`keras-electra` starts without Keras: `--help` imports neither Keras,
TensorFlow nor keras-hub (no TensorFlow log lines), and `--backend` switches
the backend in-process, from any working directory, including one that
holds a clone's `keras_electra/` folder (issue 19)."""

import os
import shutil
import subprocess
import sys

import keras

from keras_electra.cli import app

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ("keras", "keras_hub", "tensorflow", "torch", "jax")
# What TensorFlow writes to stderr when it starts.
TF_LOG_MARKERS = ("absl::InitializeLog", "oneDNN", "cudart_stub", "tensorflow/")

# Run as the console script is: its name in argv[0] is what keeps
# `import keras_electra` from loading Keras there (keras_electra/__init__.py).
_PROBE = """
import sys
sys.argv[0] = "/somewhere/bin/keras-electra"
from keras_electra.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(
    m for m in sys.modules
    if m.split(".")[0] in {heavy!r} or m.startswith("keras_electra.models")
)
print("LOADED:", ",".join(loaded))
"""


def _entry_point():
    """The installed `keras-electra` script, else its equivalent."""
    script = shutil.which("keras-electra", path=os.path.dirname(sys.executable))
    if script:
        return [script]
    code = (
        f"import sys; sys.path[0] = {REPO!r}; sys.argv[0] = 'keras-electra'; "
        "from keras_electra.cli import main; sys.exit(main())"
    )
    return [sys.executable, "-c", code]


def _other_backend():
    return next(b for b in app.BACKENDS if b != keras.config.backend())


def _clone_folder(tmp_path):
    """A working directory holding a `keras_electra/` folder without
    `__init__.py`, as `git clone` leaves beside the repository's users."""
    (tmp_path / "keras_electra" / "keras_electra").mkdir(parents=True)
    (tmp_path / "keras_electra" / "pyproject.toml").write_text("")
    return tmp_path


def test_help_imports_neither_keras_nor_keras_hub():
    for argv in (["--help"], ["finetune", "--help"], ["convert", "--help"]):
        process = subprocess.run(
            [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *argv],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert process.returncode == 0, process.stderr
        assert "usage: keras-electra" in process.stdout
        loaded = process.stdout.rsplit("LOADED:", 1)[1].strip()
        assert loaded == "", f"{argv}: {loaded}"
        for marker in TF_LOG_MARKERS:
            assert marker not in process.stderr, (argv, process.stderr)


def test_backend_option_switches_in_process_from_a_clone_folder(tmp_path):
    cwd = _clone_folder(tmp_path)
    other = _other_backend()
    env = dict(os.environ, KERAS_BACKEND=keras.config.backend())
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    process = subprocess.run(
        [*_entry_point(), "info", "--backend", other],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert f"backend: {other}" in process.stdout
    assert "keras-electra 0." in process.stdout


def test_rerun_under_another_backend_ignores_the_working_directory(
    tmp_path, monkeypatch, capfd
):
    # Keras is imported here, so `main` would rerun the command in a child
    # process; that child must import this keras_electra, not the clone
    # folder (`python -m` put the working directory first on sys.path).
    monkeypatch.chdir(_clone_folder(tmp_path))
    env = dict(os.environ, KERAS_BACKEND=_other_backend())
    assert app._start_again(env, ["--version"]) == 0
    out, err = capfd.readouterr()
    assert out.startswith("keras-electra 0."), err


def test_info_reports_the_running_backend(capsys):
    assert app.main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"backend: {keras.config.backend()}" in out
    assert f"keras: {keras.__version__}" in out


def test_import_registers_every_class_for_keras_loading(tmp_path):
    """Outside the command, `import keras_electra` is enough for
    `keras.saving.load_model` to find our classes (they register on import)."""
    path = str(tmp_path / "classifier.keras")
    save = f"""
import numpy as np
import keras_electra
backbone = keras_electra.ElectraBackbone(
    vocabulary_size=30, num_layers=1, num_heads=2, hidden_dim=8,
    embedding_dim=8, intermediate_dim=16, max_sequence_length=16)
model = keras_electra.ElectraClassifier(
    backbone, num_classes=2, preprocessor=None, label_names=["a", "b"])
x = dict(token_ids=np.ones((1, 8), "int32"),
         segment_ids=np.zeros((1, 8), "int32"),
         padding_mask=np.ones((1, 8), "int32"))
np.save({path!r} + ".npy", model.predict(x, verbose=0))
model.save({path!r})
"""
    load = f"""
import numpy as np
import keras_electra, keras
model = keras.saving.load_model({path!r})
assert type(model).__name__ == "ElectraClassifier", type(model)
assert model.label_names == ["a", "b"], model.label_names
x = dict(token_ids=np.ones((1, 8), "int32"),
         segment_ids=np.zeros((1, 8), "int32"),
         padding_mask=np.ones((1, 8), "int32"))
np.testing.assert_allclose(model.predict(x, verbose=0), np.load({path!r} + ".npy"),
                           atol=1e-6)
print("LOADED OK")
"""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    for code in (save, load):
        process = subprocess.run(
            [sys.executable, "-P", "-c", code], cwd=tmp_path, env=env,
            capture_output=True, text=True, timeout=300,
        )
        assert process.returncode == 0, process.stderr[-3000:]
    assert "LOADED OK" in process.stdout


def test_command_restarts_itself_with_huge_pages_for_malloc():
    """The console script starts itself again with glibc's huge-page
    tunable where the machine supports it (`utils/hugepages.py`), keeps
    other tunables, and leaves it off when asked to."""
    from keras_electra.utils import hugepages

    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop(hugepages.OPT_OUT, None)
    reason = hugepages.unavailable_reason(env)

    def info(**extra):
        process = subprocess.run(
            [*_entry_point(), "info"],
            env=dict(env, **extra),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert process.returncode == 0, process.stderr[-3000:]
        return process.stdout

    if reason is None:
        assert "malloc huge pages: on (glibc.malloc.hugetlb=1)" in info()
        # An unrelated tunable already set stays, and the command adds its own.
        out = info(GLIBC_TUNABLES="glibc.malloc.check=0")
        assert "malloc huge pages: on" in out
    else:
        assert f"malloc huge pages: off ({reason})" in info()
    out = info(**{hugepages.OPT_OUT: "0"})
    assert f"malloc huge pages: off ({hugepages.OPT_OUT}=0)" in out
