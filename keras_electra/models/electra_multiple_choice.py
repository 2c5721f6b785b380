import keras
from keras_hub.models import Task
import tensorflow as tf

from keras_electra.layers.electra_flatten_choices import ElectraFlattenChoices
from keras_electra.layers.electra_multiple_choice_head import (
    ElectraMultipleChoiceHead,
)
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_multiple_choice_preprocessor import (
    ElectraMultipleChoicePreprocessor,
)
from keras_electra.models.electra_task_export import ServingExportMixin
from keras_electra.models.electra_task_quantization import (
    QuantizationMixin,
)
from keras_electra.models.in_memory_predict import InMemoryPredictMixin
from keras_electra.models.sequence_length import clamp_sequence_length
from keras_electra.optimizers.optimization import create_optimizer
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraMultipleChoice(
    ServingExportMixin,
    QuantizationMixin,
    PresetResolvingMixin,
    InMemoryPredictMixin,
    InputValidatingMixin,
    OptimizerBuildMixin,
    Task,
):
    """ELECTRA for multiple choice (transformers' `ElectraForMultipleChoice`).

    Inputs are `[batch, num_choices, seq]` (one packed `(prompt, choice)`
    sequence per choice). The choices are folded into the batch, run
    through the backbone, summarised from their `[CLS]` state
    (`ElectraMultipleChoiceHead`: projection -> GELU -> dropout, as
    transformers' `ElectraSequenceSummary`) and scored; the output is
    `[batch, num_choices]` logits and the label is the right choice's index.

    Args:
        backbone: A `keras_electra.ElectraBackbone`.
        preprocessor: A `keras_electra.ElectraMultipleChoicePreprocessor` or
            `None`.
        summary_use_proj, summary_activation, summary_first_dropout,
        summary_last_dropout: the sequence summary (transformers' config
            fields of the same names; defaults as in `ElectraConfig`).

    Example:
    ```python
    model = keras_electra.ElectraMultipleChoice.from_preset(
        "electra_small_discriminator_en"
    )
    x = (["The cat sat on the"], [["mat.", "moon.", "idea."]])
    model.fit(x, [0])
    model.predict(x).argmax(-1)
    ```
    """

    backbone_cls = ElectraBackbone
    preprocessor_cls = ElectraMultipleChoicePreprocessor

    def __init__(
        self,
        backbone,
        preprocessor=None,
        summary_use_proj=True,
        summary_activation=ELECTRA_ACTIVATION,
        summary_first_dropout=0.0,
        summary_last_dropout=0.1,
        **kwargs,
    ):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        clamp_sequence_length(preprocessor, backbone)
        self.flatten_choices = ElectraFlattenChoices(
            dtype=backbone.dtype_policy, name="flatten_choices"
        )
        self.multiple_choice_head = ElectraMultipleChoiceHead(
            hidden_dim=backbone.hidden_dim,
            summary_use_proj=summary_use_proj,
            summary_activation=summary_activation,
            summary_first_dropout=summary_first_dropout,
            summary_last_dropout=summary_last_dropout,
            dtype=backbone.dtype_policy,
            name="multiple_choice_head",
        )

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(None, None), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        flat = self.flatten_choices(inputs)
        sequence_output = backbone(flat)
        outputs = self.multiple_choice_head(
            sequence_output, inputs["token_ids"]
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.summary_use_proj = summary_use_proj
        self.summary_activation = summary_activation
        self.summary_first_dropout = summary_first_dropout
        self.summary_last_dropout = summary_last_dropout

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto",
                **kwargs):
        """Google's optimizer, cross-entropy over choices and accuracy."""
        if optimizer == "auto":
            optimizer = create_optimizer(self)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy()]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    def decode_outputs(self, logits, features=None):
        """The named predictions of the logits over choices, with TensorFlow
        ops (the serving SavedModel's outputs).

        `logits` and `probabilities` (softmax over the choices) `[batch,
        num_choices]`; `label_id` (the best choice's index), `label` (its
        text from `features["choices"]`, or the index as a string without
        it) and `score` (its probability), `[batch]`.

        Args:
            logits: float tensor `[batch, num_choices]`.
            features: `None`, or a dict with `"choices"`, the choices'
                strings `[batch, num_choices]`.
        """
        probabilities = tf.nn.softmax(logits, axis=-1)
        label_id = tf.argmax(logits, axis=-1, output_type=tf.int32)
        if features and "choices" in features:
            label = tf.gather(features["choices"], label_id, batch_dims=1)
        else:
            label = tf.strings.as_string(label_id)
        return {
            "logits": logits,
            "probabilities": probabilities,
            "label_id": label_id,
            "label": label,
            "score": tf.reduce_max(probabilities, axis=-1),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "summary_use_proj": self.summary_use_proj,
                "summary_activation": self.summary_activation,
                "summary_first_dropout": self.summary_first_dropout,
                "summary_last_dropout": self.summary_last_dropout,
            }
        )
        return config
