import keras
import numpy as np
from keras import ops
from keras_hub.models import Task
import tensorflow as tf

from keras_electra.metrics.seqeval import entity_scores
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_task_export import ServingExportMixin
from keras_electra.models.electra_task_quantization import (
    QuantizationMixin,
)
from keras_electra.models.electra_token_classifier_preprocessor import (
    ElectraTokenClassifierPreprocessor,
)
from keras_electra.models.in_memory_predict import InMemoryPredictMixin
from keras_electra.models.sequence_length import clamp_sequence_length
from keras_electra.optimizers.optimization import create_optimizer
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.initializers import electra_kernel_initializer
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.label_names import check_label_names
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


def _to_ragged(values, dtype):
    """Nested lists (one list per sentence) -> `tf.RaggedTensor` for `tf.data`."""
    if isinstance(values, list) and values and isinstance(
        values[0], (list, tuple)
    ):
        return tf.ragged.constant([list(v) for v in values], dtype=dtype)
    return values


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraTokenClassifier(
    ServingExportMixin,
    QuantizationMixin,
    PresetResolvingMixin,
    InMemoryPredictMixin,
    InputValidatingMixin,
    OptimizerBuildMixin,
    Task,
):
    """ELECTRA for word tagging (NER, chunking, POS).

    The backbone followed by dropout and a dense layer giving per-token
    logits `[batch, seq, num_classes]` (transformers'
    `ElectraForTokenClassification`; Google's tagging head is the same dense
    layer without dropout, `dropout=0.0`). Words are labelled at their first
    WordPiece; the preprocessor aligns word labels and weights the other
    pieces 0, so `fit` takes pre-split sentences and word labels directly.

    Args:
        backbone: A `keras_electra.ElectraBackbone`.
        num_classes: int. Number of tags.
        preprocessor: A `keras_electra.ElectraTokenClassifierPreprocessor`
            or `None`.
        label_names: list of tag strings (index = label id), e.g. BIO tags.
            Used by `predict_tags` and `evaluate_entities`.
        dropout: float. Dropout before the dense layer (Google: 0.0;
            transformers: the hidden dropout, 0.1).

    Example:
    ```python
    tagger = keras_electra.ElectraTokenClassifier.from_preset(
        "electra_small_discriminator_en",
        num_classes=3,
        label_names=["O", "B-PER", "I-PER"],
    )
    tagger.fit(x=[["Ada", "Lovelace", "wrote"]], y=[[1, 2, 0]])
    tagger.predict_tags([["Ada", "wrote"]])  # [["B-PER", "O"]]
    ```
    """

    backbone_cls = ElectraBackbone
    preprocessor_cls = ElectraTokenClassifierPreprocessor
    per_token_outputs = True

    def __init__(
        self,
        backbone,
        num_classes=None,
        preprocessor=None,
        label_names=None,
        dropout=0.0,
        **kwargs,
    ):
        if num_classes is None:
            num_classes = len(label_names) if label_names else None
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                "`ElectraTokenClassifier` needs `num_classes` (or "
                f"`label_names`). Received: num_classes={num_classes!r}"
            )
        label_names = check_label_names(label_names, num_classes)
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        clamp_sequence_length(preprocessor, backbone)
        self.token_classifier_dropout = keras.layers.Dropout(
            dropout, dtype=backbone.dtype_policy, name="token_classifier_dropout"
        )
        self.token_classifier_dense = keras.layers.Dense(
            num_classes,
            kernel_initializer=electra_kernel_initializer(),
            dtype=backbone.dtype_policy,
            name="token_classifier_dense",
        )

        # === Functional Model ===
        inputs = backbone.input
        x = backbone(inputs)
        x = self.token_classifier_dropout(x)
        outputs = self.token_classifier_dense(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.label_names = label_names
        self.dropout = dropout

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto",
                **kwargs):
        """Google's optimizer; cross-entropy averaged over labelled words."""
        if optimizer == "auto":
            optimizer = create_optimizer(self)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            )
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy()]
        super().compile(
            optimizer=optimizer, loss=loss, weighted_metrics=metrics, **kwargs
        )

    # Sentences are ragged; `tf.data` needs them as `tf.RaggedTensor`s.
    def fit(self, x=None, y=None, batch_size=None, sample_weight=None,
            **kwargs):
        return super().fit(
            _to_ragged(x, "string"),
            _to_ragged(y, "int32"),
            batch_size=batch_size,
            sample_weight=sample_weight,
            **kwargs,
        )

    def evaluate(self, x=None, y=None, batch_size=None, sample_weight=None,
                 **kwargs):
        return super().evaluate(
            _to_ragged(x, "string"),
            _to_ragged(y, "int32"),
            batch_size=batch_size,
            sample_weight=sample_weight,
            **kwargs,
        )

    def predict(self, x=None, batch_size=None, **kwargs):
        return super().predict(
            _to_ragged(x, "string"), batch_size=batch_size, **kwargs
        )

    def predict_word_labels(self, sentences, batch_size=32):
        """Label id of every word: the prediction at its first WordPiece.

        Words cut off by truncation get label 0.

        Args:
            sentences: list of lists of words.

        Returns:
            A list (one per sentence) of lists of label ids.
        """
        if self.preprocessor is None:
            raise ValueError(
                "`predict_word_labels()` needs a preprocessor to tokenize "
                "words."
            )
        sentences = [list(s) for s in sentences]
        results = []
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            word_ids = ops.convert_to_numpy(self.preprocessor.word_ids(chunk))
            logits = ops.convert_to_numpy(self.predict_on_batch(chunk))
            predicted = logits.argmax(-1)
            for words, ids, preds in zip(chunk, word_ids, predicted):
                labels = np.zeros(len(words), "int64")
                keep = ids >= 0
                labels[ids[keep]] = preds[keep]
                results.append([int(label) for label in labels])
        return results

    def predict_labels(self, sentences, batch_size=32):
        """Every word's label and its probability, at its first WordPiece.

        The token-level analogue of `ElectraClassifier.predict_labels`.

        Args:
            sentences: a list of lists of words.

        Returns:
            One list per sentence of one `(label, probability)` per word.
            Labels are `label_names`, or the label ids as strings (`"0"`,
            `"1"`, ...) without names. Words cut off by truncation get
            label id 0 with probability `nan`.
        """
        if self.preprocessor is None:
            raise ValueError(
                "`predict_labels()` needs a preprocessor to tokenize words."
            )
        names = self.label_names or [str(i) for i in range(self.num_classes)]
        sentences = [list(s) for s in sentences]
        results = []
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            word_ids = ops.convert_to_numpy(self.preprocessor.word_ids(chunk))
            logits = np.asarray(
                ops.convert_to_numpy(self.predict_on_batch(chunk)), "float64"
            )
            shifted = np.exp(logits - logits.max(-1, keepdims=True))
            probabilities = shifted / shifted.sum(-1, keepdims=True)
            for words, ids, probs in zip(chunk, word_ids, probabilities):
                labels = [(names[0], float("nan"))] * len(words)
                for position in np.flatnonzero(ids >= 0):
                    best = int(probs[position].argmax())
                    labels[ids[position]] = (
                        names[best], float(probs[position, best])
                    )
                results.append(labels)
        return results

    def predict_tags(self, sentences, batch_size=32):
        """Tag strings (from `label_names`) of every word of `sentences`."""
        if not self.label_names:
            raise ValueError(
                "`predict_tags()` needs `label_names`; use "
                "`predict_word_labels()` for label ids."
            )
        return [
            [self.label_names[i] for i in labels]
            for labels in self.predict_word_labels(sentences, batch_size)
        ]

    def evaluate_entities(self, sentences, tags, batch_size=32):
        """Entity-level precision, recall and F1 (seqeval/conlleval style).

        Args:
            sentences: list of lists of words.
            tags: the gold tag strings (e.g. BIO), same shape.

        Returns:
            The dict of `keras_electra.metrics.seqeval.entity_scores`.
        """
        return entity_scores(tags, self.predict_tags(sentences, batch_size))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "label_names": self.label_names,
                "dropout": self.dropout,
            }
        )
        return config
