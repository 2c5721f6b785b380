"""Arbitrary bytes and text into the file readers: data or `DataFileError`.

The command line's readers (CSV, TSV, JSONL, plain text, `.gz`) and the
pre-training text stream must either read a file or refuse it with the
named `DataFileError`; any other exception (a codec, csv, json, gzip or
recursion error escaping from a library) fails.
"""

import gzip
import os
import tempfile

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_electra.cli import readers
from keras_electra.utils.data_files import DataFileError

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
NAMES = ["d.csv", "d.tsv", "d.jsonl", "d.csv.gz", "d.tsv.gz", "d.jsonl.gz"]

# Bytes that look like the formats, so the parsers get past the first line.
text_like = st.lists(
    st.sampled_from(
        ["text", "label", ",", "\t", "\n", "\r\n", '"', "{", "}", ":", "[",
         "]", "1", "\\ud800", "\\u00e9", "caf\u00e9", "\x00", " ", "pos",
         '"text"', '"label"', "\ufeff", "1" * 5000, "[" * 3000]
    ),
    max_size=30,
).map("".join)
raw_bytes = st.one_of(
    st.binary(max_size=300),
    text_like.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(text_like, st.binary(max_size=20)).map(
        lambda p: p[0].encode("utf-8", "surrogatepass") + p[1]
    ),
)


def _write(directory, name, content, cut):
    path = os.path.join(directory, name)
    if name.endswith(".gz"):
        content = gzip.compress(content)
        if cut:
            content = content[: max(0, len(content) - cut)]
    with open(path, "wb") as f:
        f.write(content)
    return path


@SETTINGS
@given(
    content=raw_bytes,
    name=st.sampled_from(NAMES),
    cut=st.integers(0, 12),
    columns=st.sampled_from([("text", "label", None), ("text", "label", "label")]),
)
def test_labelled_file_reader(content, name, cut, columns):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(directory, name, content, cut)
        text, label, text_b = columns
        try:
            data = readers.read_labelled_file(
                path, text_column=text, label_column=label, text_b_column=text_b
            )
        except DataFileError as e:
            assert path in str(e)
            return
        assert len(data.texts) == len(data.labels) > 0
        for value in data.texts:
            value.encode("utf-8")  # Text a tokenizer can take.


@SETTINGS
@given(content=raw_bytes, gz=st.booleans(), cut=st.integers(0, 12))
def test_text_line_readers(content, gz, cut):
    with tempfile.TemporaryDirectory() as directory:
        path = _write(directory, "t.txt.gz" if gz else "t.txt", content, cut)
        for read in (readers.read_lines, readers.read_documents):
            try:
                result = read(path)
            except DataFileError as e:
                assert path in str(e) and ", line " in str(e)
                continue
            assert isinstance(result, list)


@pytest.fixture(scope="module")
def tokenizer():
    from tests.tiny_models import tiny_tokenizer

    return tiny_tokenizer()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    contents=st.lists(raw_bytes, min_size=1, max_size=3),
    gz=st.booleans(),
    cut=st.integers(0, 12),
)
def test_pretraining_text_reader(tokenizer, contents, gz, cut):
    from keras_electra.pretraining import PretrainingData

    with tempfile.TemporaryDirectory() as directory:
        paths = [
            _write(directory, f"{i}.txt" + (".gz" if gz else ""), c, cut)
            for i, c in enumerate(contents)
        ]
        data = PretrainingData(
            directory, tokenizer, sequence_length=8, batch_size=2,
            shuffle_buffer_size=2,
        )
        try:
            batches = data.batches()
            for _ in range(3):
                batch = next(batches)
                assert batch["token_ids"].shape == (2, 8)
        except DataFileError as e:
            assert any(p in str(e) for p in paths), str(e)
