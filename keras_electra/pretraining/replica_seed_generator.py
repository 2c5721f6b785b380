import keras
from keras import ops


def tf_replica_id():
    """This replica's index inside a `tf.distribute` step, or `None`.

    Only TensorFlow's distribution strategies run the same step function on
    several replicas with one (mirrored) seed state, so every replica would
    draw the same noise. JAX's `keras.distribution.DataParallel` draws over
    the global batch (each example gets its own noise) and Keras has no
    data parallelism for torch, so this is TensorFlow-only by nature.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if not tf.distribute.has_strategy():
        return None
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context.replica_id_in_sync_group


@keras.saving.register_keras_serializable(package="keras_electra")
class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A `keras.random.SeedGenerator` whose draws differ between replicas.

    Outside `tf.distribute` it is exactly a `SeedGenerator`: every draw
    advances the state, so draws differ from step to step and are
    reproducible from `seed`. Inside a `tf.distribute` replica the replica
    index is folded into the seed, so replicas mask and sample differently.

    Args:
        seed: int. The initial seed.

    Example:
    ```python
    seed_generator = ReplicaSeedGenerator(seed=0)
    noise = keras.random.uniform((2, 3), seed=seed_generator)
    ```
    """

    # A prime far from small seeds, so replica streams do not overlap.
    REPLICA_STRIDE = 1_000_003

    def next(self, ordered=True):
        seed = super().next(ordered=ordered)
        replica_id = tf_replica_id()
        if replica_id is None:
            return seed
        offset = ops.cast(replica_id, seed.dtype) * self.REPLICA_STRIDE
        return seed + ops.stack([offset, ops.zeros_like(offset)])
