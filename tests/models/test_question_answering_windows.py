"""Question answering's windows, made once in TensorFlow ops
(`ElectraQuestionAnswererPreprocessor.windows`): `featurize` against
Google's rules written out in Python here, and the SavedModel's in-graph
`first_windows` against `featurize`'s first window."""

import numpy as np
import pytest

from keras_electra import ElectraQuestionAnswererPreprocessor
from keras_electra import ElectraTokenizer
from tests.conftest import VOCAB_PATH

QUESTIONS = [
    "Who sät on the mät?",
    "what",
    "a very long question " * 10,  # cut to `max_query_length`
    "",
    "Where is Straße über naïve?",
    "the",
]
CONTEXTS = [
    "Thé cät sät on the mät.",
    "",  # one window, no context token
    "The quick brown fox jumped over the lazy dog. " * 12,  # many windows
    "Héllo, wörld! (1895-1943) naïve café—costs $5.50; e-mail: a@b.c",
    "Father Julius Nieuwland's neoprene; U.S.A. 3.14% über-Straße " * 3,
    "a",
]
# (sequence_length, doc_stride, max_query_length)
SETTINGS = [(32, 8, 6), (24, 3, 4), (64, 128, 64), (20, 1, 2)]


@pytest.fixture(scope="module")
def tokenizer():
    with open(VOCAB_PATH, encoding="utf-8") as f:
        vocabulary = [line.rstrip("\n") for line in f]
    return ElectraTokenizer(vocabulary=vocabulary)


def google_windows(tokenizer, question, context, seq, stride, max_query):
    """Google's `qa_tasks.py` windows of one example, one dict per window."""
    question_ids = tokenizer.tokenize_with_offsets(question)[0][:max_query]
    ids, starts, ends = tokenizer.tokenize_with_offsets(context)
    max_tokens = seq - len(question_ids) - 3
    spans, start = [], 0
    while start < len(ids):
        length = min(len(ids) - start, max_tokens)
        spans.append((start, length))
        if start + length == len(ids):
            break
        start += min(length, stride)
    spans = spans or [(0, 0)]

    def is_max_context(index, position):
        best_score, best_index = None, None
        for j, (start, length) in enumerate(spans):
            end = start + length - 1
            if start <= position <= end:
                score = min(position - start, end - position) + 0.01 * length
                if best_score is None or score > best_score:
                    best_score, best_index = score, j
        return best_index == index

    windows = []
    for index, (start, length) in enumerate(spans):
        context_ids = ids[start : start + length]
        cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
        tokens = [cls] + question_ids + [sep] + context_ids + [sep]
        doc = len(question_ids) + 2
        window = {
            "token_ids": tokens,
            "segment_ids": [0] * doc + [1] * (length + 1),
            "offsets": [(-1, -1)] * doc
            + list(zip(starts, ends))[start : start + length]
            + [(-1, -1)],
            "max_context": [False] * doc
            + [is_max_context(index, start + t) for t in range(length)]
            + [False],
        }
        windows.append(window)
    return windows


@pytest.mark.parametrize("seq,stride,max_query", SETTINGS)
def test_featurize_makes_googles_windows(tokenizer, seq, stride, max_query):
    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer,
        sequence_length=seq,
        doc_stride=stride,
        max_query_length=max_query,
        padding="max_length",
    )
    features = preprocessor.featurize(QUESTIONS, CONTEXTS)
    expected = [
        (example, window)
        for example, (q, c) in enumerate(zip(QUESTIONS, CONTEXTS))
        for window in google_windows(tokenizer, q, c, seq, stride, max_query)
    ]
    assert features.example_index.tolist() == [e for e, _ in expected]
    assert len(expected) > len(QUESTIONS) + 5  # long contexts slide
    for row, (_, window) in enumerate(expected):
        n = len(window["token_ids"])
        assert features.x["token_ids"][row].tolist() == (
            window["token_ids"] + [tokenizer.pad_token_id] * (seq - n)
        )
        assert features.x["segment_ids"][row].tolist() == (
            window["segment_ids"] + [0] * (seq - n)
        )
        assert features.x["padding_mask"][row].tolist() == [1] * n + [0] * (
            seq - n
        )
        assert [tuple(o) for o in features.offsets[row]] == (
            window["offsets"] + [(-1, -1)] * (seq - n)
        )
        assert features.max_context[row].tolist() == (
            window["max_context"] + [False] * (seq - n)
        )


@pytest.mark.parametrize("padding", ["longest", "max_length"])
def test_first_windows_in_a_graph_equal_featurize(tokenizer, padding):
    import tensorflow as tf

    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer,
        sequence_length=32,
        doc_stride=8,
        max_query_length=6,
        padding=padding,
    )
    graph = tf.function(preprocessor.first_windows, autograph=False)
    served = graph(tf.constant(QUESTIONS), tf.constant(CONTEXTS))
    features = preprocessor.featurize(QUESTIONS, CONTEXTS)
    first = np.unique(features.example_index, return_index=True)[1]
    width = served["token_ids"].shape[1]
    if padding == "max_length":
        assert width == 32
    else:  # the bucket of the first windows, which the long one fills
        assert width == features.x["token_ids"].shape[1] == 32
    for key in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(served[key], features.x[key][first])
    np.testing.assert_array_equal(
        served["max_context"], features.max_context[first]
    )
    # The same spans, in bytes of the UTF-8 context.
    for i, context in enumerate(CONTEXTS):
        chars = features.offsets[first[i]]
        in_bytes = [
            len(context[:c].encode("utf-8")) if c >= 0 else -1
            for c in chars.reshape(-1)
        ]
        np.testing.assert_array_equal(
            np.stack([served["start_offsets"][i], served["end_offsets"][i]], -1),
            np.reshape(in_bytes, chars.shape),
        )
    # Short examples only: the served batch is cut to their bucket.
    short = graph(tf.constant(QUESTIONS[:2]), tf.constant(CONTEXTS[:2]))
    assert short["token_ids"].shape[1] == (16 if padding == "longest" else 32)


def test_a_question_without_room_for_context_raises(tokenizer):
    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer, sequence_length=8, max_query_length=64
    )
    with pytest.raises(ValueError, match="no room for the context"):
        preprocessor.featurize(["a b c d e"], ["x"])
    # Four question tokens fit (with [CLS], [SEP], one context token, [SEP]).
    assert preprocessor.featurize(["a b c d"], [""]).x["token_ids"].shape == (
        1,
        8,
    )


def test_first_windows_keep_the_tokenizers_ids_without_offsets(tokenizer):
    # In a string tensor, these control and format characters make
    # `tokenize_with_offsets` split words otherwise than the tokenizer: the
    # window keeps the tokenizer's ids (as `featurize`) and has no offsets.
    import tensorflow as tf

    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer, sequence_length=32, max_query_length=6
    )
    contexts = ["foo\x00bar baz", "play\u200bground x\x1fy", "the cat sat"]
    questions = ["what?"] * 3
    served = tf.function(preprocessor.first_windows, autograph=False)(
        tf.constant(questions), tf.constant(contexts)
    )
    features = preprocessor.featurize(questions, contexts)
    np.testing.assert_array_equal(served["token_ids"], features.x["token_ids"])
    assert (served["start_offsets"][:2] == -1).numpy().all()
    assert (served["end_offsets"][:2] == -1).numpy().all()
    np.testing.assert_array_equal(
        served["start_offsets"][2], features.offsets[2, :, 0]
    )
