import keras
from keras_hub.src.models.text_classifier import TextClassifier

from keras_electra.finetuning.optimization import create_optimizer
from keras_electra.finetuning.sequence_length import clamp_sequence_length
from keras_electra.layers.electra_classification_head import (
    ElectraClassificationHead,
)
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_text_classifier_preprocessor import (
    ElectraTextClassifierPreprocessor,
)
from keras_electra.utils.preset_resolution import PresetResolvingMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraClassifier(PresetResolvingMixin, TextClassifier):
    """ELECTRA for sentence (pair) classification and regression (GLUE).

    The backbone followed by `ElectraClassificationHead` on the final
    `[CLS]` hidden state. By default the head is Google's (dropout 0.1 ->
    dense); `head="transformers"` is transformers' `ElectraClassificationHead`
    (dense -> GELU -> dropout -> `out_proj`), which fine-tuned
    `ElectraForSequenceClassification` checkpoints use and load into.

    `num_classes=1` is regression (STS-B style): the output is one score and
    the default loss is the mean squared error.

    Raw strings go in through the preprocessor: a batch of strings, or a
    tuple `(first, second)` of two batches for sentence pairs.

    Args:
        backbone: A `keras_electra.ElectraBackbone`.
        num_classes: int. Number of classes; 1 for regression.
        preprocessor: A `keras_electra.ElectraTextClassifierPreprocessor` or
            `None` (then inputs must be token-id dicts).
        head: `"google"` or `"transformers"`.
        activation: Output activation; `None` returns logits.
        dropout: float. Dropout of the head (Google and transformers: 0.1).

    Example:
    ```python
    classifier = keras_electra.ElectraClassifier.from_preset(
        "electra_small_discriminator_en", num_classes=2
    )
    classifier.fit(x=["great movie", "dull plot"], y=[1, 0], batch_size=2)
    classifier.predict(["what a film"])
    ```
    """

    backbone_cls = ElectraBackbone
    preprocessor_cls = ElectraTextClassifierPreprocessor

    def __init__(
        self,
        backbone,
        num_classes=None,
        preprocessor=None,
        head="google",
        activation=None,
        dropout=0.1,
        **kwargs,
    ):
        if num_classes is None:
            raise ValueError(
                "`ElectraClassifier` needs `num_classes` (1 for regression), "
                "e.g. `ElectraClassifier.from_preset(preset, num_classes=2)`."
            )
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        clamp_sequence_length(preprocessor, backbone)
        self.classification_head = ElectraClassificationHead(
            num_classes=num_classes,
            hidden_dim=backbone.hidden_dim,
            head=head,
            dropout=dropout,
            activation=activation,
            dtype=backbone.dtype_policy,
            name="classification_head",
        )

        # === Functional Model ===
        inputs = backbone.input
        sequence_output = backbone(inputs)
        outputs = self.classification_head(sequence_output)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.head = head
        self.activation = keras.activations.get(activation)
        self.dropout = dropout

    @property
    def is_regression(self):
        return self.classification_head.num_classes == 1

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto",
                **kwargs):
        """Compile with Google's fine-tuning recipe by default.

        `optimizer="auto"` is `ElectraAdamW` with layer-wise learning-rate
        decay (see `keras_electra.finetuning.create_optimizer`; pass your own
        to add warm-up and decay over a known number of steps). `loss="auto"`
        is sparse categorical cross-entropy, or the mean squared error for
        regression; `metrics="auto"` is accuracy (classification) or none.
        """
        if optimizer == "auto":
            optimizer = create_optimizer(self)
        if self.is_regression:
            if loss == "auto":
                loss = keras.losses.MeanSquaredError()
            if metrics == "auto":
                metrics = None
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics, **kwargs
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "head": self.head,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
            }
        )
        return config
