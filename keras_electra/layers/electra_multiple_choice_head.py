import keras
from keras import ops

from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.initializers import electra_kernel_initializer


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraMultipleChoiceHead(keras.layers.Layer):
    """One score per choice: transformers' `ElectraSequenceSummary` + dense.

    Takes the `[CLS]` hidden state of every (prompt, choice) sequence,
    optionally projects it (`summary`, dense to `hidden_dim`), applies the
    summary activation (exact GELU by default) and dropout, then scores it
    with a dense layer to 1 (`classifier`). The flat scores
    `[batch * num_choices]` are reshaped to `[batch, num_choices]` using the
    shape of the choices' token ids.

    Args:
        hidden_dim: int. The backbone's hidden size.
        summary_use_proj: bool. Project the `[CLS]` vector (transformers'
            `summary_use_proj`, default `True`).
        summary_activation: activation after the projection (`"gelu"`
            is the exact GELU; `None` for none).
        summary_first_dropout: float. Dropout before the projection.
        summary_last_dropout: float. Dropout after the activation.

    Call arguments:
        sequence_output: `[batch * num_choices, seq, hidden]`.
        choice_token_ids: `[batch, num_choices, seq]`, for the shape.

    Returns:
        `[batch, num_choices]` logits.
    """

    def __init__(
        self,
        hidden_dim,
        summary_use_proj=True,
        summary_activation=ELECTRA_ACTIVATION,
        summary_first_dropout=0.0,
        summary_last_dropout=0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.summary_use_proj = summary_use_proj
        self.summary_activation = summary_activation
        self.summary_first_dropout = summary_first_dropout
        self.summary_last_dropout = summary_last_dropout

        self.first_dropout = keras.layers.Dropout(
            summary_first_dropout, dtype=self.dtype_policy, name="first_dropout"
        )
        self.summary = None
        if summary_use_proj:
            self.summary = keras.layers.Dense(
                hidden_dim,
                kernel_initializer=electra_kernel_initializer(),
                dtype=self.dtype_policy,
                name="summary",
            )
        self.activation = keras.activations.get(summary_activation)
        self.last_dropout = keras.layers.Dropout(
            summary_last_dropout, dtype=self.dtype_policy, name="last_dropout"
        )
        self.classifier = keras.layers.Dense(
            1,
            kernel_initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="classifier",
        )

    def build(self, sequence_output_shape, choice_token_ids_shape=None):
        if self.summary is not None:
            self.summary.build((None, self.hidden_dim))
        self.classifier.build((None, self.hidden_dim))
        self.built = True

    def call(self, sequence_output, choice_token_ids, training=None):
        x = sequence_output[:, 0, :]
        x = self.first_dropout(x, training=training)
        if self.summary is not None:
            x = self.summary(x)
        x = self.activation(x)
        x = self.last_dropout(x, training=training)
        scores = self.classifier(x)
        shape = ops.shape(choice_token_ids)
        return ops.reshape(scores, (shape[0], shape[1]))

    def compute_output_shape(self, sequence_output_shape,
                             choice_token_ids_shape):
        return tuple(choice_token_ids_shape[:2])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_dim": self.hidden_dim,
                "summary_use_proj": self.summary_use_proj,
                "summary_activation": self.summary_activation,
                "summary_first_dropout": self.summary_first_dropout,
                "summary_last_dropout": self.summary_last_dropout,
            }
        )
        return config
