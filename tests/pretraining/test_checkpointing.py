import os
import subprocess
import sys

import numpy as np

from keras_electra.pretraining import latest_checkpoint
from tests.pretraining import resume_worker

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _worker(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.pretraining.resume_worker", *map(str, args)],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(process, expected_code):
    output, _ = process.communicate(timeout=900)
    assert process.returncode == expected_code, output[-3000:]


def test_killed_training_resumes_on_the_same_loss_curve(tmp_path):
    interrupted_dir = tmp_path / "interrupted"
    losses_before = tmp_path / "before.jsonl"
    losses_after = tmp_path / "after.jsonl"
    # Killed after step 5; its last checkpoint is at step 3.
    crashing = _worker(interrupted_dir, losses_before, "--crash-after", 5)
    # Meanwhile, the same run without interruption, in this process.
    reference_dir = tmp_path / "reference"
    reference_losses = tmp_path / "reference.jsonl"
    resume_worker.run(str(reference_dir), str(reference_losses))
    _wait(crashing, 17)
    assert os.path.basename(latest_checkpoint(str(interrupted_dir))) == (
        "ckpt-000000003"
    )
    _wait(_worker(interrupted_dir, losses_after), 0)

    reference = resume_worker.read_losses(reference_losses)
    before = resume_worker.read_losses(losses_before)
    after = resume_worker.read_losses(losses_after)
    assert sorted(reference) == list(range(1, 9))
    assert sorted(before) == [1, 2, 3, 4, 5]
    assert sorted(after) == [4, 5, 6, 7, 8]  # Resumed from step 3.
    print("reference", reference, "\nbefore", before, "\nafter", after)
    for step, loss in before.items():
        np.testing.assert_allclose(loss, reference[step], rtol=1e-5)
    for step, loss in after.items():
        np.testing.assert_allclose(loss, reference[step], rtol=1e-5)
    # The curve moves, so equal values are not a coincidence.
    assert len({round(v, 4) for v in reference.values()}) == 8

    # Two checkpoints are kept; incomplete ones are never used.
    assert sorted(os.listdir(reference_dir)) == [
        "ckpt-000000006",
        "ckpt-000000008",
    ]
    os.makedirs(reference_dir / "ckpt-000000009")
    assert latest_checkpoint(str(reference_dir)).endswith("ckpt-000000008")
