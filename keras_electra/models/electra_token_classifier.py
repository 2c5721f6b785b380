import keras
import numpy as np
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
from keras_electra.models.tf_graph import call_owned_in_graph
from keras_electra.optimizers.optimization import create_optimizer
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.initializers import electra_kernel_initializer
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.input_validation import check_text_input
from keras_electra.utils.label_names import check_label_names
from keras_electra.utils.label_names import label_strings
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

    def decode_outputs(self, logits, features=None, label_names=None):
        """The named predictions of per-token `logits`, with TensorFlow ops:
        the serving SavedModel's outputs, and what `predict_word_labels`,
        `predict_labels` and `predict_tags` read.

        Per token: `logits`, `tag_ids` (the best tag) and `tags` (its
        name). With the sentences' `words` and `word_ids` in `features`
        (`preprocessor.pack_words`), per word, `[batch, max_words]`: a
        word's tag is the prediction at its first WordPiece, giving
        `words`, `word_tag_ids`, `word_tags` and `word_scores` (the tag's
        probability). Words cut off by truncation get tag id 0 and score
        0; positions past a sentence's last word `""`, tag id -1 and
        score 0.

        Args:
            logits: float tensor `[batch, seq, num_classes]` (any float
                dtype; the scores keep it).
            features: `None`, or a dict with `"words"` (`[batch, (words)]`
                strings) and `"word_ids"` (`[batch, seq]`).
            label_names: the tags' names; `None`: the task's
                `label_names`, or the ids as strings without names.
        """
        label_names = label_names or self.label_names
        probabilities = tf.nn.softmax(logits, axis=-1)
        tag_ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
        result = {
            "logits": logits,
            "tag_ids": tag_ids,
            "tags": label_strings(tag_ids, label_names),
        }
        if not features or "words" not in features:
            return result
        words = features["words"]
        word_ids = tf.cast(features["word_ids"], tf.int32)
        num_words = tf.cast(words.row_lengths(), tf.int32)
        max_words = tf.reduce_max(tf.concat([num_words, [0]], 0))
        batch = tf.shape(word_ids)[0]
        # Word j of row i is tagged at the position where word_ids == j.
        starts = tf.where(word_ids >= 0)  # [n, 2] (row, position)
        scatter_at = tf.stack(
            [starts[:, 0], tf.cast(tf.gather_nd(word_ids, starts), tf.int64)],
            axis=1,
        )
        in_text = tf.sequence_mask(num_words, max_words)
        shape = tf.cast(tf.stack([batch, max_words]), tf.int64)
        word_tag_ids = tf.tensor_scatter_nd_update(
            tf.where(in_text, 0, -1),
            scatter_at,
            tf.gather_nd(tag_ids, starts),
        )
        word_scores = tf.tensor_scatter_nd_update(
            tf.zeros(shape, probabilities.dtype),
            scatter_at,
            tf.gather_nd(tf.reduce_max(probabilities, axis=-1), starts),
        )
        result.update(
            {
                "words": words.to_tensor(default_value="", shape=shape),
                "word_tag_ids": word_tag_ids,
                "word_tags": tf.where(
                    in_text,
                    label_strings(tf.maximum(word_tag_ids, 0), label_names),
                    "",
                ),
                "word_scores": word_scores,
            }
        )
        return result

    def _decode_words(self, sentences, batch_size, method):
        """`decode_outputs` of `sentences` (lists of words), per batch:
        NumPy `word_tag_ids`, `word_tags` (strings) and `word_scores`
        (float64), each a list with one `[num_words]` row per sentence."""
        if self.preprocessor is None:
            raise ValueError(
                f"`{method}()` needs a preprocessor to tokenize words."
            )
        names = tuple(self.label_names) if self.label_names else None
        sentences = [list(s) for s in sentences]
        rows = {"word_tag_ids": [], "word_tags": [], "word_scores": []}
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            check_text_input(chunk, self.preprocessor)
            words = tf.ragged.constant(chunk, dtype=tf.string)
            # One tokenization for the model's inputs and the word ids.
            x = self.preprocessor.pack_words(words)
            word_ids = keras.ops.convert_to_numpy(x.pop("word_ids"))
            logits = np.asarray(self.predict_on_batch(x), "float64")
            decoded = call_owned_in_graph(
                self,
                "decode_words",
                self.decode_outputs,
                logits,
                {"words": words, "word_ids": word_ids},
                names,
            )
            for key, values in rows.items():
                array = decoded[key].numpy()
                values.extend(
                    row[: len(sentence)] for row, sentence in zip(array, chunk)
                )
        return rows

    def predict_word_labels(self, sentences, batch_size=32):
        """Label id of every word: the prediction at its first WordPiece
        (`decode_outputs`' `word_tag_ids`).

        Words cut off by truncation get label 0.

        Args:
            sentences: list of lists of words.

        Returns:
            A list (one per sentence) of lists of label ids.
        """
        rows = self._decode_words(sentences, batch_size, "predict_word_labels")
        return [[int(i) for i in row] for row in rows["word_tag_ids"]]

    def predict_labels(self, sentences, batch_size=32):
        """Every word's label and its probability, at its first WordPiece
        (`decode_outputs`' `word_tags` and `word_scores`, in float64).

        The token-level analogue of `ElectraClassifier.predict_labels`.

        Args:
            sentences: a list of lists of words.

        Returns:
            One list per sentence of one `(label, probability)` per word.
            Labels are `label_names`, or the label ids as strings (`"0"`,
            `"1"`, ...) without names. Words cut off by truncation get
            label id 0 with probability `nan`.
        """
        rows = self._decode_words(sentences, batch_size, "predict_labels")
        return [
            [
                # A tag's probability is above 0; 0: the word was cut off.
                (tag.decode(), float(score) if score > 0 else float("nan"))
                for tag, score in zip(tags, scores)
            ]
            for tags, scores in zip(rows["word_tags"], rows["word_scores"])
        ]

    def predict_tags(self, sentences, batch_size=32):
        """Tag strings (from `label_names`) of every word of `sentences`
        (`decode_outputs`' `word_tags`)."""
        if not self.label_names:
            raise ValueError(
                "`predict_tags()` needs `label_names`; use "
                "`predict_word_labels()` for label ids."
            )
        rows = self._decode_words(sentences, batch_size, "predict_tags")
        return [[tag.decode() for tag in row] for row in rows["word_tags"]]

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
