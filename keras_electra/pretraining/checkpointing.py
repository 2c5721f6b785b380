"""Checkpoints that let pre-training resume exactly where it stopped.

`keras.callbacks.BackupAndRestore` saves the weights (with the optimizer)
and the epoch, but not the random seed states, nor the position in a
streamed dataset, and it restarts an interrupted epoch from its first
batch. Resuming pre-training on the same loss curve needs all of them:

- `model.weights.h5`: every weight and the optimizer state (its step
  counter drives the learning-rate schedule), via `model.save_weights`;
- `seeds.npz`: the state of every `keras.random.SeedGenerator` in the model
  (masking, sampling and dropout noise), and on torch the global RNG;
- `data.json`: the position of the `PretrainingData` stream after the last
  trained batch;
- `step.json`: the training step.

A checkpoint is written to a temporary directory and renamed, so an
interruption while saving (even `kill -9`) never leaves a half checkpoint:
the previous one stays whole until the new one is complete, and old ones
are renamed away before they are deleted. The last `keep` checkpoints are
kept; temporary leftovers of a killed run are removed by the next save.
"""

import json
import os
import re
import shutil
import tempfile

import keras
import numpy as np
from keras import ops

from keras_electra.pretraining.data import ReplicaData

WEIGHTS_FILE = "model.weights.h5"
SEEDS_FILE = "seeds.npz"
DATA_FILE = "data.json"
STEP_FILE = "step.json"
_CHECKPOINT_NAME = re.compile(r"^ckpt-(\d+)$")
# Temporary directories: a checkpoint being written, one being deleted.
_TMP_PREFIX = ".tmp-ckpt-"
_TRASH_PREFIX = ".trash-ckpt-"
# Data positions written by every process of a multi-process run, before
# the chief moves them into its checkpoint.
_STAGE_PREFIX = ".replicas-ckpt-"


def seed_state_variables(model):
    """The state variables of every `SeedGenerator` of `model`.

    `model.variables` holds weights and seed states; `model.weights` only
    the weights.
    """
    weight_ids = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weight_ids]


def _torch_rng_states():
    """torch's global RNG states (`{name: uint8 array}`), or `{}`.

    Keras' torch backend draws the dropout masks of layers built without a
    seed (keras-hub's transformer layers) from torch's global generator
    rather than from their `SeedGenerator`, so resuming exactly on torch
    needs that state too. The other backends draw all noise from
    `SeedGenerator`s.
    """
    if keras.backend.backend() != "torch":
        return {}
    import torch

    states = {"torch_cpu": torch.get_rng_state().numpy()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"torch_cuda_{i}"] = state.numpy()
    return states


def _set_torch_rng_states(saved):
    if keras.backend.backend() != "torch" or "torch_cpu" not in saved:
        return
    import torch

    torch.set_rng_state(torch.from_numpy(saved["torch_cpu"]))
    cuda = sorted(k for k in saved if k.startswith("torch_cuda_"))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.from_numpy(saved[k]) for k in cuda])


def checkpoint_step(path):
    """The step of a checkpoint directory (`ckpt-000001000` -> 1000)."""
    match = _CHECKPOINT_NAME.match(os.path.basename(os.path.normpath(path)))
    return int(match.group(1)) if match else None


def latest_checkpoint(directory):
    """The newest complete checkpoint in `directory`, or `None`."""
    if not directory or not os.path.isdir(directory):
        return None
    found = [
        (checkpoint_step(name), os.path.join(directory, name))
        for name in os.listdir(directory)
        if checkpoint_step(name) is not None
        and os.path.exists(os.path.join(directory, name, STEP_FILE))
    ]
    return max(found)[1] if found else None


def save_checkpoint(model, directory, data=None, keep=2, staged=None):
    """Write a checkpoint of `model` (and `data`) at its optimizer's step.

    `staged`: a directory of data positions written by every process of a
    multi-process run (`PretrainingCheckpoint`), moved into the checkpoint
    (instead of `data`'s).

    Returns the checkpoint's path (`directory/ckpt-<step>`).
    """
    step = int(ops.convert_to_numpy(model.optimizer.iterations))
    os.makedirs(directory, exist_ok=True)
    _remove_leftovers(directory, staged)
    target = os.path.join(directory, f"ckpt-{step:09d}")
    tmp = tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=directory)
    try:
        model.save_weights(os.path.join(tmp, WEIGHTS_FILE))
        seeds = seed_state_variables(model)
        np.savez(
            os.path.join(tmp, SEEDS_FILE),
            **{f"{i}": ops.convert_to_numpy(v) for i, v in enumerate(seeds)},
            **_torch_rng_states(),
        )
        if staged is not None:
            for name in os.listdir(staged):
                os.replace(os.path.join(staged, name), os.path.join(tmp, name))
            shutil.rmtree(staged, ignore_errors=True)
        elif isinstance(data, ReplicaData):
            data.write_position(tmp, step)
        elif data is not None:
            with open(os.path.join(tmp, DATA_FILE), "w") as f:
                json.dump(data.state(step), f)
        # Written last: its presence marks a complete checkpoint.
        with open(os.path.join(tmp, STEP_FILE), "w") as f:
            json.dump({"step": step}, f)
        if os.path.exists(target):
            # Renamed away whole (never half deleted in place).
            _discard(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(directory, keep)
    return target


def restore_checkpoint(model, checkpoint, data=None):
    """Restore `model` (and `data`'s position) from a checkpoint.

    Args:
        model: the compiled model, built as when it was saved.
        checkpoint: a checkpoint directory, or a directory of checkpoints
            (the newest is used).
        data: the `PretrainingData` to move to the saved position.

    Returns:
        The restored step, or 0 when there is no checkpoint.
    """
    path = checkpoint
    if checkpoint and checkpoint_step(checkpoint) is None:
        path = latest_checkpoint(checkpoint)
    if not path or not os.path.exists(os.path.join(path, STEP_FILE)):
        return 0
    if model.optimizer is None:
        raise ValueError("Compile the model before restoring a checkpoint.")
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.load_weights(os.path.join(path, WEIGHTS_FILE))
    seeds = seed_state_variables(model)
    with np.load(os.path.join(path, SEEDS_FILE)) as saved:
        saved = {name: saved[name] for name in saved.files}
    count = sum(name.isdigit() for name in saved)
    if count != len(seeds):
        raise ValueError(
            f"The checkpoint {path} holds {count} random seed states but the "
            f"model has {len(seeds)}: it was saved from a different model."
        )
    for i, variable in enumerate(seeds):
        variable.assign(saved[f"{i}"])
    _set_torch_rng_states(saved)
    if isinstance(data, ReplicaData):
        data.read_position(path)
    elif data is not None:
        data_path = os.path.join(path, DATA_FILE)
        if not os.path.exists(data_path):
            raise ValueError(
                f"The checkpoint {path} has no data position ({DATA_FILE}); "
                "it was saved without `data`."
            )
        with open(data_path) as f:
            data.restore(json.load(f))
    with open(os.path.join(path, STEP_FILE)) as f:
        return json.load(f)["step"]


def _discard(path):
    """Delete a directory: renamed first, so a kill mid-way leaves no
    half-deleted checkpoint under a checkpoint's name."""
    trash = tempfile.mkdtemp(prefix=_TRASH_PREFIX, dir=os.path.dirname(path))
    os.replace(path, os.path.join(trash, "old"))
    shutil.rmtree(trash, ignore_errors=True)


def _remove_leftovers(directory, staged=None):
    """Remove the temporary directories of a save that was killed (but not
    `staged`, the one being saved)."""
    keep = os.path.basename(os.path.normpath(staged)) if staged else None
    for name in os.listdir(directory):
        if name == keep:
            continue
        if name.startswith((_TMP_PREFIX, _TRASH_PREFIX, _STAGE_PREFIX)):
            shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def _prune(directory, keep):
    found = sorted(
        (checkpoint_step(name), name)
        for name in os.listdir(directory)
        if checkpoint_step(name) is not None
    )
    for _, name in found[:-keep] if keep else []:
        _discard(os.path.join(directory, name))


class PretrainingCheckpoint(keras.callbacks.Callback):
    """Saves resumable checkpoints every `save_every` steps during `fit`.

    Saves at the end of an epoch whose last step is a multiple of
    `save_every` (so use a `steps_per_epoch` that divides it), and at the
    end of training. `keras_electra.pretraining.train` sets this up and
    restores from it.

    Args:
        directory: where to write `ckpt-<step>` directories.
        save_every: int. Checkpoint interval in steps.
        data: the `PretrainingData` (or `ReplicaData`) being trained on
            (its position is saved), or `None`.
        keep: int. How many checkpoints to keep.
        cluster: the `Cluster` of a data-parallel run, or `None`. Every
            process writes its replicas' data positions; then (after a
            barrier) only the chief writes the checkpoint, into which it
            moves them. `directory` must be on a file system that every
            process sees (NFS, GCS).
    """

    def __init__(self, directory, save_every, data=None, keep=2,
                 cluster=None):
        super().__init__()
        self.directory = directory
        self.save_every = save_every
        self.data = data
        self.keep = keep
        self.cluster = cluster
        self.last_saved_step = None
        self._rng_at_start = None

    def _step(self):
        return int(ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_begin(self, logs=None):
        self._rng_at_start = _torch_rng_states()

    def on_train_batch_begin(self, batch, logs=None):
        # On torch, Keras feeds `fit` through a torch `DataLoader`, which
        # draws a seed from torch's global RNG when it starts iterating,
        # after `on_train_begin`. Put the state back, so that a resumed run
        # continues the RNG stream where the checkpoint left it.
        if self._rng_at_start:
            _set_torch_rng_states(self._rng_at_start)
        self._rng_at_start = None

    def on_epoch_end(self, epoch, logs=None):
        if self._step() % self.save_every == 0:
            self._save()

    def on_train_end(self, logs=None):
        if self.last_saved_step != self._step():
            self._save()

    def _save(self):
        step = self._step()
        cluster = self.cluster
        if cluster is None or cluster.num_processes == 1:
            save_checkpoint(self.model, self.directory, self.data, self.keep)
        else:
            staged = os.path.join(self.directory, f"{_STAGE_PREFIX}{step:09d}")
            if self.data is not None:
                self.data.write_position(staged, step)
            else:
                os.makedirs(staged, exist_ok=True)
            cluster.barrier(f"keras_electra_checkpoint_{step}")
            with cluster.chief_directory(self.directory) as directory:
                save_checkpoint(
                    self.model,
                    directory,
                    keep=self.keep,
                    staged=staged if cluster.is_chief else None,
                )
        self.last_saved_step = step


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` whose saves survive `kill -9`.

    Keras' callback overwrites `latest.weights.h5` and then
    `training_metadata.json` in place: a process killed while saving
    leaves a truncated weights file (the rerun fails to load it) or the
    weights of one epoch with the epoch count of another. This one writes
    each save to a temporary directory and renames it to
    `state-<epoch>-<batch>`; a rerun resumes from the newest such
    directory, and the previous one is kept until the new one is complete.
    (`double_checkpoint` is not needed.) A directory written by Keras'
    callback is still resumed from.

    Args: as `keras.callbacks.BackupAndRestore`.
    """

    WEIGHTS = "latest.weights.h5"
    METADATA = "training_metadata.json"
    KEEP = 2

    def _states(self):
        if not os.path.isdir(self.backup_dir):
            return []
        return sorted(
            name
            for name in os.listdir(self.backup_dir)
            if re.match(r"^state-\d+-\d+$", name)
        )

    def _load_model(self):
        states = self._states()
        if not states:
            return super()._load_model()  # Nothing saved, or Keras' layout.
        if not self.model.built:
            return super()._load_model()  # Raises Keras' error.
        path = os.path.join(self.backup_dir, states[-1])
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(os.path.join(path, self.WEIGHTS))
        with open(os.path.join(path, self.METADATA)) as f:
            self.model._initial_epoch = json.load(f)["epoch"]

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        _remove_leftovers(self.backup_dir)
        name = f"state-{self._current_epoch:06d}-{self._last_batch_seen:09d}"
        target = os.path.join(self.backup_dir, name)
        tmp = tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self.backup_dir)
        try:
            self.model.save_weights(os.path.join(tmp, self.WEIGHTS))
            with open(os.path.join(tmp, self.METADATA), "w") as f:
                json.dump(
                    {"epoch": self._current_epoch, "batch": self._last_batch_seen},
                    f,
                )
            if os.path.exists(target):
                _discard(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for old in self._states()[: -self.KEEP]:
            _discard(os.path.join(self.backup_dir, old))
