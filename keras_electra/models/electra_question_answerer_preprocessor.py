import dataclasses
import warnings

import keras
import numpy as np
from keras_hub.models import Preprocessor
import tensorflow as tf

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_tokenizer import ElectraTokenizer
from keras_electra.models.sequence_length import DynamicPaddingMixin
from keras_electra.utils.padding import bucketed_length
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import TextInputMixin


@dataclasses.dataclass
class QuestionAnsweringFeatures:
    """Model inputs for a batch of (question, context) examples.

    A context longer than the window is split into several overlapping
    windows ("features"); these arrays have one row per window.

    Attributes:
        x: dict of `token_ids`, `segment_ids`, `padding_mask`, `[n, seq]`.
        y: `[n, 2]` gold (start, end) token positions, or `None` without
            answers; `(0, 0)` (the `[CLS]` token) marks "no answer in this
            window".
        example_index: `[n]`, the example each window belongs to.
        offsets: `[n, seq, 2]` character span in the context of each token;
            -1 for the question, special tokens and padding.
        max_context: `[n, seq]` whether this window gives the token its
            most context (Google's `_check_is_max_context`).
        contexts: the context strings, one per example.
        skipped: indices of examples dropped because their answer could not
            be found in the context (training only).
    """

    x: dict
    y: object
    example_index: np.ndarray
    offsets: np.ndarray
    max_context: np.ndarray
    contexts: list
    skipped: list


def _answer_span(answer):
    """(char_start, text) of an answer, or None for "no answer"."""
    if answer is None:
        return None
    if isinstance(answer, (list, tuple)):  # SQuAD's list of gold answers
        return _answer_span(answer[0]) if answer else None
    text = answer.get("text", "")
    if not text:
        return None
    if "answer_start" not in answer:
        raise ValueError(
            "An answer needs `answer_start` (its character offset in the "
            f"context) as well as `text`. Received: {answer!r}"
        )
    return int(answer["answer_start"]), text


def _max_context(spans, span_index, position):
    """Google's `_check_is_max_context` for one token of one window."""
    best_score, best_index = None, None
    for index, (start, length) in enumerate(spans):
        end = start + length - 1
        if position < start or position > end:
            continue
        score = min(position - start, end - position) + 0.01 * length
        if best_score is None or score > best_score:
            best_score, best_index = score, index
    return span_index == best_index


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraQuestionAnswererPreprocessor(
    TextInputMixin,
    DynamicPaddingMixin,
    PresetResolvingMixin,
    Preprocessor,
):
    """Question/context preprocessing for span question answering (SQuAD).

    Follows Google's `qa_tasks.py` (and BERT's `run_squad.py`): the question
    is cut to `max_query_length` tokens; the context is split into windows
    of at most `sequence_length - len(question) - 3` tokens, starting every
    `doc_stride` tokens; each window becomes
    `[CLS] question [SEP] context window [SEP]` with segment ids 0 then 1.
    For training, the answer's characters are mapped to the first and last
    context tokens they overlap; windows that do not contain the whole
    answer (and unanswerable questions, SQuAD 2.0) are labelled `(0, 0)`,
    the `[CLS]` token.

    Every context token keeps its character offsets (see
    `ElectraTokenizer.tokenize_with_offsets`), so predicted spans map
    back to the exact context text.

    This work (one example -> several windows) runs in Python:
    `featurize()` returns `QuestionAnsweringFeatures`. Calling the layer on
    a `(questions, contexts)` tuple does the same eagerly; called on an
    already featurized dict (`token_ids`, ...) it passes it through, so a
    model with this preprocessor can `fit` on featurized arrays.

    Args:
        tokenizer: A `keras_electra.ElectraTokenizer`.
        sequence_length: int. Window length (Google: 512; BERT: 384).
        doc_stride: int. Tokens between window starts (Google: 128).
        max_query_length: int. Question tokens kept (Google: 64).

    Example:
    ```python
    preprocessor = ElectraQuestionAnswererPreprocessor(tokenizer, 384)
    features = preprocessor.featurize(
        ["Who wrote it?"], ["It was written by Ada."],
        answers=[{"text": "Ada", "answer_start": 18}],
    )
    features.x["token_ids"].shape  # (1, 384)
    features.y  # [[start, end]] token positions of "Ada"
    ```
    """

    backbone_cls = ElectraBackbone
    tokenizer_cls = ElectraTokenizer

    def __init__(
        self,
        tokenizer,
        sequence_length=512,
        doc_stride=128,
        max_query_length=64,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.doc_stride = doc_stride
        self.max_query_length = max_query_length
        if doc_stride < 1:
            raise ValueError(f"`doc_stride` must be >= 1. Received: {doc_stride}")

    def build(self, input_shape):
        # Nothing to build: windows are made in Python (`featurize`).
        self.built = True

    @property
    def offset_tokenizer(self):
        """The tokenizer's Python offsets (`ElectraTokenizer.python_offsets`)."""
        return self.tokenizer.python_offsets()

    def _windows(self, num_tokens, max_tokens):
        """Google's sliding windows: (start, length) pairs."""
        spans, start = [], 0
        while start < num_tokens:
            length = min(num_tokens - start, max_tokens)
            spans.append((start, length))
            if start + length == num_tokens:
                break
            start += min(length, self.doc_stride)
        return spans or [(0, 0)]

    @staticmethod
    def _token_span(offsets, char_start, char_end):
        """First and last context token overlapping [char_start, char_end)."""
        inside = [
            i
            for i, (s, e) in enumerate(offsets)
            if e > char_start and s < char_end
        ]
        if not inside:
            return None
        return inside[0], inside[-1]

    def featurize(self, questions, contexts, answers=None):
        """Windows, labels and offsets for a batch of examples.

        Args:
            questions: list of question strings.
            contexts: list of context strings (same length).
            answers: optional list, one per example, of `{"text",
                "answer_start"}` dicts (or SQuAD lists of them; the first is
                used); `None` or `{"text": ""}` means unanswerable (SQuAD 2.0).

        Returns:
            `QuestionAnsweringFeatures`.
        """
        questions, contexts = list(questions), list(contexts)
        if len(questions) != len(contexts):
            raise ValueError(
                f"Got {len(questions)} questions but {len(contexts)} contexts."
            )
        if answers is not None and len(answers) != len(questions):
            raise ValueError(
                f"Got {len(answers)} answers for {len(questions)} questions."
            )
        cls_id = self.tokenizer.cls_token_id
        sep_id = self.tokenizer.sep_token_id
        pad_id = self.tokenizer.pad_token_id
        seq = self.sequence_length
        rows = {"token_ids": [], "segment_ids": [], "padding_mask": []}
        labels, example_index, all_offsets, max_context, skipped = (
            [], [], [], [], []
        )
        for i, (question, context) in enumerate(zip(questions, contexts)):
            tokenize = self.tokenizer.tokenize_with_offsets
            question_ids = tokenize(question)[0][: self.max_query_length]
            context_ids, starts, ends = tokenize(context)
            context_offsets = list(zip(starts, ends))
            max_tokens = seq - len(question_ids) - 3
            if max_tokens < 1:
                raise ValueError(
                    f"`sequence_length` {seq} leaves no room for the context "
                    f"after a {len(question_ids)}-token question; raise it or "
                    "lower `max_query_length`."
                )
            answer_tokens = None
            if answers is not None:
                span = _answer_span(answers[i])
                if span is not None:
                    char_start, text = span
                    found = context[char_start : char_start + len(text)]
                    if " ".join(found.lower().split()) != " ".join(
                        text.lower().split()
                    ):
                        skipped.append(i)
                        continue
                    answer_tokens = self._token_span(
                        context_offsets, char_start, char_start + len(text)
                    )
                    if answer_tokens is None:
                        skipped.append(i)
                        continue
            spans = self._windows(len(context_ids), max_tokens)
            doc_offset = len(question_ids) + 2
            for w, (start, length) in enumerate(spans):
                ids = [cls_id] + question_ids + [sep_id]
                ids += context_ids[start : start + length] + [sep_id]
                segments = [0] * doc_offset + [1] * (length + 1)
                offsets = np.full((seq, 2), -1, "int64")
                if length:  # An empty context has no token offsets.
                    offsets[doc_offset : doc_offset + length] = (
                        context_offsets[start : start + length]
                    )
                best = np.zeros(seq, bool)
                for t in range(length):
                    best[doc_offset + t] = _max_context(spans, w, start + t)
                pad = seq - len(ids)
                rows["token_ids"].append(ids + [pad_id] * pad)
                rows["segment_ids"].append(segments + [0] * pad)
                rows["padding_mask"].append([1] * len(ids) + [0] * pad)
                all_offsets.append(offsets)
                max_context.append(best)
                example_index.append(i)
                if answers is not None:
                    label = (0, 0)
                    if answer_tokens is not None:
                        first, last = answer_tokens
                        if first >= start and last < start + length:
                            label = (
                                first - start + doc_offset,
                                last - start + doc_offset,
                            )
                    labels.append(label)
        if skipped:
            warnings.warn(
                f"{len(skipped)} example(s) skipped: their answer text is not "
                "at `answer_start` in the context (examples "
                f"{skipped[:10]}{'...' if len(skipped) > 10 else ''}).",
                stacklevel=2,
            )
        x = {
            key: np.asarray(value, "int32").reshape(-1, seq)
            for key, value in rows.items()
        }
        offsets = np.asarray(all_offsets, "int64").reshape(-1, seq, 2)
        max_context = np.asarray(max_context, bool).reshape(-1, seq)
        if self.padding == "longest":
            # Every window cut to the longest one's bucket.
            length = bucketed_length(
                x["padding_mask"], self.pad_to_multiple_of, seq
            )
            x = {key: value[:, :length] for key, value in x.items()}
            offsets = offsets[:, :length]
            max_context = max_context[:, :length]
        return QuestionAnsweringFeatures(
            x=x,
            y=np.asarray(labels, "int32").reshape(-1, 2)
            if answers is not None
            else None,
            example_index=np.asarray(example_index, "int64"),
            offsets=offsets,
            max_context=max_context,
            contexts=contexts,
            skipped=skipped,
        )

    def call(self, x, y=None, sample_weight=None):
        if tf is not None and not tf.executing_eagerly():
            raise ValueError(
                "Question-answering preprocessing splits contexts into "
                "windows in Python and cannot run inside `tf.data`. Call "
                "`preprocessor.featurize(questions, contexts, answers)` and "
                "train on `features.x`, `features.y`."
            )
        if not (isinstance(x, tuple) and len(x) == 2):
            raise ValueError(
                "Pass `(questions, contexts)`: a tuple of two lists of "
                "strings."
            )
        features = self.featurize(x[0], x[1], answers=y)
        return keras.utils.pack_x_y_sample_weight(features.x, features.y)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "doc_stride": self.doc_stride,
                "max_query_length": self.max_query_length,
            }
        )
        return config
