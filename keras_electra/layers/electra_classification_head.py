import keras

from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.initializers import electra_kernel_initializer

CLASSIFICATION_HEADS = ("google", "transformers")


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraClassificationHead(keras.layers.Layer):
    """Sentence-level classification head on the `[CLS]` hidden state.

    Two variants:

    - `"google"` (Google's `classification_tasks.py`): dropout -> dense to
      `num_classes`. ELECTRA has no pooler; the "pooled output" is the final
      hidden state of `[CLS]`.
    - `"transformers"` (transformers' `ElectraClassificationHead`): dropout
      -> dense(`hidden_dim`) -> exact GELU -> dropout -> dense to
      `num_classes` (`out_proj`). Use it to load fine-tuned
      `ElectraForSequenceClassification` checkpoints.

    Args:
        num_classes: int. Number of outputs (1 for regression).
        hidden_dim: int. Width of the intermediate dense layer
            (`"transformers"` head only).
        head: `"google"` or `"transformers"`.
        dropout: float. Dropout before each dense layer.
        activation: activation of the outputs (`None` gives logits).

    Call arguments:
        sequence_output: float tensor `[batch, seq, hidden]`.

    Returns:
        `[batch, num_classes]`.

    Example:
    ```python
    head = ElectraClassificationHead(num_classes=3, hidden_dim=32)
    head(np.ones((2, 8, 32), "float32")).shape  # (2, 3)
    ```
    """

    def __init__(
        self,
        num_classes,
        hidden_dim=None,
        head="google",
        dropout=0.1,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if head not in CLASSIFICATION_HEADS:
            raise ValueError(
                f"`head` must be one of {CLASSIFICATION_HEADS}. Received: "
                f"head={head!r}"
            )
        if head == "transformers" and not hidden_dim:
            raise ValueError(
                "The 'transformers' head needs `hidden_dim` (the width of its "
                "intermediate dense layer)."
            )
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                "`num_classes` must be a positive integer (1 for "
                f"regression). Received: num_classes={num_classes!r}"
            )
        self.num_classes = num_classes
        self.hidden_dim = hidden_dim
        self.head = head
        self.dropout = dropout
        self.activation = keras.activations.get(activation)

        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.dense = None
        if head == "transformers":
            self.dense = keras.layers.Dense(
                hidden_dim,
                activation=ELECTRA_ACTIVATION,
                kernel_initializer=electra_kernel_initializer(),
                dtype=self.dtype_policy,
                name="dense",
            )
        self.out_proj = keras.layers.Dense(
            num_classes,
            activation=activation,
            kernel_initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="out_proj",
        )

    def build(self, input_shape):
        cls_shape = (input_shape[0], input_shape[-1])
        if self.dense is not None:
            self.dense.build(cls_shape)
            cls_shape = (input_shape[0], self.hidden_dim)
        self.out_proj.build(cls_shape)
        self.built = True

    def call(self, sequence_output, training=None):
        x = sequence_output[:, 0, :]
        x = self.dropout_layer(x, training=training)
        if self.dense is not None:
            x = self.dense(x)
            x = self.dropout_layer(x, training=training)
        return self.out_proj(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "hidden_dim": self.hidden_dim,
                "head": self.head,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config
