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
from keras_electra.utils.padding import cut_to_length
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import TextInputMixin

# Examples packed by one call of `windows` in `featurize` (its
# `max_context` search is `[windows, sequence_length, windows per example]`).
_EXAMPLES_PER_CALL = 256
# The `windows` outputs that run along the sequence.
_SEQUENCE_FEATURES = (
    "token_ids",
    "segment_ids",
    "padding_mask",
    "start_offsets",
    "end_offsets",
    "token_index",
    "max_context",
)


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


def _ragged(rows, dtype):
    """A ragged tensor `[batch, (n)]` of Python lists of lists (or a ragged
    tensor), as `dtype`."""
    if isinstance(rows, tf.RaggedTensor):
        return tf.cast(rows, dtype)
    flat = [value for row in rows for value in row]
    return tf.RaggedTensor.from_row_lengths(
        tf.constant(flat, dtype, shape=[len(flat)]),
        tf.constant([len(row) for row in rows], tf.int64, shape=[len(rows)]),
    )


def _gather_ragged(values, rows, columns, valid):
    """`values[rows, columns]` of a ragged tensor where `valid`, else 0."""
    flat = tf.concat([values.flat_values, tf.zeros([1], values.dtype)], 0)
    index = tf.gather(values.row_starts(), rows) + tf.cast(columns, tf.int64)
    index = tf.where(valid, index, tf.shape(flat, out_type=tf.int64)[0] - 1)
    return tf.gather(flat, index)


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

    Every context token keeps its offsets in the context (see
    `ElectraTokenizer.tokenize_with_offsets`), so predicted spans map
    back to the exact context text.

    The windows are made once, in TensorFlow ops (`windows`): eagerly by
    `featurize()`, which returns `QuestionAnsweringFeatures` (one example
    -> several windows, with labels) as NumPy arrays, and inside the
    SavedModel's serving graph by `first_windows`. Calling the layer on a
    `(questions, contexts)` tuple featurizes eagerly; called on an already
    featurized dict (`token_ids`, ...) it passes it through, so a model
    with this preprocessor can `fit` on featurized arrays.

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
    features.x["token_ids"].shape  # (1, 16): cut to the bucket
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
        # Nothing to build: `windows` packs with the tokenizer's ops.
        self.built = True

    def windows(self, questions, contexts, first_only=False,
                sequence_length=None):
        """Google's sliding windows of (question, context) examples, in
        TensorFlow ops (eager, or inside a graph such as a SavedModel's).

        Args:
            questions, contexts: lists of Python strings (character
                offsets) or string tensors `[batch]` (byte offsets); see
                `ElectraTokenizer.tokenize_with_offsets`.
            first_only: bool. Only each example's first window.
            sequence_length: int. Window length; defaults to
                `self.sequence_length`.

        Returns:
            A dict of tensors, one row per window (examples in order, each
            one's windows in order), `sequence_length` wide: `token_ids`,
            `segment_ids`, `padding_mask` (int32), `start_offsets`,
            `end_offsets` (int64; the token's span in its context; -1
            outside the context, and in a string tensor's context whose
            offsets do not line up with the tokenizer's ids, see
            `ElectraTokenizer.tokenize_with_offsets`), `token_index`
            (int32; the token's index among its context's tokens, -1
            outside the context),
            `max_context` (bool; Google's `_check_is_max_context`) and
            `example_index` `[windows]` (int64). A question that leaves no
            room for context raises `InvalidArgumentError`.
        """
        seq = int(sequence_length or self.sequence_length)
        tokenizer = self.tokenizer
        question_ids = _ragged(tokenizer.tokenize(questions), tf.int32)
        question_ids = question_ids[:, : self.max_query_length]
        context_ids = _ragged(tokenizer.tokenize(contexts), tf.int32)
        starts, ends = self._context_offsets(contexts, context_ids)

        question_length = tf.cast(question_ids.row_lengths(), tf.int32)
        num_tokens = tf.cast(context_ids.row_lengths(), tf.int32)
        max_tokens = seq - question_length - 3
        with tf.control_dependencies([
            tf.debugging.assert_positive(
                max_tokens,
                message=f"`sequence_length` {seq} leaves no room for the "
                "context after the question; raise it or lower "
                "`max_query_length`.",
            )
        ]):
            # Windows start every `stride` tokens, until one reaches the
            # end; an empty context has one empty window.
            stride = tf.minimum(max_tokens, self.doc_stride)
        beyond_first = tf.maximum(num_tokens - max_tokens, 0)
        num_windows = 1 + (beyond_first + stride - 1) // stride
        counts = tf.ones_like(num_windows) if first_only else num_windows

        example = tf.repeat(tf.range(tf.size(counts)), counts)  # [n]
        window = tf.ragged.range(counts).flat_values  # [n]
        stride_of = tf.gather(stride, example)
        max_of = tf.gather(max_tokens, example)
        window_start = window * stride_of
        window_length = tf.minimum(
            tf.gather(num_tokens, example) - window_start, max_of
        )
        positions = tf.range(seq)[None, :]
        question_end = tf.gather(question_length, example)[:, None] + 1
        piece = positions - question_end - 1  # index in the context window
        in_question = (positions >= 1) & (positions < question_end)
        in_context = (piece >= 0) & (piece < window_length[:, None])
        window_end = question_end + 1 + window_length[:, None]  # its [SEP]
        padding_mask = positions <= window_end
        token_index = tf.where(in_context, window_start[:, None] + piece, -1)
        rows = tf.broadcast_to(example[:, None], tf.shape(piece))
        token_ids = tf.where(
            in_question,
            _gather_ragged(question_ids, rows, positions - 1, in_question),
            tf.where(
                in_context,
                _gather_ragged(context_ids, rows, token_index, in_context),
                tf.where(
                    (positions == question_end) | (positions == window_end),
                    tokenizer.sep_token_id,
                    tokenizer.pad_token_id,
                ),
            ),
        )
        token_ids = tf.where(positions == 0, tokenizer.cls_token_id, token_ids)

        def offsets(values):
            gathered = _gather_ragged(values, rows, token_index, in_context)
            return tf.where(in_context, gathered, tf.constant(-1, tf.int64))

        # Google's `_check_is_max_context`: of the windows holding a token,
        # the one where it has the most context on its shorter side (+ 0.01
        # per window token); the first such window on ties.
        all_windows = tf.range(tf.reduce_max(tf.concat([num_windows, [1]], 0)))
        starts_all = all_windows[None, :] * stride_of[:, None]  # [n, m]
        lengths_all = tf.minimum(
            tf.gather(num_tokens, example)[:, None] - starts_all,
            max_of[:, None],
        )
        real = all_windows[None, :] < tf.gather(num_windows, example)[:, None]
        token = token_index[:, :, None]
        start_all, length_all = starts_all[:, None], lengths_all[:, None]
        holds = (
            real[:, None]
            & (token >= start_all)
            & (token < start_all + length_all)
        )
        score = tf.cast(
            tf.minimum(token - start_all, start_all + length_all - 1 - token),
            tf.float64,
        ) + 0.01 * tf.cast(length_all, tf.float64)
        score = tf.where(holds, score, -np.inf)
        best = tf.reduce_min(
            tf.where(
                score == tf.reduce_max(score, axis=-1, keepdims=True),
                all_windows[None, None, :],
                tf.int32.max,
            ),
            axis=-1,
        )
        return {
            "token_ids": token_ids,
            "segment_ids": tf.cast(
                (positions > question_end) & padding_mask, tf.int32
            ),
            "padding_mask": tf.cast(padding_mask, tf.int32),
            "start_offsets": offsets(starts),
            "end_offsets": offsets(ends),
            "token_index": token_index,
            "max_context": in_context & (best == window[:, None]),
            "example_index": tf.cast(example, tf.int64),
        }

    def _context_offsets(self, contexts, context_ids):
        """`(starts, ends)` ragged like `context_ids`: the tokens' offsets
        (`ElectraTokenizer.tokenize_with_offsets`), or -1 in a context
        where those come with other ids than the tokenizer's (string
        tensors whose normalization merges or splits words)."""
        offset_ids, starts, ends = self.tokenizer.tokenize_with_offsets(
            contexts
        )
        offset_ids = _ragged(offset_ids, tf.int32)
        lengths = context_ids.row_lengths()
        width = tf.reduce_max(
            tf.concat([lengths, offset_ids.row_lengths(), [0]], 0)
        )
        shape = tf.stack([context_ids.nrows(), width])
        aligned = tf.reduce_all(
            offset_ids.to_tensor(-1, shape=shape)
            == context_ids.to_tensor(-1, shape=shape),
            axis=1,
        )

        def aligned_only(values):
            dense = _ragged(values, tf.int64).to_tensor(-1, shape=shape)
            dense = tf.where(
                aligned[:, None], dense, tf.constant(-1, tf.int64)
            )
            return tf.RaggedTensor.from_tensor(dense, lengths=lengths)

        return aligned_only(starts), aligned_only(ends)

    def cut_windows(self, windows, sequence_length=None):
        """`windows` (NumPy or tensors, in a graph too) cut to the longest
        window's bucket with `padding="longest"`, as `featurize` cuts."""
        if self.padding != "longest":
            return windows
        length = bucketed_length(
            windows["padding_mask"],
            self.pad_to_multiple_of,
            int(sequence_length or self.sequence_length),
        )
        return {
            key: cut_to_length(value, length)
            if key in _SEQUENCE_FEATURES
            else value
            for key, value in windows.items()
        }

    def first_windows(self, questions, contexts, sequence_length=None):
        """Each example's first window (`windows(..., first_only=True)`,
        cut as `featurize` cuts): what the SavedModel answers from, for
        string tensors `[batch]` inside its graph (byte offsets)."""
        windows = self.windows(
            questions, contexts, first_only=True,
            sequence_length=sequence_length,
        )
        return self.cut_windows(windows, sequence_length)

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
        # The answers' character spans; an answer that is not at its
        # `answer_start` skips its example.
        answer_spans, skipped = {}, set()
        for i, answer in enumerate(answers or ()):
            span = _answer_span(answer)
            if span is None:
                continue
            char_start, text = span
            found = contexts[i][char_start : char_start + len(text)]
            if found.lower().split() != text.lower().split():
                skipped.add(i)
            else:
                answer_spans[i] = (char_start, char_start + len(text))

        parts = []
        for begin in range(0, max(len(questions), 1), _EXAMPLES_PER_CALL):
            end = begin + _EXAMPLES_PER_CALL
            try:
                part = self.windows(questions[begin:end], contexts[begin:end])
            except tf.errors.InvalidArgumentError as error:
                raise ValueError(error.message.split("\n")[0]) from None
            part = {key: value.numpy() for key, value in part.items()}
            part["example_index"] += begin
            parts.append(part)
        w = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

        example_index = w["example_index"]
        token_index = w["token_index"]
        labels = np.zeros((len(example_index), 2), "int32")
        bounds = np.searchsorted(example_index, np.arange(len(questions) + 1))
        for i, (char_start, char_end) in answer_spans.items():
            rows = slice(bounds[i], bounds[i + 1])
            # The first and last context tokens the answer overlaps.
            overlap = (
                (token_index[rows] >= 0)
                & (w["end_offsets"][rows] > char_start)
                & (w["start_offsets"][rows] < char_end)
            )
            if not overlap.any():
                skipped.add(i)
                continue
            first = token_index[rows][overlap].min()
            last = token_index[rows][overlap].max()
            for row in range(bounds[i], bounds[i + 1]):
                start = np.flatnonzero(token_index[row] == first)
                end = np.flatnonzero(token_index[row] == last)
                if len(start) and len(end):  # the whole answer is inside
                    labels[row] = (start[0], end[0])
        skipped = sorted(skipped)
        if skipped:
            warnings.warn(
                f"{len(skipped)} example(s) skipped: their answer text is not "
                "at `answer_start` in the context (examples "
                f"{skipped[:10]}{'...' if len(skipped) > 10 else ''}).",
                stacklevel=2,
            )
            keep = ~np.isin(example_index, skipped)
            w = {key: value[keep] for key, value in w.items()}
            labels = labels[keep]
        w = self.cut_windows(w)
        return QuestionAnsweringFeatures(
            x={
                key: w[key]
                for key in ("token_ids", "segment_ids", "padding_mask")
            },
            y=labels if answers is not None else None,
            example_index=w["example_index"],
            offsets=np.stack([w["start_offsets"], w["end_offsets"]], axis=-1),
            max_context=w["max_context"],
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
