"""Packing, truncation and masking for ELECTRA, and their robustness.

Packing is checked against transformers' ElectraTokenizerFast (the
reference for `[CLS] a [SEP] b [SEP]`, segment ids and padding).
"""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from keras import ops

from keras_electra import ElectraMaskedLMPreprocessor
from keras_electra import ElectraTextClassifierPreprocessor
from keras_electra import ElectraTokenizer
from tests.conftest import VOCAB_PATH

SEQUENCE_LENGTH = 16


@pytest.fixture(scope="module")
def tokenizer():
    return ElectraTokenizer(vocabulary=VOCAB_PATH)


@pytest.fixture(scope="module")
def hf_tokenizer():
    from transformers import ElectraTokenizerFast

    with open(VOCAB_PATH, encoding="utf-8") as f:
        vocab = {line.rstrip("\n"): i for i, line in enumerate(f)}
    tokenizer = ElectraTokenizerFast(vocab=vocab, do_lower_case=True)
    assert len(tokenizer) == 30522
    return tokenizer


@pytest.fixture(scope="module")
def classifier_preprocessor(tokenizer):
    return ElectraTextClassifierPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )


def numpy_dict(x):
    return {k: ops.convert_to_numpy(v) for k, v in x.items()}


def truncate_seq_pair(tokens_a, tokens_b, max_length):
    """Google's `_truncate_seq_pair` (BERT and ELECTRA fine-tuning code).

    On a tie it shortens the second segment (transformers' Rust tokenizer
    shortens the first, so it is not the reference for truncation).
    """
    while len(tokens_a) + len(tokens_b) > max_length:
        if len(tokens_a) > len(tokens_b):
            tokens_a.pop()
        else:
            tokens_b.pop()


def reference(hf_tokenizer, first, second=None):
    """transformers' WordPiece ids, packed by Google's rules."""
    rows = {"token_ids": [], "segment_ids": [], "padding_mask": []}
    second = second or [None] * len(first)
    for a, b in zip(first, second):
        ids_a = hf_tokenizer(a, add_special_tokens=False)["input_ids"]
        ids_b = hf_tokenizer(b, add_special_tokens=False)["input_ids"] if b is not None else []
        if b is None:
            del ids_a[SEQUENCE_LENGTH - 2 :]
        else:
            truncate_seq_pair(ids_a, ids_b, SEQUENCE_LENGTH - 3)
        ids = [101] + ids_a + [102]
        segments = [0] * len(ids)
        if b is not None:
            ids += ids_b + [102]
            segments += [1] * (len(ids_b) + 1)
        pad = SEQUENCE_LENGTH - len(ids)
        rows["token_ids"].append(ids + [0] * pad)
        rows["segment_ids"].append(segments + [0] * pad)
        rows["padding_mask"].append([1] * len(ids) + [0] * pad)
    return {k: np.array(v) for k, v in rows.items()}


SINGLES = [
    "The quick brown fox jumped.",
    "",  # empty: [CLS] [SEP] and padding
    "A sentence that is far too long to fit in sixteen word pieces, "
    "so it must be truncated without any error at all.",
]
PAIRS = [
    ("Is it raining?", "Yes, it is."),
    ("short", "a much longer second sentence that needs truncating now"),
    ("a much longer first sentence that needs truncating now", "short"),
    ("both sentences here are quite long indeed", "and so is this one, sir"),
    ("", "only the second"),
]


def test_single_sentences_match_transformers(
    classifier_preprocessor, hf_tokenizer
):
    got = numpy_dict(classifier_preprocessor(SINGLES))
    expected = reference(hf_tokenizer, SINGLES)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def test_single_sentences_packing_equals_transformers_exactly(
    classifier_preprocessor, hf_tokenizer
):
    # Single segments have no truncation ties: transformers' own packing
    # must agree exactly.
    encoded = hf_tokenizer(
        SINGLES,
        truncation=True,
        max_length=SEQUENCE_LENGTH,
        padding="max_length",
        return_tensors="np",
    )
    got = numpy_dict(classifier_preprocessor(SINGLES))
    np.testing.assert_array_equal(got["token_ids"], encoded["input_ids"])
    np.testing.assert_array_equal(got["segment_ids"], encoded["token_type_ids"])


def test_pairs_match_transformers(classifier_preprocessor, hf_tokenizer):
    first = tf.constant([a for a, _ in PAIRS])
    second = tf.constant([b for _, b in PAIRS])
    got = numpy_dict(classifier_preprocessor(x=(first, second)))
    expected = reference(
        hf_tokenizer, [a for a, _ in PAIRS], [b for _, b in PAIRS]
    )
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)


def test_labels_pass_through_and_tf_data(classifier_preprocessor):
    ds = tf.data.Dataset.from_tensor_slices((SINGLES, [0, 1, 1])).batch(3)
    x, y = next(iter(ds.map(classifier_preprocessor)))
    assert x["token_ids"].shape == (3, SEQUENCE_LENGTH)
    assert list(y.numpy()) == [0, 1, 1]


def test_masked_lm_preprocessor_masks_only_words(tokenizer):
    preprocessor = ElectraMaskedLMPreprocessor(
        tokenizer,
        sequence_length=SEQUENCE_LENGTH,
        mask_selection_rate=0.5,
        mask_selection_length=5,
        mask_token_rate=1.0,
        random_token_rate=0.0,
    )
    text = "the quick brown fox jumped over the lazy dog"
    x, y, weights = preprocessor([text] * 8)
    x, y, weights = numpy_dict(x), ops.convert_to_numpy(y), ops.convert_to_numpy(weights)
    original = np.asarray(tokenizer(text))
    special = {tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id}
    for row in range(8):
        positions = x["mask_positions"][row][weights[row] > 0]
        assert 1 <= len(positions) <= 5
        for position, label in zip(positions, y[row][weights[row] > 0]):
            assert x["token_ids"][row, position] == tokenizer.mask_token_id
            # Position 0 is [CLS]: word i sits at position i + 1.
            assert label == original[position - 1]
            assert label not in special


# === Property tests: arbitrary text never crashes, ids stay valid ===

TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
    max_size=200,
)


def check_packed(x, vocabulary_size, tokenizer):
    token_ids = np.asarray(x["token_ids"])
    mask = np.asarray(x["padding_mask"]).astype(bool)
    assert token_ids.shape[-1] == SEQUENCE_LENGTH
    assert ((token_ids >= 0) & (token_ids < vocabulary_size)).all()
    assert (token_ids[..., 0] == tokenizer.cls_token_id).all()
    # Real tokens first, then padding; padding is [PAD].
    assert (token_ids[~mask] == tokenizer.pad_token_id).all()
    assert (mask == (np.cumsum(~mask, axis=-1) == 0)).all()
    assert (np.asarray(x["segment_ids"]) >= 0).all()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(first=TEXT, second=TEXT)
def test_arbitrary_unicode_python_path(classifier_preprocessor, first, second):
    tokenizer = classifier_preprocessor.tokenizer
    x = numpy_dict(classifier_preprocessor([first]))
    check_packed(x, 30522, tokenizer)
    x = numpy_dict(
        classifier_preprocessor(x=(tf.constant([first]), tf.constant([second])))
    )
    check_packed(x, 30522, tokenizer)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
def test_arbitrary_unicode_tf_graph_and_masking(tokenizer, texts):
    preprocessor = _graph_masked_lm(tokenizer)
    x, y, weights = preprocessor(tf.constant(texts))
    x = {k: v.numpy() for k, v in x.items() if k != "mask_positions"}
    check_packed(x, 30522, tokenizer)
    assert ((y.numpy() >= 0) & (y.numpy() < 30522)).all()


_GRAPH = {}


def _graph_masked_lm(tokenizer):
    """One traced masked-LM preprocessor (the tf.data / export path)."""
    if "fn" not in _GRAPH:
        preprocessor = ElectraMaskedLMPreprocessor(
            tokenizer, sequence_length=SEQUENCE_LENGTH, mask_selection_length=4
        )
        _GRAPH["fn"] = tf.function(
            preprocessor, input_signature=[tf.TensorSpec([None], tf.string)]
        )
    return _GRAPH["fn"]
