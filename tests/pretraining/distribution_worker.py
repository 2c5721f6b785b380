"""Pre-training under data parallelism, for `test_distribution.py`.

`python -m tests.pretraining.distribution_worker jax` (with
`XLA_FLAGS=--xla_force_host_platform_device_count=4`, `KERAS_BACKEND=jax`)
trains the same model on the same global batches on one device and with
`keras.distribution.DataParallel` over 4 devices, and prints both loss
curves as JSON.

`python -m tests.pretraining.distribution_worker tensorflow` (with
`KERAS_BACKEND=tensorflow`) splits the CPU into 2 logical devices, masks
the same batch on both replicas of a `tf.distribute.MirroredStrategy`,
trains 2 steps on one device and under the strategy, and prints the
masked positions of each replica and both loss curves as JSON.
"""

import json
import sys

import numpy as np

RESULT_PREFIX = "RESULT "


def _batches(steps, batch_size=8):
    from tests.pretraining.helpers import packed_batch

    return [packed_batch(batch=batch_size, seq=16, seed=s) for s in range(steps)]


def _build():
    import keras

    from tests.pretraining.helpers import tiny_pretrainer

    keras.utils.set_random_seed(0)
    pretrainer = tiny_pretrainer(seed=0)
    pretrainer.compile(learning_rate=1e-2, num_train_steps=10, warmup_steps=0)
    return pretrainer


def _fit(pretrainer, batches):
    import tensorflow as tf

    x = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(len(batches[0]["token_ids"]))
    history = pretrainer.fit(dataset, epochs=len(batches), steps_per_epoch=1, verbose=0)
    return history.history["loss"]


def run_jax():
    import jax
    import keras

    batches = _batches(3)
    single = _fit(_build(), batches)
    devices = jax.devices()
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices)
    )
    pretrainer = _build()
    sharding = pretrainer.embeddings.token_embedding.embeddings.value.sharding
    parallel = _fit(pretrainer, batches)
    return {
        "devices": len(devices),
        "replicated": sharding.is_fully_replicated,
        "single": single,
        "parallel": parallel,
    }


def run_tensorflow():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    single = _fit(_build(), _batches(2))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        pretrainer = _build()
    batch = _batches(1, batch_size=4)[0]

    @tf.function
    def mask_on_each_replica():
        return strategy.run(lambda: pretrainer.mask(batch)["mask_positions"])

    positions = strategy.experimental_local_results(mask_on_each_replica())
    losses = _fit(pretrainer, _batches(2))
    return {
        "replicas": strategy.num_replicas_in_sync,
        "positions": [p.numpy().tolist() for p in positions],
        "losses": losses,
        "single": single,
    }


if __name__ == "__main__":
    result = run_jax() if sys.argv[1] == "jax" else run_tensorflow()
    print(RESULT_PREFIX + json.dumps(result))
