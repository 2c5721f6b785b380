import keras
import numpy as np
from keras import ops
from keras_hub.models import Task
import tensorflow as tf

from keras_electra.metrics.squad import read_squad
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_question_answerer_preprocessor import (
    ElectraQuestionAnswererPreprocessor,
)
from keras_electra.models.electra_task_export import ServingExportMixin
from keras_electra.models.electra_task_quantization import (
    QuantizationMixin,
)
from keras_electra.models.in_memory_predict import InMemoryPredictMixin
from keras_electra.models.qa_decoding import best_spans
from keras_electra.models.qa_decoding import decode_answers
from keras_electra.models.sequence_length import clamp_sequence_length
from keras_electra.optimizers.optimization import create_optimizer
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.initializers import electra_kernel_initializer
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


def _is_raw(x):
    return isinstance(x, tuple) and len(x) == 2 and not isinstance(x[0], dict)


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraQuestionAnswerer(
    ServingExportMixin,
    QuantizationMixin,
    PresetResolvingMixin,
    InMemoryPredictMixin,
    InputValidatingMixin,
    OptimizerBuildMixin,
    Task,
):
    """ELECTRA for extractive question answering (SQuAD 1.1 and 2.0).

    The backbone followed by a dense layer with two outputs per token
    (transformers' `ElectraForQuestionAnswering.qa_outputs`): the logits
    that the answer starts and ends there. The model outputs
    `[batch, 2, seq]` (`[:, 0]` start, `[:, 1]` end), so the default loss,
    sparse categorical cross-entropy against `y = [[start, end], ...]`, is
    the mean of the start and end losses as in transformers and Google.

    Google's ELECTRA also reports SQuAD results with a larger head (a
    joint start/end beam search and an answerability classifier); this is
    the standard span head that transformers checkpoints use.

    `fit((questions, contexts), answers)` featurizes raw examples first
    (windows, labels); `answer(questions, contexts)` predicts answer texts
    with n-best span search and, for SQuAD 2.0, the no-answer threshold.

    Args:
        backbone: A `keras_electra.ElectraBackbone`.
        preprocessor: A `keras_electra.ElectraQuestionAnswererPreprocessor`
            or `None`.

    Example:
    ```python
    qa = keras_electra.ElectraQuestionAnswerer.from_preset(
        "electra_small_discriminator_en"
    )
    qa.fit((["Who wrote it?"], ["Ada wrote it."]),
           [{"text": "Ada", "answer_start": 0}])
    qa.answer(["Who wrote it?"], ["Ada wrote it."])[0]["text"]
    ```
    """

    backbone_cls = ElectraBackbone
    preprocessor_cls = ElectraQuestionAnswererPreprocessor
    per_token_outputs = True
    graph_preprocessing = False

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        clamp_sequence_length(preprocessor, backbone)
        self.span_head = keras.layers.Dense(
            2,
            kernel_initializer=electra_kernel_initializer(),
            dtype=backbone.dtype_policy,
            name="span_head",
        )
        self.span_transpose = keras.layers.Permute(
            (2, 1), dtype=backbone.dtype_policy, name="span_transpose"
        )

        # === Functional Model ===
        inputs = backbone.input
        x = backbone(inputs)
        outputs = self.span_transpose(self.span_head(x))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto",
                **kwargs):
        """Google's optimizer and the mean start/end cross-entropy."""
        if optimizer == "auto":
            optimizer = create_optimizer(self)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = None
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics,
                        **kwargs)

    def decode_outputs(self, logits, features, max_answer_length=30):
        """The best answer of each window, with TensorFlow ops: the serving
        SavedModel's outputs.

        The window's context tokens (segment 1, less its closing `[SEP]`)
        are every span's start and end candidates; the best span is
        `qa_decoding.best_spans`' (the search `answer` runs: `start_logit +
        end_logit`, end not before start, at most `max_answer_length`
        tokens). Outputs, `[batch]`: `start_index`, `end_index` (0 without
        a span), `score`, `null_score_diff` (`[CLS]` score minus best
        score; SQuAD 2.0 predicts "no answer" above a tuned threshold),
        and `start_logits`, `end_logits` `[batch, seq]`. With the windows'
        `contexts` and byte `start_offsets`/`end_offsets` in `features`
        (`preprocessor.first_windows`): `answer`, the span's exact
        substring of the context (`""` without a span; the span's
        WordPiece text where the context has no offsets).

        Args:
            logits: float tensor `[batch, 2, seq]` (start, end).
            features: the packed window, a dict with `"token_ids"`,
                `"segment_ids"`, `"padding_mask"` and optionally
                `"contexts"`, `"start_offsets"`, `"end_offsets"`.
            max_answer_length: int. Longest answer, in tokens.
        """
        tokenizer = self.preprocessor.tokenizer
        start_logits, end_logits = logits[:, 0], logits[:, 1]
        token_ids = features["token_ids"]
        # The context: the second segment, less its closing [SEP].
        in_context = (
            (features["segment_ids"] == 1)
            & (features["padding_mask"] > 0)
            & (token_ids != tokenizer.sep_token_id)
        )
        scores, starts, ends, found = best_spans(
            start_logits,
            end_logits,
            in_context,
            in_context,
            max_answer_length,
            n_best_size=tf.shape(token_ids)[1],
            num_spans=1,
        )
        score, found = scores[:, 0], found[:, 0]
        start_index = tf.where(found, starts[:, 0], 0)
        end_index = tf.where(found, ends[:, 0], 0)
        null_score = start_logits[:, 0] + end_logits[:, 0]
        result = {
            "start_logits": start_logits,
            "end_logits": end_logits,
            "start_index": start_index,
            "end_index": end_index,
            "score": score,
            "null_score_diff": null_score - score,
        }
        if "contexts" in features:
            begin = tf.gather(
                features["start_offsets"], start_index, batch_dims=1
            )
            end = tf.gather(features["end_offsets"], end_index, batch_dims=1)
            exact = tf.strings.substr(
                features["contexts"],
                tf.maximum(begin, 0),
                tf.maximum(end - begin, 0),
                unit="BYTE",
            )
            # Without offsets: the WordPiece text of the span.
            span = tf.ragged.range(start_index, end_index + 1)
            pieces = tf.gather(token_ids, span, batch_dims=1)
            detokenized = tokenizer.detokenize(pieces)
            answer = tf.where(begin >= 0, exact, detokenized)
            result["answer"] = tf.where(found, answer, "")
        return result

    def _require_preprocessor(self, method):
        if self.preprocessor is None:
            raise ValueError(
                f"`{method}()` on raw text needs a preprocessor "
                "(`ElectraQuestionAnswererPreprocessor`)."
            )

    def fit(self, x=None, y=None, batch_size=None, **kwargs):
        """`fit` on featurized arrays, or on `(questions, contexts)` + answers."""
        if _is_raw(x):
            self._require_preprocessor("fit")
            features = self.preprocessor.featurize(x[0], x[1], answers=y)
            x, y = features.x, features.y
        return super().fit(x=x, y=y, batch_size=batch_size, **kwargs)

    def span_logits(self, features, batch_size=32):
        """Start and end logits `[num_windows, seq]` of featurized windows."""
        logits = self.predict(features.x, batch_size=batch_size, verbose=0)
        logits = ops.convert_to_numpy(logits)
        return logits[:, 0], logits[:, 1]

    def answer(
        self,
        questions,
        contexts,
        n_best_size=20,
        max_answer_length=30,
        version_2=False,
        null_score_diff_threshold=0.0,
        batch_size=32,
    ):
        """Predicted answers for raw questions and contexts.

        Returns one dict per question (see
        `keras_electra.models.qa_decoding.decode_answers`): `text` ("" =
        no answer with `version_2`), `score`, `n_best` and, with
        `version_2`, `null_score_diff`.
        """
        self._require_preprocessor("answer")
        single = isinstance(questions, str)
        if single:
            questions, contexts = [questions], [contexts]
        features = self.preprocessor.featurize(questions, contexts)
        if len(features.example_index) == 0:
            return [] if not single else None
        start, end = self.span_logits(features, batch_size)
        results = decode_answers(
            features,
            start,
            end,
            n_best_size=n_best_size,
            max_answer_length=max_answer_length,
            version_2=version_2,
            null_score_diff_threshold=null_score_diff_threshold,
        )
        return results[0] if single else results

    def predict_squad(self, dataset, version_2=False, **kwargs):
        """Predictions for a SQuAD JSON, ready for `metrics.squad.evaluate_*`.

        `dataset` is the JSON (a dict) or the path of the file.

        Returns `(predictions, null_score_diffs)`: dicts of question id ->
        answer text and -> no-answer score difference (SQuAD 2.0 only, else
        empty).
        """
        flat = read_squad(dataset)
        ids, questions, contexts = flat["ids"], flat["questions"], flat["contexts"]
        results = self.answer(questions, contexts, version_2=version_2,
                              **kwargs)
        predictions = {qid: r["text"] for qid, r in zip(ids, results)}
        diffs = {}
        if version_2:
            diffs = {
                qid: float(np.clip(r["null_score_diff"], -1e9, 1e9))
                for qid, r in zip(ids, results)
            }
        return predictions, diffs
