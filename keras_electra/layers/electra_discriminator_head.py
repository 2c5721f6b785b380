import keras
from keras import ops

from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.initializers import electra_kernel_initializer



@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraDiscriminatorHead(keras.layers.Layer):
    """Replaced-token-detection head: dense(hidden) -> GELU -> dense(1).

    Returns one logit per token, `[batch, seq]`, that the token was replaced
    (Google's `discriminator_predictions`; transformers'
    `ElectraDiscriminatorPredictions`).

    Args:
        hidden_dim: int. Width of the intermediate dense layer.
        activation: The intermediate activation (exact GELU).
    """

    def __init__(self, hidden_dim, activation=ELECTRA_ACTIVATION, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.activation = activation
        self.dense = keras.layers.Dense(
            hidden_dim,
            activation=activation,
            kernel_initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="dense",
        )
        self.dense_prediction = keras.layers.Dense(
            1,
            kernel_initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="dense_prediction",
        )

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.dense_prediction.build(tuple(input_shape[:-1]) + (self.hidden_dim,))
        self.built = True

    def call(self, hidden_states):
        logits = self.dense_prediction(self.dense(hidden_states))
        return ops.squeeze(logits, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {"hidden_dim": self.hidden_dim, "activation": self.activation}
        )
        return config
