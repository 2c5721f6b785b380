"""A short, deterministic pre-training run for the resume test.

`python -m tests.pretraining.resume_worker CHECKPOINT_DIR LOSSES_FILE
[--crash-after STEP] [--total-steps N] [--save-every N] [--announce]`
trains (or resumes from CHECKPOINT_DIR) and appends each step's loss to
LOSSES_FILE as JSON lines; with `--crash-after` the process dies
(`os._exit`) right after that step, like a preempted job. With
`--announce` it prints `step N` after each step and `saving` when a
checkpoint write starts, and pauses inside each checkpoint write (weights
written, the rest not yet), so that a test can `kill -9` it there.
"""

import argparse
import json
import os
import sys
import time

import keras

TOTAL_STEPS = 8
SAVE_EVERY = 3


class RecordLosses(keras.callbacks.Callback):
    """Appends `{"step", "loss"}` per step (epochs are one step long)."""

    def __init__(self, path, announce=False):
        super().__init__()
        self.path = path
        self.announce = announce

    def on_epoch_end(self, epoch, logs=None):
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": epoch + 1, "loss": logs["loss"]}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if self.announce:
            print(f"step {epoch + 1}", flush=True)


def _announce_checkpoint_writes(model, pause=0.25):
    """`saving` on stdout when a checkpoint write starts; a pause inside it."""
    save_weights = model.save_weights

    def announced(*args, **kwargs):
        sys.stdout.write("saving\n")
        sys.stdout.flush()
        save_weights(*args, **kwargs)
        time.sleep(pause)

    object.__setattr__(model, "save_weights", announced)


class Crash(keras.callbacks.Callback):
    def __init__(self, after_step):
        super().__init__()
        self.after_step = after_step

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after_step:
            os._exit(17)


def run(
    checkpoint_dir,
    losses_file,
    crash_after=None,
    total_steps=TOTAL_STEPS,
    save_every=SAVE_EVERY,
    announce=False,
):
    from keras_electra import ElectraTokenizer
    from keras_electra.pretraining import PretrainingData
    from keras_electra.pretraining import train
    from tests.conftest import VOCAB_PATH
    from tests.pretraining.helpers import CORPUS
    from tests.pretraining.helpers import tiny_pretrainer

    keras.utils.set_random_seed(0)
    tokenizer = ElectraTokenizer(vocabulary=VOCAB_PATH)
    pretrainer = tiny_pretrainer(seed=0, tokenizer=tokenizer)
    pretrainer.compile(
        learning_rate=1e-3, num_train_steps=total_steps, warmup_steps=2
    )
    if announce:
        _announce_checkpoint_writes(pretrainer)
    data = PretrainingData(
        os.path.join(CORPUS, "gutenberg"),
        tokenizer,
        sequence_length=32,
        batch_size=4,
        seed=0,
        shuffle_buffer_size=20,
    )
    callbacks = [RecordLosses(losses_file, announce)]
    if crash_after is not None:
        callbacks.append(Crash(crash_after))
    train(
        pretrainer,
        data,
        num_train_steps=total_steps,
        checkpoint_dir=checkpoint_dir,
        save_every=save_every,
        steps_per_epoch=1,
        callbacks=callbacks,
        verbose=0,
    )


def read_losses(path):
    with open(path) as f:
        return {r["step"]: r["loss"] for r in map(json.loads, f)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint_dir")
    parser.add_argument("losses_file")
    parser.add_argument("--crash-after", type=int)
    parser.add_argument("--total-steps", type=int, default=TOTAL_STEPS)
    parser.add_argument("--save-every", type=int, default=SAVE_EVERY)
    parser.add_argument("--announce", action="store_true")
    args = parser.parse_args()
    run(
        args.checkpoint_dir,
        args.losses_file,
        args.crash_after,
        args.total_steps,
        args.save_every,
        args.announce,
    )
