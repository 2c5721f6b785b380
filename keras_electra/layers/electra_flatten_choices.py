import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraFlattenChoices(keras.layers.Layer):
    """Folds the choices into the batch: `[batch, choices, seq]` -> `[batch * choices, seq]`.

    Multiple-choice models run the backbone once per (prompt, choice)
    sequence; this layer reshapes every input of the dict (`token_ids`,
    `segment_ids`, `padding_mask`) the same way.

    Example:
    ```python
    layer = ElectraFlattenChoices()
    x = {"token_ids": np.ones((2, 4, 8), "int32")}
    layer(x)["token_ids"].shape  # (8, 8)
    ```
    """

    def call(self, inputs):
        return {
            key: ops.reshape(value, (-1, ops.shape(value)[-1]))
            for key, value in inputs.items()
        }

    def compute_output_spec(self, inputs):
        return {
            key: keras.KerasTensor((None, value.shape[-1]), dtype=value.dtype)
            for key, value in inputs.items()
        }
