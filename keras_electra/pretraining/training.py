"""`train`: resumable ELECTRA pre-training with `fit()`."""

import contextlib

from keras_electra.pretraining.checkpointing import PretrainingCheckpoint
from keras_electra.pretraining.checkpointing import restore_checkpoint


def train(
    pretrainer,
    data,
    num_train_steps,
    checkpoint_dir=None,
    save_every=1000,
    steps_per_epoch=None,
    callbacks=None,
    keep=2,
    verbose="auto",
    cluster=None,
):
    """Pre-train for `num_train_steps`, resuming from `checkpoint_dir`.

    If `checkpoint_dir` holds a checkpoint, training continues from it:
    weights, optimizer state (and so the learning-rate schedule), random
    seed states and the position in `data` are restored, so the run
    follows the loss curve it would have followed without interruption.
    Checkpoints are written every `save_every` steps.

    An "epoch" here is `steps_per_epoch` steps (default `save_every`),
    the unit in which `fit` logs metrics; it must divide `save_every` and
    `num_train_steps`.

    Args:
        pretrainer: a compiled `keras_electra.ElectraPretrainer` (compile
            it with the same `num_train_steps` for Google's schedule).
        data: a `keras_electra.pretraining.PretrainingData`.
        num_train_steps: int. Total training steps.
        checkpoint_dir: directory of checkpoints, or `None` (no resuming).
        save_every: int. Checkpoint interval in steps.
        steps_per_epoch: int. Logging interval in steps.
        callbacks: more Keras callbacks.
        keep: int. Checkpoints to keep.
        verbose: passed to `fit`.
        cluster: the `keras_electra.pretraining.Cluster` of a data-parallel
            run (from `data_parallel`), with `data` a `ReplicaData`, or
            `None`. Only its chief writes checkpoints (`checkpoint_dir` must
            be a file system every process sees). When another process is
            lost, this one stops with a `RuntimeError` naming it.

    Returns:
        The `History` of this (possibly resumed) run, or `None` if the
        checkpoint is already at `num_train_steps`.

    Example:
    ```python
    pretrainer.compile(learning_rate=5e-4, num_train_steps=1_000_000)
    keras_electra.pretraining.train(
        pretrainer, data, num_train_steps=1_000_000,
        checkpoint_dir="gs://bucket/electra_small", save_every=1000,
    )
    ```
    """
    steps_per_epoch = steps_per_epoch or save_every
    if save_every % steps_per_epoch or num_train_steps % steps_per_epoch:
        raise ValueError(
            f"`steps_per_epoch` ({steps_per_epoch}) must divide `save_every` "
            f"({save_every}) and `num_train_steps` ({num_train_steps})."
        )
    step = 0
    callbacks = list(callbacks or [])
    if checkpoint_dir is not None:
        with cluster.scope() if cluster else contextlib.nullcontext():
            step = restore_checkpoint(pretrainer, checkpoint_dir, data)
        callbacks.insert(
            0,
            PretrainingCheckpoint(
                checkpoint_dir, save_every, data, keep, cluster=cluster
            ),
        )
    if step >= num_train_steps:
        return None
    if step % steps_per_epoch:
        raise ValueError(
            f"The checkpoint is at step {step}, which is not a multiple of "
            f"`steps_per_epoch` ({steps_per_epoch})."
        )
    fitting = cluster.fitting(pretrainer) if cluster else contextlib.nullcontext()
    try:
        with fitting:
            return pretrainer.fit(
                data.dataset(),
                steps_per_epoch=steps_per_epoch,
                epochs=num_train_steps // steps_per_epoch,
                initial_epoch=step // steps_per_epoch,
                shuffle=False,  # `data.dataset()` is shuffled (its buffer)
                callbacks=callbacks,
                verbose=verbose,
            )
    except Exception as e:
        if cluster is None or not cluster.is_lost_peer_error(e):
            raise
        raise cluster.lost_worker_error(e) from e
