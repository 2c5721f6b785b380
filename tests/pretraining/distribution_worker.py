"""Pre-training under data parallelism, for `test_distribution.py`.

`python -m tests.pretraining.distribution_worker jax` (with
`XLA_FLAGS=--xla_force_host_platform_device_count=4`, `KERAS_BACKEND=jax`)
trains the same model on the same global batches on one device and with
`keras.distribution.DataParallel` over 4 devices, and prints both loss
curves as JSON.

`python -m tests.pretraining.distribution_worker tensorflow` (with
`KERAS_BACKEND=tensorflow`) splits the CPU into 2 logical devices, masks
the same batch and draws Gumbel noise on both replicas of a
`tf.distribute.MirroredStrategy`, then takes one SGD step of `fit` under
the strategy with each replica's masking and noise fixed, and one by hand
on one device (the gradient of the mean of the two replicas' losses), and
prints the masked positions, noise statistics and the weight differences
as JSON.
"""

import json
import sys

import numpy as np

RESULT_PREFIX = "RESULT "


def _batches(steps, batch_size=8):
    from tests.pretraining.helpers import packed_batch

    return [packed_batch(batch=batch_size, seq=16, seed=s) for s in range(steps)]


def _build(dropout=0.1):
    import keras

    from tests.pretraining.helpers import tiny_pretrainer

    keras.utils.set_random_seed(0)
    pretrainer = tiny_pretrainer(seed=0, dropout=dropout)
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


NOISE_SHAPE = (256, 256)  # Gumbel draws per replica.


def _one_step_under_strategy(strategy, pretrainer, shards, learning_rate):
    """One `fit` step of SGD with each replica given its masking and noise.

    The layer's `call` is replaced by its deterministic `step` with the
    masking and noise of the replica's shard (picked by replica id), so the
    strategy's step can be compared with one device on the same examples.
    """
    import keras
    import tensorflow as tf

    layer = pretrainer.replaced_token_detection_layer
    stacked = {
        k: tf.constant(np.stack([s[k] for s in shards["masked"]]))
        for k in shards["masked"][0]
    }
    noise = tf.constant(np.stack(shards["noise"]))

    def call(inputs, training=False):
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        masked = {k: tf.gather(v, replica) for k, v in stacked.items()}
        return layer.step(
            inputs, masked, tf.gather(noise, replica), training=training
        )

    layer.call = call
    with strategy.scope():
        pretrainer.compile(optimizer=keras.optimizers.SGD(learning_rate))
    batch = {k: np.concatenate([b[k] for b in shards["batch"]]) for k in shards["batch"][0]}
    dataset = tf.data.Dataset.from_tensor_slices(batch).batch(len(batch["token_ids"]))
    history = pretrainer.fit(dataset, epochs=1, verbose=0)
    return history.history["loss"][0]


def run_tensorflow():
    import tensorflow as tf
    from keras import ops

    from keras_electra.pretraining.replaced_token_detection import gumbel_noise

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        pretrainer = _build(dropout=0.0)  # Deterministic given the noise.
    batch = _batches(1, batch_size=4)[0]

    @tf.function
    def mask_on_each_replica():
        return strategy.run(lambda: pretrainer.mask(batch)["mask_positions"])

    @tf.function
    def noise_on_each_replica():
        return strategy.run(
            lambda: gumbel_noise(NOISE_SHAPE, seed=pretrainer.seed_generator)
        )

    positions = strategy.experimental_local_results(mask_on_each_replica())
    noise = [
        n.numpy() for n in strategy.experimental_local_results(noise_on_each_replica())
    ]

    # One device: the gradient of the mean of the two shards' losses (each
    # shard with its own masking and noise), by a plain tape.
    reference = _build(dropout=0.0)
    reference.set_weights(pretrainer.get_weights())
    shards = {"batch": _batches(2, batch_size=4), "masked": [], "noise": []}
    for b in shards["batch"]:
        masked = {k: ops.convert_to_numpy(v) for k, v in reference.mask(b).items()}
        shards["masked"].append(masked)
        shards["noise"].append(
            np.random.default_rng(len(shards["noise"])).gumbel(
                size=masked["mask_positions"].shape
                + (reference.backbone.vocabulary_size,)
            ).astype("float32")
        )
    learning_rate = 0.5
    with tf.GradientTape() as tape:
        losses = [
            reference.replaced_token_detection(b, m, n, training=True)["loss"]
            for b, m, n in zip(shards["batch"], shards["masked"], shards["noise"])
        ]
        mean_loss = (losses[0] + losses[1]) / 2
    variables = reference.trainable_variables
    gradients = tape.gradient(mean_loss, variables)
    expected = [
        v.numpy() - learning_rate * tf.convert_to_tensor(g).numpy()
        for v, g in zip(variables, gradients)
    ]
    before = [v.numpy() for v in pretrainer.trainable_variables]
    loss = _one_step_under_strategy(strategy, pretrainer, shards, learning_rate)
    after = [v.numpy() for v in pretrainer.trainable_variables]
    assert len(after) == len(expected)
    updates = [float(np.abs(e - b).max()) for e, b in zip(expected, before)]
    errors = [float(np.abs(a - e).max()) for a, e in zip(after, expected)]
    return {
        "replicas": strategy.num_replicas_in_sync,
        "positions": [p.numpy().tolist() for p in positions],
        "noise_equal_fraction": float(np.mean(noise[0] == noise[1])),
        "noise_mean": [float(n.mean()) for n in noise],
        "noise_var": [float(n.var()) for n in noise],
        "noise_size": int(noise[0].size),
        "strategy_loss": loss,
        "expected_loss": float(mean_loss.numpy()),
        # Per variable: the largest change of the one-device step, and
        # the largest |strategy weight - one-device weight|.
        "updates": updates,
        "errors": errors,
    }


if __name__ == "__main__":
    result = run_jax() if sys.argv[1] == "jax" else run_tensorflow()
    print(RESULT_PREFIX + json.dumps(result))
