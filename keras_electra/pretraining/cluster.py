"""Data parallelism over devices and processes, on the backends' engines.

`data_parallel(workers=..., process_id=..., devices=...)` sets up the
run before any model is built and returns a `Cluster`: which replicas
(devices) this process trains, how to build and fit under them, and a
barrier. The engines are the backends' own:

- JAX: `jax.distributed.initialize` (the chief's address is the
  coordinator; CPU collectives through gloo) and Keras' seed agreement, as
  `keras.distribution.initialize` does, then
  `keras.distribution.DataParallel` over every process's devices;
- TensorFlow: `tf.distribute.MultiWorkerMirroredStrategy` from `TF_CONFIG`
  (one replica per worker process), or `MirroredStrategy` over the devices
  of one process;
- PyTorch: not supported (see `_torch_error`).

Replica `r` of `R` always gets the same examples and the same noise,
whatever the processes: `ReplicaData` streams shard `r` of `R` of the
files, and the global batch is the replicas' batches in replica order.
"""

import contextlib
import json
import math
import os
import shutil
import socket
import tempfile

import keras

from keras_electra.utils.worker_addresses import PEER_TIMEOUT_SECONDS
from keras_electra.utils.worker_addresses import parse_workers

BACKENDS_WITH_PROCESSES = ("jax", "tensorflow")


def _torch_error():
    return ValueError(
        "Data parallelism over devices or processes (`workers`, "
        "`devices`) runs on the backends "
        f"{', '.join(BACKENDS_WITH_PROCESSES)}, not on torch: Keras' torch "
        "trainer has no distribution support. It would take "
        "`torch.distributed.init_process_group` from the worker list, the "
        "model wrapped in `DistributedDataParallel` inside Keras' "
        "`train_step` (which calls the layers, not a wrapper), and a "
        "`DistributedSampler`-like split of the stream by replica."
    )


class Cluster:
    """The replicas of a data-parallel run, as seen from one process.

    Attributes:
        workers: the worker addresses (`[]` for one process).
        process_id: this process (0 is the chief).
        num_processes: int.
        num_replicas: int. Replicas (devices) over all processes.
        local_replicas: the replica indices this process trains.
        strategy: the `tf.distribute` strategy (TensorFlow), or `None`.
    """

    def __init__(self, workers, process_id, local_replicas, num_replicas,
                 strategy=None):
        self.workers = list(workers)
        self.process_id = process_id
        self.num_processes = max(len(self.workers), 1)
        self.local_replicas = list(local_replicas)
        self.num_replicas = num_replicas
        self.strategy = strategy

    @property
    def is_chief(self):
        return self.process_id == 0

    def scope(self):
        """Build and compile the model under this (TF strategy scope)."""
        if self.strategy is None:
            return contextlib.nullcontext()
        return self.strategy.scope()

    def barrier(self, name):
        """Wait until every process reaches this point (a collective)."""
        if self.num_processes == 1:
            return
        if keras.backend.backend() == "jax":
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices(name)
            return
        import tensorflow as tf

        strategy = self.strategy
        strategy.reduce(
            tf.distribute.ReduceOp.SUM,
            strategy.run(lambda: tf.constant(1.0)),
            axis=None,
        )

    @contextlib.contextmanager
    def fitting(self, model):
        """The context of `model.fit` under this cluster.

        Keras 3.15's TensorFlow `fit` does not run under a multi-worker
        `MultiWorkerMirroredStrategy` as it is (tensorflow/tensorflow#72388),
        for two reasons this works around, for the fit only:

        - it first builds the model on one batch averaged over replicas
          with `strategy.reduce`, which fails on a dict of inputs. A model
          without a strategy of its own skips that build and takes the
          strategy of the scope it is fitted in, so the model's strategy
          (Keras' private `_distribute_strategy`, no public setter) moves to
          the scope, with the optimizer built first;
        - it averages each step's logs over workers with
          `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars:
          the step's logs are given a leading axis of 1 (their mean over the
          workers is the same number a `MirroredStrategy` logs).
        """
        if self.strategy is None or self.num_processes == 1:
            yield
            return
        from keras import ops

        own = model._distribute_strategy
        train_step = model.train_step

        def step_with_axis(data):
            logs = train_step(data)
            return {k: ops.reshape(v, (1,)) for k, v in logs.items()}

        with self.strategy.scope():
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
            model._distribute_strategy = None
            model.train_step = step_with_axis
            model.train_function = None
            try:
                yield
            finally:
                model._distribute_strategy = own
                del model.train_step
                model.train_function = None

    @contextlib.contextmanager
    def chief_directory(self, directory):
        """`directory` on the chief, a scratch directory elsewhere.

        Saving reads the replicated weights with collectives (JAX), so
        every process saves; only the chief's files are kept (as in
        TensorFlow's multi-worker guide).
        """
        if self.is_chief:
            yield directory
            return
        scratch = tempfile.mkdtemp(prefix="keras_electra_not_chief_")
        try:
            yield os.path.join(scratch, os.path.basename(directory))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def is_lost_peer_error(self, error):
        """Whether `error` comes from the backend's collectives (as when a
        process is lost), not from the training code."""
        if self.num_processes == 1:
            return False
        if keras.backend.backend() == "jax":
            import jax

            return isinstance(error, jax.errors.JaxRuntimeError)
        import tensorflow as tf

        return isinstance(error, tf.errors.OpError)

    def lost_worker_error(self, error):
        """A `RuntimeError` naming the workers this process lost."""
        others = [
            (i, w) for i, w in enumerate(self.workers) if i != self.process_id
        ]
        dead = [(i, w) for i, w in others if not _answers(w)]
        # On JAX only the chief listens on its address; a lost non-chief
        # is known to the coordination service (named in `error`).
        lost = dead or others
        names = ", ".join(f"worker {i} ({w})" for i, w in lost)
        verb = "is lost" if len(lost) == 1 else "are lost (or one of them)"
        cause = f"{type(error).__name__}: {str(error).strip()[:1500]}"
        return RuntimeError(
            f"Process {self.process_id} of {self.num_processes}: {names} "
            f"{verb}; stopping instead of waiting for it. Restart every "
            f"process to resume from the last checkpoint. ({cause})"
        )


def _answers(address, timeout=2.0):
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def data_parallel(workers=None, process_id=None, devices=None,
                  peer_timeout=PEER_TIMEOUT_SECONDS):
    """Set up data parallelism; call before building any model.

    Args:
        workers: `"HOST0:PORT0,HOST1:PORT1"` or a list, the same in every
            process, or `None` for one process. On JAX the chief's
            (`process_id` 0) address is the coordinator; on TensorFlow the
            list becomes `TF_CONFIG`.
        process_id: int. This process's index in `workers`.
        devices: int. Devices of this process to use (default: all). On a
            machine with only a CPU, the CPU is split into this many
            logical devices.
        peer_timeout: seconds. When a process is lost, the others stop
            with an error after this long instead of waiting for it:
            TensorFlow's timeout of each collective, JAX's heartbeat
            timeout. On TensorFlow it must also cover the longest wait of
            one process for the others at a collective (the first step's
            tracing, a slow checkpoint). Default 60.

    Returns:
        A `Cluster`.

    Example (on each of two machines, `I` = 0 or 1):
    ```python
    cluster = keras_electra.pretraining.data_parallel(
        workers="10.0.0.1:1234,10.0.0.2:1234", process_id=I
    )
    with cluster.scope():
        pretrainer = keras_electra.pretraining.ElectraPretrainer(...)
        pretrainer.compile(...)
    data = keras_electra.pretraining.ReplicaData(files, tokenizer, cluster,
                                                 batch_size=256)
    keras_electra.pretraining.train(pretrainer, data, 10_000,
                                    checkpoint_dir="/shared/ckpt",
                                    cluster=cluster)
    ```
    """
    workers = parse_workers(workers) if workers else []
    if workers:
        if process_id is None or not 0 <= process_id < len(workers):
            raise ValueError(
                f"`process_id` must be in [0, {len(workers)}) for "
                f"{len(workers)} workers. Received: {process_id}"
            )
    elif process_id not in (None, 0):
        raise ValueError(
            f"`process_id` {process_id} needs `workers` (the addresses of "
            "every process)."
        )
    process_id = process_id or 0
    if devices is not None and devices < 1:
        raise ValueError(f"`devices` must be positive. Received: {devices}")
    if (
        isinstance(peer_timeout, bool)
        or not isinstance(peer_timeout, (int, float))
        or not 0 < peer_timeout < math.inf
    ):
        raise ValueError(
            "`peer_timeout` must be a positive number of seconds. "
            f"Received: {peer_timeout!r}"
        )
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_cluster(workers, process_id, devices, peer_timeout)
    if backend == "tensorflow":
        return _tf_cluster(workers, process_id, devices, peer_timeout)
    if workers or (devices or 1) > 1:
        raise _torch_error()
    return Cluster([], 0, [0], 1)


def _jax_cluster(workers, process_id, devices, peer_timeout):
    import jax

    if devices is not None:
        # Only the CPU platform reads it (a CPU split in `devices`).
        jax.config.update("jax_num_cpu_devices", devices)
    if workers:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        # `keras.distribution.initialize` is these two calls, without a
        # way to pass the heartbeat timeout; `initialize_rng` (Keras'
        # own, not public) makes every process draw the same initial
        # weights when no seed was set.
        from keras.src.backend.jax.distribution_lib import initialize_rng

        jax.distributed.initialize(
            coordinator_address=workers[0],
            num_processes=len(workers),
            process_id=process_id,
            heartbeat_timeout_seconds=math.ceil(peer_timeout),
        )
        initialize_rng()
    local = jax.local_devices()
    count = len(local) if devices is None else devices
    if count > len(local):
        raise ValueError(
            f"`devices`={devices}, but this process has only {len(local)}: "
            f"{local}"
        )
    by_process = {}
    for device in jax.devices():
        by_process.setdefault(device.process_index, []).append(device)
    chosen = [
        d
        for p in sorted(by_process)
        for d in sorted(by_process[p], key=lambda d: d.id)[:count]
    ]
    if len(chosen) != count * max(len(workers), 1):
        raise ValueError(
            "Every process must use the same number of devices: "
            f"{ {p: len(d) for p, d in by_process.items()} }"
        )
    if len(chosen) > 1:
        # Each process feeds its own replicas' rows (`ReplicaData`);
        # Keras assembles the global batch.
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(
                devices=chosen, auto_shard_dataset=False
            )
        )
    first = process_id * count
    return Cluster(workers, process_id, range(first, first + count),
                   len(chosen))


def _tf_cluster(workers, process_id, devices, peer_timeout):
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if devices is not None:
            if devices > len(gpus):
                raise ValueError(
                    f"`devices`={devices}, but this process sees only "
                    f"{len(gpus)} GPUs."
                )
            tf.config.set_visible_devices(gpus[:devices], "GPU")
        names = [f"/gpu:{i}" for i in range(devices or len(gpus))]
    else:
        if devices and devices > 1:
            if workers:
                raise ValueError(
                    "TensorFlow's MultiWorkerMirroredStrategy uses one CPU "
                    "device per worker process: use `devices` 1 with "
                    "`workers` on a machine without GPUs."
                )
            cpu = tf.config.list_physical_devices("CPU")[0]
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * devices
            )
        names = [f"/cpu:{i}" for i in range(devices or 1)]
    if workers:
        os.environ["TF_CONFIG"] = json.dumps(
            {
                "cluster": {"worker": workers},
                "task": {"type": "worker", "index": process_id},
            }
        )
        strategy = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                timeout_seconds=peer_timeout
            )
        )
        local = strategy.num_replicas_in_sync // len(workers)
        first = process_id * local
        return Cluster(workers, process_id, range(first, first + local),
                       strategy.num_replicas_in_sync, strategy)
    if len(names) == 1:
        return Cluster([], 0, [0], 1)
    strategy = tf.distribute.MirroredStrategy(names)
    return Cluster([], 0, range(len(names)), len(names), strategy)
