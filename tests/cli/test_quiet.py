"""A quiet command line and install (issue 31, item 5).

Without `--verbose`, `keras-electra` prints no start-up notices of the
libraries under it (TensorFlow's C++ log, absl/grain, Python warnings with
their source lines); a real error still reaches the user; and building
the package prints no setuptools warning."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.cli.test_finetune_kill_resume import _entry_point
from tests.cli.test_finetune_kill_resume import _inputs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOISE = ("CUDA", "cuda", "absl", "UserWarning", "oneDNN", "tensorflow/")


def _run(argv, cwd):
    """The console script, in an environment without the test run's own
    log settings (a user's shell has none)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    import keras

    env["KERAS_BACKEND"] = keras.config.backend()
    return subprocess.run(
        _entry_point() + argv, cwd=cwd, env=env, capture_output=True,
        text=True, timeout=600,
    )


def _noise(stderr):
    return [
        line for line in stderr.splitlines()
        if any(marker in line for marker in NOISE)
    ]


@pytest.mark.slow
def test_help_and_a_short_finetune_print_no_library_notices(tmp_path):
    process = _run(["quickstart", "--help"], tmp_path)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    model, train, test = _inputs(str(tmp_path))
    process = _run(
        ["finetune", "--model", model, "--train", train, "--test", test,
         "--output-dir", str(tmp_path / "run"), "--epochs", "1",
         "--batch-size", "4", "--sequence-length", "16", "--quiet"],
        tmp_path,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert "test accuracy" in process.stdout
    assert _noise(process.stderr) == [], process.stderr
    # What is left is the command's own one-line warnings (here: the tiny
    # model's 16 positions shorten the default sequence length).
    for line in process.stderr.splitlines():
        assert line.startswith("keras-electra: warning: "), process.stderr


def test_python_m_is_the_command_and_as_quiet(tmp_path):
    """`python -m keras_electra.cli` starts as the console script does: the
    package does not load Keras (and TensorFlow's start-up notices) before
    the command has read its options."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join(
        [REPO] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    process = subprocess.run(
        [sys.executable, "-m", "keras_electra.cli", "quickstart", "--help"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert process.returncode == 0, process.stderr
    assert "quickstart" in process.stdout
    assert process.stderr == ""


@pytest.mark.slow
def test_a_real_error_still_reaches_the_user(tmp_path):
    model, train, test = _inputs(str(tmp_path))
    broken = tmp_path / "broken_model"
    broken.mkdir()
    process = _run(
        ["finetune", "--model", str(broken), "--train", train, "--test", test,
         "--output-dir", str(tmp_path / "run"), "--quiet"],
        tmp_path,
    )
    assert process.returncode == 1, process.stderr[-3000:]
    assert "keras-electra finetune: error: " in process.stderr
    assert "broken_model" in process.stderr
    assert _noise(process.stderr) == [], process.stderr


def test_building_the_package_prints_no_setuptools_warning(tmp_path):
    """`pip wheel` of the project as a fresh clone has it: the package
    data is declared, so setuptools has nothing to warn about; and every
    bundled file is in the wheel."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(os.path.join(REPO, name), source / name)
    shutil.copytree(
        os.path.join(REPO, "keras_electra"), source / "keras_electra",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps",
         "--no-build-isolation", "-v", str(source), "-w", str(tmp_path / "w")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    log = process.stdout + process.stderr
    assert process.returncode == 0, log[-3000:]
    warnings = [line for line in log.splitlines() if "warning" in line.lower()]
    assert warnings == [], "\n".join(warnings)
    import zipfile

    (wheel,) = (tmp_path / "w").glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("data", "presets/bundled"):
        root = os.path.join(REPO, "keras_electra", folder)
        for directory, _, files in os.walk(root):
            for name in files:
                if name.endswith((".py", ".pyc")):
                    continue
                path = os.path.relpath(os.path.join(directory, name), REPO)
                assert path.replace(os.sep, "/") in packed, path
