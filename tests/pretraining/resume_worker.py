"""A short, deterministic pre-training run for the resume test.

`python -m tests.pretraining.resume_worker CHECKPOINT_DIR LOSSES_FILE
[--crash-after STEP]` trains (or resumes from CHECKPOINT_DIR) and appends
each step's loss to LOSSES_FILE as JSON lines; with `--crash-after` the
process dies (`os._exit`) right after that step, like a preempted job.
"""

import argparse
import json
import os

import keras

TOTAL_STEPS = 8
SAVE_EVERY = 3


class RecordLosses(keras.callbacks.Callback):
    """Appends `{"step", "loss"}` per step (epochs are one step long)."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        with open(self.path, "a") as f:
            f.write(json.dumps({"step": epoch + 1, "loss": logs["loss"]}) + "\n")
            f.flush()
            os.fsync(f.fileno())


class Crash(keras.callbacks.Callback):
    def __init__(self, after_step):
        super().__init__()
        self.after_step = after_step

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after_step:
            os._exit(17)


def run(checkpoint_dir, losses_file, crash_after=None):
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
        learning_rate=1e-3, num_train_steps=TOTAL_STEPS, warmup_steps=2
    )
    data = PretrainingData(
        os.path.join(CORPUS, "gutenberg"),
        tokenizer,
        sequence_length=32,
        batch_size=4,
        seed=0,
        shuffle_buffer_size=20,
    )
    callbacks = [RecordLosses(losses_file)]
    if crash_after is not None:
        callbacks.append(Crash(crash_after))
    train(
        pretrainer,
        data,
        num_train_steps=TOTAL_STEPS,
        checkpoint_dir=checkpoint_dir,
        save_every=SAVE_EVERY,
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
    args = parser.parse_args()
    run(args.checkpoint_dir, args.losses_file, args.crash_after)
