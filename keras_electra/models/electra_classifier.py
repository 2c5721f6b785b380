import keras
import numpy as np
from keras_hub.models import TextClassifier
import tensorflow as tf

from keras_electra.layers.electra_classification_head import (
    ElectraClassificationHead,
)
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_task_export import ServingExportMixin
from keras_electra.models.electra_task_quantization import (
    QuantizationMixin,
)
from keras_electra.models.electra_text_classifier_preprocessor import (
    ElectraTextClassifierPreprocessor,
)
from keras_electra.models.in_memory_predict import InMemoryPredictMixin
from keras_electra.models.sequence_length import clamp_sequence_length
from keras_electra.optimizers.optimization import create_optimizer
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.label_names import check_label_names
from keras_electra.utils.label_names import label_strings
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraClassifier(
    ServingExportMixin,
    QuantizationMixin,
    PresetResolvingMixin,
    InMemoryPredictMixin,
    InputValidatingMixin,
    OptimizerBuildMixin,
    TextClassifier,
):
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
        label_names: list of strings or `None`. The name of each class
            (index = class id), e.g. `["anger", "joy", "sadness"]`; its
            length must equal `num_classes` (which it sets if omitted). Kept
            in the config and presets, read from (and written to) a
            transformers checkpoint's `id2label`, used by
            `predict_labels()` and the SavedModel export.

    Example:
    ```python
    classifier = keras_electra.ElectraClassifier.from_preset(
        "electra_small_discriminator_en", num_classes=2
    )
    classifier.fit(x=["great movie", "dull plot"], y=[1, 0], batch_size=2)
    classifier.predict(["what a film"])

    # A fine-tuned classifier knows its label names.
    classifier = keras_electra.ElectraClassifier.from_preset(
        "path/to/emotion_classifier"  # id2label: anger, joy, sadness
    )
    classifier.predict_labels(["I am so happy today"])  # [("joy", 0.93)]
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
        label_names=None,
        **kwargs,
    ):
        if num_classes is None and label_names is not None:
            num_classes = len(label_names)
        label_names = check_label_names(label_names, num_classes)
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
        self.label_names = label_names

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
                "label_names": self.label_names,
            }
        )
        return config

    def decode_outputs(self, outputs, label_names=None, top_k=None):
        """The named predictions of the model's `outputs`, with TensorFlow
        ops: the serving SavedModel's outputs, and what `predict_labels`
        reads.

        Regression (`num_classes=1`) gives the predicted `score` only.
        Otherwise: `logits` and `probabilities` (their softmax) without an
        activation, `probabilities` with `activation="softmax"`, `outputs`
        with any other activation (its scores, as they are); then
        `label_id`, `label` and `score`, the best class by those scores.

        Args:
            outputs: float tensor `[batch, num_classes]` (any float dtype;
                the results keep it).
            label_names: the labels' names; `None`: the classifier's
                `label_names`, or the ids as strings without names.
            top_k: int or `None`. `None`: `label_id`, `label`, `score` are
                `[batch]`; an int: `[batch, top_k]`, the `top_k` best
                classes, most likely first (ties: the lower id first).
        """
        if self.is_regression:
            return {"score": outputs[:, 0]}
        activation = self.classification_head.activation
        if activation is keras.activations.linear:
            scores = tf.nn.softmax(outputs, axis=-1)
            result = {"logits": outputs, "probabilities": scores}
        elif activation is keras.activations.softmax:
            scores = outputs
            result = {"probabilities": outputs}
        else:
            scores = outputs
            result = {"outputs": outputs}
        top_scores, label_ids = tf.math.top_k(scores, k=top_k or 1)
        if top_k is None:
            top_scores, label_ids = top_scores[:, 0], label_ids[:, 0]
        result["label_id"] = label_ids
        result["label"] = label_strings(
            label_ids, label_names or self.label_names
        )
        result["score"] = top_scores
        return result

    def predict_labels(self, texts, top_k=1, batch_size=32):
        """Predicted labels and their probabilities for raw strings.

        The transformers guide's `model.config.id2label[logits.argmax()]`
        in one call: the task's preprocessor tokenizes `texts`, the model
        predicts, and `decode_outputs` (the SavedModel's own
        post-processing, here in float64) reads the best classes out by
        name.

        Args:
            texts: a string, a list of strings, or a tuple `(first, second)`
                of two lists for sentence pairs.
            top_k: int. How many labels to return per text.
            batch_size: int.

        Returns:
            With `top_k=1`, one `(label, probability)` per text, e.g.
            `[("joy", 0.93), ("anger", 0.71)]`; with `top_k > 1`, one list
            of `top_k` such pairs per text, most likely first. A single
            string gives a single result. Labels are `label_names`, or the
            class ids as strings (`"0"`, `"1"`, ...) when the classifier
            has no names, as in the SavedModel's `label` output. With an
            output activation other than softmax (e.g. sigmoid), the
            probabilities are its outputs as they are, as the SavedModel's
            `score`.
        """
        if self.preprocessor is None:
            raise ValueError(
                "`predict_labels()` needs a preprocessor (built by "
                "`from_preset`) to tokenize raw strings."
            )
        if self.is_regression:
            raise ValueError(
                "`predict_labels()` needs a classifier; this one has "
                "`num_classes=1` (regression): use `predict()` for scores."
            )
        if not isinstance(top_k, int) or not 1 <= top_k <= self.num_classes:
            raise ValueError(
                f"`top_k` must be an int from 1 to num_classes "
                f"({self.num_classes}). Received: top_k={top_k!r}"
            )
        single = isinstance(texts, str)
        if single:
            texts = [texts]
        elif isinstance(texts, tuple):
            texts = tuple(list(t) for t in texts)
        else:
            texts = list(texts)
        outputs = self.predict(texts, batch_size=batch_size, verbose=0)
        outputs = np.asarray(keras.ops.convert_to_numpy(outputs), "float64")
        # Eagerly: a few ops on a few numbers per text run faster than a
        # `tf.function` call (its dispatch and graph executor).
        decoded = self.decode_outputs(outputs, top_k=top_k)
        labels = decoded["label"].numpy().reshape(len(outputs), top_k)
        scores = decoded["score"].numpy().reshape(len(outputs), top_k)
        results = []
        for row_labels, row_scores in zip(labels, scores):
            ranked = [
                (label.decode(), float(score))
                for label, score in zip(row_labels, row_scores)
            ]
            results.append(ranked[0] if top_k == 1 else ranked)
        return results[0] if single else results
