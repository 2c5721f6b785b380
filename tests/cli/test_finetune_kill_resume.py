"""`kill -9` at any moment of `keras-electra finetune`, then the same command.

The fine-tuning half of `tests/pretraining/test_kill_resume.py`: the real
command (the installed script, on the current Keras backend) gets a real
SIGKILL several times, at random moments and once inside a checkpoint
write (`AtomicBackupAndRestore`). Each rerun of the same command must resume
right after the last complete checkpoint (never from a half-written one),
and the last one must finish the run: results, classifier, no leftovers.
The kill times come from a seeded generator, so a failure reproduces.
"""

import json
import os
import random
import re
import shutil
import signal
import sys
import time

import pytest

import keras_electra
from tests.conftest import TINY_VOCAB
from tests.line_process import LineProcess

EPOCHS = 6
# "random": at a random moment of the run's second epoch (its first
# checkpoint is written by then); "in_write": as soon as a save starts
# writing. (Each run starts a process: the imports dominate the time.)
KILLS = ["random", "in_write", "random"]
STATE = re.compile(r"^state-(\d+)-\d+$")


def _entry_point():
    script = shutil.which("keras-electra", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-P", "-m", "keras_electra.cli"]


class Run(LineProcess):
    """A `keras-electra finetune` process whose stdout lines arrive in a
    queue."""

    def __init__(self, argv, cwd):
        env = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2")
        super().__init__(_entry_point() + argv, env=env, cwd=cwd)

    def wait_for_a_write(self, directory, timeout=300):
        """Poll `directory` until a new entry appears (a save has started);
        False if the process ended first."""
        before = set(_listing(directory))
        deadline = time.time() + timeout
        while time.time() < deadline and self.process.poll() is None:
            if set(_listing(directory)) - before:
                return True
            time.sleep(0.001)
        return False

    def epochs(self):
        """The epochs this run started (Keras' "Epoch k/N" lines)."""
        return [
            int(m.group(1))
            for m in map(re.compile(r"^Epoch (\d+)/\d+$").match, self.output)
            if m
        ]


def _listing(directory):
    return os.listdir(directory) if os.path.isdir(directory) else []


def _last_complete(directory):
    """The epoch of the newest checkpoint, 0 without one."""
    epochs = [int(m.group(1)) for m in map(STATE.match, _listing(directory)) if m]
    return max(epochs, default=0)


def _inputs(directory):
    """A tiny preset (backbone + tokenizer) and 32-row train/test files."""
    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=len(TINY_VOCAB), num_layers=1, num_heads=2,
        hidden_dim=16, embedding_dim=16, intermediate_dim=32,
        max_sequence_length=16,
    )
    model = os.path.join(directory, "model")
    backbone.save_to_preset(model)
    keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB).save_to_preset(model)
    rng = random.Random(0)
    words = TINY_VOCAB[5:]
    files = []
    for name in ("train", "test"):
        path = os.path.join(directory, f"{name}.tsv")
        with open(path, "w", encoding="utf-8") as f:
            f.write("text\tlabel\n")
            for i in range(32):
                text = " ".join(rng.choice(words) for _ in range(6))
                f.write(f"{text}\t{'ab'[i % 2]}\n")
        files.append(path)
    return model, *files


@pytest.mark.slow
def test_sigkill_at_random_moments_then_the_same_command_resumes(tmp_path):
    rng = random.Random(20240617)
    model, train, test = _inputs(str(tmp_path))
    run_dir = tmp_path / "run"
    checkpoints = str(run_dir / "checkpoints" / "classifier")
    argv = [
        "finetune", "--model", model, "--train", train, "--test", test,
        "--output-dir", str(run_dir), "--epochs", str(EPOCHS),
        "--batch-size", "4", "--sequence-length", "16", "--seed", "0",
    ]  # Not --quiet: the "Epoch k/N" lines show where each run started.

    runs = []  # (the run, the epoch it should resume after)
    killed_in_write = False
    kills = list(KILLS)
    while kills:
        how = kills.pop(0)
        run = Run(argv, str(tmp_path))
        runs.append((run, _last_complete(checkpoints)))
        if how == "in_write":
            reached = run.wait_for_a_write(checkpoints)
        else:
            reached = run.wait_for("Epoch ", count=2)
            time.sleep(rng.uniform(0.0, 0.5))
        code = run.kill()
        assert reached, run.finish()[1][-3000:]
        assert code == -signal.SIGKILL, run.finish()[1][-3000:]
        # A kill inside a write leaves its temporary directory (removed by
        # the next save); the assertion comes last, so that a rerun that
        # chokes on a half-written save fails first.
        landed = any(n.startswith(".tmp-ckpt-") for n in _listing(checkpoints))
        killed_in_write |= landed
        if how == "in_write" and not landed and len(runs) == KILLS.index(how) + 1:
            kills.insert(0, how)  # The poll missed the write: once more.

    final = Run(argv, str(tmp_path))
    runs.append((final, _last_complete(checkpoints)))
    code, output = final.finish()
    assert code == 0, output[-3000:]

    for number, (run, resumed_after) in enumerate(runs):
        started = run.epochs()
        if started:
            # Each run continued right after the last complete checkpoint.
            assert started[0] == resumed_after + 1, (number, started, resumed_after)
            assert started == list(range(started[0], started[0] + len(started)))
    assert 0 < runs[-1][1] < EPOCHS  # The last run resumed, with epochs left.
    assert final.epochs()[-1] == EPOCHS
    assert killed_in_write

    with open(run_dir / "results.json") as f:
        result = json.load(f)["finetuning"]
    assert result["test_examples"] == 32
    assert 0.0 <= result["test_accuracy"] <= 1.0
    assert result["steps"] == EPOCHS * 8
    assert os.path.isfile(os.path.join(result["preset"], "task.json"))
    # No temporary or half-deleted directory left; the newest save is the
    # last epoch's.
    assert [n for n in _listing(checkpoints) if n.startswith(".")] == []
    assert _last_complete(checkpoints) == EPOCHS
