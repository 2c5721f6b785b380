"""The labelled-data readers of the command line (no model involved)."""

import gzip
import json
import sys
import types

import pytest

from keras_electra.cli import readers


def write(path, text, gz=False):
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_tsv_jsonl_and_gzip_read_the_same_examples(tmp_path):
    rows = [("A \"quoted\", comma text", "pos"), ("plain text", "neg")]
    csv_text = "label,text\n" + "".join(
        f'{label},"{text.replace(chr(34), chr(34) * 2)}"\n' for text, label in rows
    )
    tsv_text = "text\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in rows)
    jsonl_text = "".join(
        json.dumps({"text": t, "label": l, "extra": 1}) + "\n" for t, l in rows
    )
    paths = [
        write(tmp_path / "a.csv", csv_text),
        write(tmp_path / "a.tsv", tsv_text),
        write(tmp_path / "a.jsonl", jsonl_text),
        write(tmp_path / "a.jsonl.gz", jsonl_text, gz=True),
        write(tmp_path / "b.tsv.gz", tsv_text, gz=True),
    ]
    for path in paths:
        data = readers.read_labelled_file(path)
        assert data.texts == [t for t, _ in rows], path
        assert data.labels == [l for _, l in rows], path
        assert data.texts_b is None
        assert data.inputs() == data.texts


def test_pairs_and_custom_columns(tmp_path):
    path = write(
        tmp_path / "p.tsv", "q\tp\ty\nfirst a\tfirst b\t1\nsecond a\tsecond b\t0\n"
    )
    data = readers.read_labelled_file(
        path, text_column="q", text_b_column="p", label_column="y"
    )
    assert data.inputs() == (["first a", "second a"], ["first b", "second b"])
    assert data.labels == ["1", "0"]


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("x.tsv", "sentence\tlabel\nhi\t1\n", "no column 'text'"),
        ("x.tsv", "text\tlabel\nhi\t1\textra\n", "line 2: 3 fields"),
        ("x.jsonl", '{"text": "a", "label": 1}\n{oops\n', "line 2: not valid JSON"),
        ("x.jsonl", '["a", 1]\n', "expected a JSON object"),
        ("x.jsonl", '{"text": "a", "label": null}\n', "not a single value"),
        ("x.csv", "", "empty"),
        ("x.csv", "text,label\n", "no examples"),
        ("x.parquet", "", "unknown file type"),
    ],
)
def test_bad_files_are_named_in_the_error(tmp_path, name, text, message):
    path = write(tmp_path / name, text)
    with pytest.raises(readers.DataError, match=message) as info:
        readers.read_labelled_file(path)
    assert name in str(info.value)


def test_missing_file():
    with pytest.raises(readers.DataError, match="no_such.tsv: no such file"):
        readers.read_labelled_file("no_such.tsv")


def test_label_vocabulary_and_ids():
    data = readers.LabelledText(["a"] * 4, None, ["10", "2", 2, "1"], "mem")
    names = readers.label_vocabulary(data)
    assert names == ["1", "2", "10"]  # numeric order, not "1", "10", "2"
    assert readers.label_ids(data, names) == [2, 1, 1, 0]
    words = readers.LabelledText(["a"] * 3, None, ["pos", "neg", "pos"], "mem")
    assert readers.label_vocabulary(words) == ["neg", "pos"]
    assert readers.label_vocabulary(words, declared=["x", "y"]) == ["x", "y"]
    unseen = readers.LabelledText(["a"], None, ["meh"], "test.tsv")
    with pytest.raises(readers.DataError, match="test.tsv: label 'meh'"):
        readers.label_ids(unseen, ["neg", "pos"])
    one = readers.LabelledText(["a", "b"], None, ["x", "x"], "train.tsv")
    with pytest.raises(readers.DataError, match="at least 2"):
        readers.label_vocabulary(one)


def test_write_labelled_tsv_reads_back(tmp_path):
    path = tmp_path / "t.tsv"
    readers.write_labelled_tsv(path, [("a\tb  c\n", 1), ("d", 0)], ["x", "y"])
    data = readers.read_labelled_file(str(path))
    assert data.texts == ["a b c", "d"] and data.labels == ["y", "x"]


@pytest.mark.parametrize("spec", ["imdb", "hub:x", "tfds:", "hf"])
def test_bad_dataset_specs(spec):
    with pytest.raises(readers.DataError, match="tfds:NAME"):
        readers.parse_dataset_spec(spec)


@pytest.mark.parametrize(
    "source, package", [("hf", "datasets"), ("tfds", "tensorflow-datasets")]
)
def test_missing_dataset_package_says_what_to_install(monkeypatch, source, package):
    module = readers.DATASET_SOURCES[source]
    monkeypatch.setitem(sys.modules, module, None)  # import fails
    with pytest.raises(readers.DataError, match=f"pip install {package}"):
        readers.read_dataset(f"{source}:whatever", "train")


class _ClassLabel:
    def __init__(self, names):
        self.names = names


def test_hugging_face_hook_maps_class_labels(monkeypatch):
    calls = {}

    class FakeDataset(list):
        column_names = ["sentence", "label", "idx"]
        features = {"label": _ClassLabel(["negative", "positive"])}

    def load_dataset(name, config, split):
        calls.update(name=name, config=config, split=split)
        return FakeDataset(
            [
                {"sentence": "good", "label": 1, "idx": 0},
                {"sentence": "bad", "label": 0, "idx": 1},
                {"sentence": "fine", "label": 1, "idx": 2},
            ]
        )

    fake = types.SimpleNamespace(load_dataset=load_dataset)
    monkeypatch.setitem(sys.modules, "datasets", fake)
    data = readers.read_dataset(
        "hf:glue", "validation", text_column="sentence", config="sst2",
        max_examples=2,
    )
    assert calls == {"name": "glue", "config": "sst2", "split": "validation"}
    assert data.texts == ["good", "bad"]
    assert data.labels == ["positive", "negative"]
    assert data.label_names == ["negative", "positive"]
    with pytest.raises(readers.DataError, match="no column 'text'"):
        readers.read_dataset("hf:glue", "train")


def test_hugging_face_hook_rejects_unlabelled_splits(monkeypatch):
    class FakeDataset(list):
        column_names = ["text", "label"]
        features = {"label": _ClassLabel(["a", "b"])}

    fake = types.SimpleNamespace(
        load_dataset=lambda name, config, split: FakeDataset(
            [{"text": "x", "label": -1}]
        )
    )
    monkeypatch.setitem(sys.modules, "datasets", fake)
    with pytest.raises(readers.DataError, match="unlabelled"):
        readers.read_dataset("hf:glue", "test")


def test_tfds_hook_decodes_bytes(monkeypatch):
    import numpy as np

    info = types.SimpleNamespace(
        features={"text": object(), "label": _ClassLabel(["neg", "pos"])}
    )
    rows = [
        {"text": b"caf\xc3\xa9 ok", "label": np.int64(1)},
        {"text": b"meh", "label": np.int64(0)},
    ]
    fake = types.SimpleNamespace(
        load=lambda name, split, with_info: (rows, info),
        as_numpy=lambda dataset: iter(dataset),
    )
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    data = readers.read_dataset("tfds:imdb_reviews", "test")
    assert data.texts == ["café ok", "meh"]
    assert data.labels == ["pos", "neg"]
    assert data.source == "tfds:imdb_reviews [test]"
