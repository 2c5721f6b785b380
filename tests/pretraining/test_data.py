import gzip
import itertools
import json
import os
import random

import numpy as np
import pytest

import keras_electra
from keras_electra.pretraining import ExampleBuilder
from keras_electra.pretraining import PretrainingData
from keras_electra.data import open_text
from tests.conftest import VOCAB_PATH
from tests.pretraining.helpers import CLS
from tests.pretraining.helpers import CORPUS
from tests.pretraining.helpers import SEP
from tests.tiny_models import tiny_tokenizer

GUTENBERG = os.path.join(CORPUS, "gutenberg")


@pytest.fixture(scope="module")
def uncased_tokenizer():
    return keras_electra.ElectraTokenizer(vocabulary=VOCAB_PATH)


def _split(example):
    """Segments A and B (without [CLS]/[SEP]) of an unpadded example."""
    token_ids, segment_ids = example
    assert token_ids[0] == CLS
    a = [t for t, s in zip(token_ids, segment_ids) if s == 0][1:-1]
    b = [t for t, s in zip(token_ids, segment_ids) if s == 1][:-1]
    return a, b


def _examples_from_one_token_lines(max_length, count, seed):
    # With one-token lines an example closes exactly at its target length.
    builder = ExampleBuilder(max_length, CLS, SEP, random.Random(seed))
    examples = []
    for token in itertools.cycle(range(5, 25)):
        example = builder.add_line([token])
        if example is not None:
            examples.append(example)
            if len(examples) == count:
                return examples


def test_segment_split_single_segments_and_short_targets():
    max_length = 64
    examples = _examples_from_one_token_lines(max_length, 4000, seed=0)
    first_target = (max_length - 3) // 2
    single = short = 0
    a_lengths = []
    for example in examples:
        assert len(example[0]) <= max_length
        a, b = _split(example)
        if not b:
            single += 1
            length = len(a) + 2
        else:
            length = len(a) + len(b) + 3
            if length == max_length:
                a_lengths.append(len(a))
        short += length < max_length
    # 10% single segment; 5% random target in [5, max_length] (of which
    # the ones below max_length - 3 are visibly short).
    assert 0.085 < single / 4000 < 0.115, single
    assert 0.035 < short / 4000 < 0.06, short
    # Segment A stops at half the target; the crossing line joins A half
    # of the time. (A few full examples come from short targets of 61-63.)
    a_lengths = np.array(a_lengths)
    longer = (a_lengths == first_target).sum()
    shorter = (a_lengths == first_target - 1).sum()
    assert longer + shorter > 0.97 * len(a_lengths)
    assert 0.45 < longer / (longer + shorter) < 0.55


def test_documents_end_examples_and_long_lines_are_cut():
    builder = ExampleBuilder(32, CLS, SEP, random.Random(0))
    assert builder.add_line([7, 8, 9]) is None
    assert builder.add_line([10, 11]) is None
    token_ids, segment_ids = builder.add_line([])  # Blank line: document end.
    assert sorted(token_ids[1:]) == sorted([7, 8, 9, 10, 11, SEP] + [SEP] * (
        len(token_ids) - 7
    ))
    assert len(token_ids) in (7, 8)  # one or two segments
    assert builder.add_line([]) is None  # Nothing pending.
    # One line longer than the example: all of it is segment A, cut.
    builder = ExampleBuilder(32, CLS, SEP, random.Random(0))
    token_ids, segment_ids = builder.add_line(list(range(5, 205)))
    assert token_ids == [CLS] + list(range(5, 35)) + [SEP]
    assert segment_ids == [0] * 32


def test_the_rng_decides_reproducibly():
    one = _examples_from_one_token_lines(48, 300, seed=3)
    two = _examples_from_one_token_lines(48, 300, seed=3)
    other = _examples_from_one_token_lines(48, 300, seed=4)
    assert one == two
    assert one != other


def _check_batch(batch, batch_size, sequence_length, cls_id, sep_id):
    for key in ("token_ids", "segment_ids", "padding_mask"):
        assert batch[key].shape == (batch_size, sequence_length)
        assert batch[key].dtype == np.int32
    for ids, segments, mask in zip(
        batch["token_ids"], batch["segment_ids"], batch["padding_mask"]
    ):
        n = int(mask.sum())
        assert (mask[:n] == 1).all() and (ids[n:] == 0).all()
        assert ids[0] == cls_id and ids[n - 1] == sep_id
        seps = np.flatnonzero(ids[:n] == sep_id)
        assert len(seps) in (1, 2)
        expected_segments = np.zeros(sequence_length, "int32")
        if len(seps) == 2:
            expected_segments[seps[0] + 1 : n] = 1
        np.testing.assert_array_equal(segments, expected_segments)


def test_batches_from_the_corpus_are_streamed(uncased_tokenizer):
    data = PretrainingData(
        GUTENBERG, uncased_tokenizer, sequence_length=64, batch_size=8, seed=0
    )
    assert len(data.files) == 2
    batches = data.batches()
    for _ in range(3):
        _check_batch(next(batches), 8, 64, 101, 102)
    state = data.state(3)
    path = data.files[state["file_order"][state["file_index"]]]
    # Streamed: only the start of the first file has been read (the offset
    # counts uncompressed bytes; the shuffle buffer reads a little ahead).
    with open_text(path) as f:
        size = len(f.read().encode("utf-8"))
    assert 0 < state["offset"] < size / 4


def test_resumes_from_a_saved_position(uncased_tokenizer):
    def make():
        return PretrainingData(
            GUTENBERG, uncased_tokenizer, sequence_length=32, batch_size=4,
            seed=5, shuffle_buffer_size=10,
        )

    data = make()
    stream = data.batches()
    batches = [next(stream) for _ in range(5)]
    state = json.loads(json.dumps(data.state(3)))
    resumed = make()
    resumed.restore(state)
    stream = resumed.batches()
    for expected in batches[3:]:
        got = next(stream)
        for key in expected:
            np.testing.assert_array_equal(got[key], expected[key])
    assert resumed.state(5)["num_batches"] == 5
    other = PretrainingData(
        GUTENBERG, uncased_tokenizer, sequence_length=32, batch_size=4, seed=6
    )
    with pytest.raises(ValueError, match="different data configuration"):
        other.restore(state)
    with pytest.raises(ValueError, match="not known"):
        data.state(100)


def _write_files(directory, texts):
    paths = []
    for i, text in enumerate(texts):
        path = os.path.join(directory, f"part-{i}.txt")
        with open(path, "w") as f:
            f.write(text)
        paths.append(path)
    return paths


def test_sharded_by_file_and_repeated_in_new_orders(tmp_path):
    words = [
        "the quick brown fox\njumped over\n\nthe lazy dog\n",
        "a cat sat\non a mat\n",
        "was and is\n\nand was\n",
    ]
    _write_files(tmp_path, words)
    tokenizer = tiny_tokenizer()
    vocab = tokenizer.get_vocabulary()
    seen = {}
    for shard in (0, 1):
        data = PretrainingData(
            str(tmp_path), tokenizer, sequence_length=16, batch_size=2,
            seed=0, num_shards=2, shard_index=shard, shuffle_buffer_size=1,
        )
        stream = data.batches()
        tokens = set()
        for _ in range(12):  # Several passes over these tiny files.
            batch = next(stream)
            _check_batch(batch, 2, 16, CLS, SEP)
            tokens.update(batch["token_ids"][batch["padding_mask"] > 0])
        seen[shard] = {vocab[t] for t in tokens} - {"[CLS]", "[SEP]"}
        orders = {tuple(data.state(n)["file_order"]) for n in range(1, 13)}
        if shard == 0:
            assert [os.path.basename(f) for f in data.files] == [
                "part-0.txt",
                "part-2.txt",
            ]
            assert len(orders) == 2  # New random order on later passes.
    assert seen[0] == set(" ".join([words[0], words[2]]).split())
    assert seen[1] == set(words[1].split())


def test_dataset_yields_the_same_batches(tmp_path):
    _write_files(tmp_path, ["the quick brown fox\n\na cat sat on the mat\n"])
    tokenizer = tiny_tokenizer()

    def make():
        return PretrainingData(
            str(tmp_path), tokenizer, sequence_length=8, batch_size=3, seed=1
        )

    stream = make().batches()
    expected = [next(stream) for _ in range(2)]
    got = list(make().dataset().take(2).as_numpy_iterator())
    for a, b in zip(got, expected):
        for key in b:
            np.testing.assert_array_equal(a[key], b[key])


def test_gzipped_files_give_the_same_batches_and_resume(tmp_path):
    texts = [
        "the quick brown fox\njumped over\n\nthe lazy dog\n",
        "a cat sat\non a mat\nwas and is\n",
    ]
    plain, packed = tmp_path / "plain", tmp_path / "gz"
    plain.mkdir()
    packed.mkdir()
    for path in _write_files(str(plain), texts):
        with open(path, "rb") as f, gzip.open(
            os.path.join(packed, os.path.basename(path) + ".gz"), "wb"
        ) as g:
            g.write(f.read())
    tokenizer = tiny_tokenizer()

    def make(directory):
        return PretrainingData(
            str(directory), tokenizer, sequence_length=8, batch_size=2,
            seed=3, shuffle_buffer_size=2,
        )

    stream = make(plain).batches()
    expected = [next(stream) for _ in range(6)]
    data = make(packed)
    stream = data.batches()
    for want in expected[:4]:
        got = next(stream)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    resumed = make(packed)
    resumed.restore(json.loads(json.dumps(data.state(2))))
    stream = resumed.batches()
    for want in expected[2:]:
        got = next(stream)
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])


def test_clear_errors(tmp_path):
    tokenizer = tiny_tokenizer()
    with pytest.raises(FileNotFoundError, match="No text files"):
        PretrainingData(str(tmp_path / "missing*"), tokenizer)
    _write_files(tmp_path, ["the fox\n"])
    with pytest.raises(ValueError, match="gets none"):
        PretrainingData(str(tmp_path), tokenizer, num_shards=2, shard_index=1)
    with pytest.raises(ValueError, match="shard_index"):
        PretrainingData(str(tmp_path), tokenizer, num_shards=2, shard_index=2)
