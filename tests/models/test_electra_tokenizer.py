"""ElectraTokenizer against transformers' ElectraTokenizerFast.

The real uncased vocabulary (30,522 tokens) and every line of the
Wikipedia corpus in tests/data, through both of keras-hub's paths: eager Python and the
TensorFlow graph (tf.data / tf.function, what training and export use).
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_electra import ElectraTokenizer
from keras_electra.data import open_text
from tests.conftest import TEST_DATA
from tests.conftest import TINY_VOCAB
from tests.conftest import VOCAB_PATH

WIKIPEDIA = os.path.join(TEST_DATA, "corpus", "wikipedia.txt.gz")


@pytest.fixture(scope="module")
def real_vocab():
    with open(VOCAB_PATH, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


@pytest.fixture(scope="module")
def hf_tokenizer(real_vocab):
    from transformers import ElectraTokenizerFast

    # transformers 5 ignores `vocab_file=`; pass the vocabulary itself.
    tokenizer = ElectraTokenizerFast(
        vocab={token: i for i, token in enumerate(real_vocab)},
        do_lower_case=True,
    )
    assert len(tokenizer) == 30522
    return tokenizer


@pytest.fixture(scope="module")
def ours():
    tokenizer = ElectraTokenizer(vocabulary=VOCAB_PATH)
    assert tokenizer.vocabulary_size() == 30522
    return tokenizer


@pytest.fixture(scope="module")
def wikipedia_lines():
    with open_text(WIKIPEDIA) as f:
        lines = f.read().split("\n")
    assert len(lines) > 5000
    return lines


def first_difference(lines, expected, got):
    for line, a, b in zip(lines, expected, got):
        if list(a) != list(b):
            return f"{line[:120]!r}: expected {a[:40]}, got {list(b)[:40]}"
    return None


def test_wikipedia_matches_transformers_python_path(
    ours, hf_tokenizer, wikipedia_lines
):
    expected = hf_tokenizer(wikipedia_lines, add_special_tokens=False)[
        "input_ids"
    ]
    got = ours(wikipedia_lines)
    assert len(got) == len(expected)
    assert first_difference(wikipedia_lines, expected, got) is None


def test_wikipedia_matches_transformers_tf_graph(
    ours, hf_tokenizer, wikipedia_lines
):
    expected = hf_tokenizer(wikipedia_lines, add_special_tokens=False)[
        "input_ids"
    ]
    got = tf.function(ours)(tf.constant(wikipedia_lines)).to_list()
    assert first_difference(wikipedia_lines, expected, got) is None


@pytest.mark.parametrize(
    "text",
    [
        "Hello [MASK] world.",  # special token in text
        "ΟΔΟΣ and ὁδός",  # Greek capital final sigma, accents
        "İstanbul, Ångström, naïve café",  # accents stripped
        "soft\u00adhyphen zero\u200bwidth ctrl\x07char",  # dropped chars
        "a [mask] is not [MASK]",  # lower-case look-alike is plain text
        "日本語のテキスト and 中文",  # CJK split per character
        "unknown ☃ snowman…",
        "",
    ],
)
def test_edge_cases_match_transformers(ours, hf_tokenizer, text):
    expected = hf_tokenizer(text, add_special_tokens=False)["input_ids"]
    assert list(ours(text)) == expected
    assert list(tf.function(ours)(tf.constant(text)).numpy()) == expected


def test_special_token_ids(ours):
    assert ours.pad_token_id == 0
    assert ours.unk_token_id == 100
    assert ours.cls_token_id == 101
    assert ours.sep_token_id == 102
    assert ours.mask_token_id == 103
    ids = ours("the [MASK] sat")
    assert ours.mask_token_id in list(ids)


def test_detokenize_round_trip():
    tokenizer = ElectraTokenizer(vocabulary=TINY_VOCAB)
    ids = tokenizer("The quick brown fox.")
    assert list(ids) == [5, 6, 7, 8, 13]
    assert tokenizer.detokenize(ids) == "the quick brown fox ."


def test_cased_vocabulary_keeps_case_through_config(tmp_path):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "The", "the", "é"]
    tokenizer = ElectraTokenizer(vocabulary=vocab, lowercase=False)
    assert list(tokenizer("The the é")) == [5, 6, 7]
    # keras-hub keeps the vocabulary as an asset, outside the config.
    tokenizer.save_assets(str(tmp_path))
    restored = ElectraTokenizer.from_config(tokenizer.get_config())
    restored.load_assets(str(tmp_path))
    assert restored.get_config()["lowercase"] is False
    assert list(restored("The the é")) == [5, 6, 7]


def test_missing_special_token_is_an_error():
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        ElectraTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])


def test_vocabulary_file_missing_is_an_error(tmp_path):
    with pytest.raises((FileNotFoundError, ValueError, OSError)):
        ElectraTokenizer(vocabulary=str(tmp_path / "nope.txt"))


def test_batch_shapes(ours):
    ragged = tf.function(ours)(tf.constant(["a b c", "d"]))
    assert isinstance(ragged, tf.RaggedTensor)
    assert ragged.shape[0] == 2
    assert [len(x) for x in ours(["a b c", "d"])] == [3, 1]
    assert np.asarray(ours("a b c")).ndim == 1
