"""`kill -9` at any moment of checkpointed pre-training, then resume.

A worker process (`resume_worker.py`, checkpoints after every step) gets a
real SIGKILL several times: at random moments, and once inside a
checkpoint write. Each rerun must resume from the last complete
checkpoint (never a half-written one) and stay on the loss curve of an
uninterrupted run, and the last one must finish with the same weights.
The kill times come from a seeded generator, so a failure reproduces.
"""

import os
import random
import signal
import sys
import time

import h5py
import numpy as np
import pytest

from keras_electra.pretraining import latest_checkpoint
from keras_electra.pretraining.checkpointing import WEIGHTS_FILE
from keras_electra.pretraining.checkpointing import checkpoint_step
from tests.line_process import LineProcess
from tests.pretraining import resume_worker

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.abspath(resume_worker.__file__)
TOTAL_STEPS = 16
# Kill at a random moment after the run's first trained step, or inside the
# second checkpoint write the run starts. (Each run starts a process: the
# imports dominate the test's time.)
KILLS = ["random", "in_write", "random"]


class Worker(LineProcess):
    """A `resume_worker` process whose stdout lines arrive in a queue."""

    def __init__(self, checkpoint_dir, losses_file):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [REPO] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        super().__init__(
            [sys.executable, "-P", WORKER, str(checkpoint_dir), str(losses_file),
             "--total-steps", str(TOTAL_STEPS), "--save-every", "1",
             "--announce"],
            env=env,
        )

    def finish(self, tail=3000):
        return super().finish(tail)


def _weights(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: arrays.__setitem__(name, obj[()])
            if isinstance(obj, h5py.Dataset)
            else None
        )
    return arrays


def _leftovers(directory):
    return [n for n in os.listdir(directory) if n.startswith(".")]


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume(tmp_path):
    rng = random.Random(20240616)
    directory = tmp_path / "checkpoints"
    runs = []  # (losses file, the checkpoint step it should resume from)
    killed_in_write = False
    for number, how in enumerate(KILLS):
        start = latest_checkpoint(str(directory))
        losses = tmp_path / f"losses-{number}.jsonl"
        runs.append((losses, checkpoint_step(start) if start else 0))
        worker = Worker(directory, losses)
        if how == "in_write":
            reached = worker.wait_for("saving", count=2)
            time.sleep(rng.uniform(0.0, 0.15))  # the write pauses 0.25 s
        else:
            reached = worker.wait_for("step")
            time.sleep(rng.uniform(0.0, 1.0))
        code = worker.kill()
        assert reached, worker.finish()[1]
        assert code == -signal.SIGKILL, worker.finish()[1]
        if how == "in_write":
            # The kill landed inside the write: its temporary directory is
            # still there, and it is not taken for a checkpoint.
            assert any(n.startswith(".tmp-ckpt-") for n in _leftovers(directory))
            killed_in_write = True
    assert killed_in_write

    start = latest_checkpoint(str(directory))
    final_losses = tmp_path / "losses-final.jsonl"
    runs.append((final_losses, checkpoint_step(start) if start else 0))
    finishing = Worker(directory, final_losses)
    # Meanwhile, the same run without interruption, in this process.
    reference_dir = tmp_path / "reference"
    reference_losses = tmp_path / "reference.jsonl"
    resume_worker.run(
        str(reference_dir), str(reference_losses), total_steps=TOTAL_STEPS,
        save_every=1,
    )
    code, output = finishing.finish()
    assert code == 0, output

    reference = resume_worker.read_losses(reference_losses)
    assert sorted(reference) == list(range(1, TOTAL_STEPS + 1))
    for losses, resumed_from in runs:
        recorded = resume_worker.read_losses(losses) if losses.exists() else {}
        if recorded:
            # Each run continued right after the last complete checkpoint.
            assert min(recorded) == resumed_from + 1, (losses.name, recorded)
        for step, loss in recorded.items():
            np.testing.assert_allclose(
                loss, reference[step], rtol=1e-5, err_msg=f"{losses.name} {step}"
            )
    assert runs[-1][1] < TOTAL_STEPS  # The last run had steps left to train.
    assert sorted(resume_worker.read_losses(final_losses))[-1] == TOTAL_STEPS

    # The same final weights (and optimizer state) as without kills, and no
    # temporary directory left behind.
    final = latest_checkpoint(str(directory))
    assert checkpoint_step(final) == TOTAL_STEPS
    assert _leftovers(directory) == []
    got = _weights(os.path.join(final, WEIGHTS_FILE))
    want = _weights(
        os.path.join(reference_dir, f"ckpt-{TOTAL_STEPS:09d}", WEIGHTS_FILE)
    )
    assert sorted(got) == sorted(want)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-7)


def test_fine_tuning_backups_skip_a_half_written_save(tmp_path):
    """`keras-electra finetune`'s checkpoints (`AtomicBackupAndRestore`): a
    save cut off by a kill (a temporary directory with a truncated weights
    file, as `kill -9` leaves it) is never loaded; the rerun resumes from
    the last complete save and removes the leftover."""
    import keras

    from keras_electra.pretraining.checkpointing import AtomicBackupAndRestore

    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = (x.sum(-1) > 0).astype("float32")

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        return m

    backup = tmp_path / "backup"

    def fit(m, epochs):
        callback = AtomicBackupAndRestore(str(backup), delete_checkpoint=False)
        return m.fit(x, y, epochs=epochs, batch_size=8, callbacks=[callback], verbose=0)

    first = model()
    fit(first, 3)
    states = sorted(n for n in os.listdir(backup) if n.startswith("state-"))
    assert states == ["state-000002-000000000", "state-000003-000000000"]
    # A kill inside the 4th save: its temporary directory, half written.
    half = backup / ".tmp-ckpt-killed"
    half.mkdir()
    weights = (backup / states[-1] / "latest.weights.h5").read_bytes()
    (half / "latest.weights.h5").write_bytes(weights[: len(weights) // 3])

    second = model()
    history = fit(second, 5)
    assert history.epoch == [3, 4]  # Resumed after epoch 3.
    assert _leftovers(backup) == []
    assert sorted(n for n in os.listdir(backup)) == [
        "state-000004-000000000",
        "state-000005-000000000",
    ]
