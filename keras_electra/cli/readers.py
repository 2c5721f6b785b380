"""Labelled text for the command line: CSV, TSV and JSONL files, and the
optional `tensorflow-datasets` / Hugging Face `datasets` hooks.

No Keras here: these run before a backend is chosen and in tests.
"""

import csv
import json
import os

from keras_electra.data import documents_from_lines
from keras_electra.utils.data_files import DataFileError
from keras_electra.utils.data_files import iter_lines

FILE_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
DATASET_SOURCES = {"tfds": "tensorflow_datasets", "hf": "datasets"}
DATASET_PACKAGES = {"tfds": "tensorflow-datasets", "hf": "datasets"}


class DataError(DataFileError):
    """Labelled data that cannot be read; the message names the source.

    A `keras_electra.utils.data_files.DataFileError` (a `ValueError`); the
    command line exits with code 2 on it."""


class LabelledText:
    """Texts (or text pairs) with raw labels, from one file or split.

    Attributes:
        texts: list of strings.
        texts_b: list of strings (the second text of pairs) or `None`.
        labels: list of raw labels (strings, or ints as read).
        source: where the examples came from, for messages.
        label_names: the labels' names if the source declares them
            (a `datasets` `ClassLabel`), else `None`.
    """

    def __init__(self, texts, texts_b, labels, source, label_names=None):
        self.texts = list(texts)
        self.texts_b = None if texts_b is None else list(texts_b)
        self.labels = list(labels)
        self.source = source
        self.label_names = label_names

    def __len__(self):
        return len(self.texts)

    def inputs(self):
        """Model input: the texts, or a `(texts, texts_b)` tuple."""
        if self.texts_b is None:
            return self.texts
        return (self.texts, self.texts_b)


def file_format(path):
    """`"csv"`, `"tsv"` or `"jsonl"` from the file name (`.gz` allowed)."""
    name = os.fspath(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = os.path.splitext(name)[1]
    if ext not in FILE_FORMATS:
        raise DataError(
            f"{path}: unknown file type {ext or '(none)'!r}; use .csv, .tsv "
            "or .jsonl (optionally .gz)."
        )
    return FILE_FORMATS[ext]


def _text_lines(path):
    """Decoded lines (`DataError` naming the file and line if not text)."""
    try:
        for _, line in iter_lines(path):
            yield line
    except DataFileError as e:
        raise DataError(str(e)) from None


def _rows(path, fmt):
    """Yield `(line_number, dict)` rows of a CSV/TSV (header) or JSONL file.

    A file that is not UTF-8 text (binary, another encoding, a truncated
    `.gz`) raises `DataError` naming the file and line.
    """
    if fmt == "jsonl":
        for number, line in _numbered_lines(path):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(
                    f"{path}, line {number}: not valid JSON ({e.msg})."
                ) from None
            except (ValueError, RecursionError) as e:
                # Numbers too long for `int`, nesting too deep for Python.
                raise DataError(
                    f"{path}, line {number}: cannot read this JSON "
                    f"({type(e).__name__}: {str(e)[:200]})."
                ) from None
            if not isinstance(row, dict):
                raise DataError(
                    f"{path}, line {number}: expected a JSON object per "
                    f"line, got {type(row).__name__}."
                )
            yield number, row
        return
    if fmt == "tsv":
        reader = csv.reader(
            _text_lines(path), delimiter="\t", quoting=csv.QUOTE_NONE
        )
    else:
        # Strict: a file cut inside a quoted field is an error, not a
        # shorter last field.
        reader = csv.reader(_text_lines(path), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: the file is empty (no header row).")
        header = [h.strip() for h in header]
        for values in reader:
            if not values:
                continue
            number = reader.line_num
            if len(values) != len(header):
                raise DataError(
                    f"{path}, line {number}: {len(values)} fields, but the "
                    f"header has {len(header)} ({', '.join(header)})."
                )
            yield number, dict(zip(header, values))
    except csv.Error as e:
        hint = ""
        if "unexpected end of data" in str(e):
            hint = ": the file ends inside a quoted field (truncated?)"
        raise DataError(
            f"{path}, line {reader.line_num}: not valid {fmt.upper()} "
            f"({e}){hint}."
        ) from None


def _numbered_lines(path):
    try:
        yield from iter_lines(path)
    except DataFileError as e:
        raise DataError(str(e)) from None


def read_lines(path):
    """The lines of a UTF-8 text file (`.gz` allowed), without line ends.

    Raises `DataError` naming the file and line if it is not text.
    """
    return [line.rstrip("\n").rstrip("\r") for line in _text_lines(path)]


def read_documents(path):
    """Pre-training text: a list of documents, each a list of lines.

    One paragraph per line, an empty line between documents (as
    `keras_electra.data.read_documents`), with `DataError` naming the file
    and line for a file that is not text.
    """
    return documents_from_lines(_text_lines(path))


def check_text_file(path):
    """Read `path` through once: `DataError` naming the file and line if it
    is not UTF-8 text (binary, another encoding, a truncated `.gz`)."""
    for _ in _text_lines(path):
        pass


def _check_text_value(value, path, number, column):
    """`DataError` for a string that cannot be written as UTF-8 (a JSON
    `\\ud800` escape gives an unpaired surrogate)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(
                f"{path}, line {number}: {column!r} holds an unpaired "
                "surrogate (a JSON \\ud800-style escape), not text."
            ) from None


def read_labelled_file(
    path, text_column="text", label_column="label", text_b_column=None
):
    """Read labelled text from a CSV, TSV or JSONL file.

    CSV and TSV files need a header row naming the columns; TSV has no
    quoting (no tab or newline inside a field). JSONL has one JSON object
    per line. Files ending in `.gz` are decompressed.

    Args:
        path: the file.
        text_column: the column (key) holding the text.
        label_column: the column holding the label (any string or number).
        text_b_column: the column of the second text of sentence pairs, or
            `None` for single texts.

    Returns:
        A `LabelledText`.
    """
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file.")
    fmt = file_format(path)
    texts, texts_b, labels = [], [], []
    wanted = [c for c in (text_column, text_b_column, label_column) if c]
    for number, row in _rows(path, fmt):
        missing = [c for c in wanted if c not in row]
        if missing:
            raise DataError(
                f"{path}, line {number}: no column "
                f"{', '.join(repr(c) for c in missing)}; the columns are "
                f"{', '.join(repr(c) for c in row)}. Choose them with "
                "--text-column / --label-column / --text-b-column."
            )
        text = row[text_column]
        if not isinstance(text, str):
            raise DataError(
                f"{path}, line {number}: {text_column!r} is not a string."
            )
        _check_text_value(text, path, number, text_column)
        texts.append(text)
        if text_b_column:
            _check_text_value(row[text_b_column], path, number, text_b_column)
            texts_b.append(str(row[text_b_column]))
        label = row[label_column]
        _check_text_value(label, path, number, label_column)
        if isinstance(label, (list, dict)) or label is None or label == "":
            raise DataError(
                f"{path}, line {number}: the label {label!r} is not a "
                "single value."
            )
        labels.append(label)
    if not texts:
        raise DataError(f"{path}: no examples.")
    return LabelledText(
        texts, texts_b if text_b_column else None, labels, source=str(path)
    )


def write_labelled_tsv(path, examples, label_names):
    """Write `(text, label_id)` examples as a `label<TAB>text` TSV file."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("label\ttext\n")
        for text, label in examples:
            clean = " ".join(text.split())
            f.write(f"{label_names[label]}\t{clean}\n")


def parse_dataset_spec(spec):
    """`"tfds:NAME"` or `"hf:NAME"` -> `(source, name)`."""
    source, sep, name = spec.partition(":")
    if not sep or source not in DATASET_SOURCES or not name:
        raise DataError(
            f"Dataset {spec!r}: write `tfds:NAME` (tensorflow-datasets, e.g. "
            "tfds:imdb_reviews) or `hf:NAME` (Hugging Face datasets, e.g. "
            "hf:stanfordnlp/sst2)."
        )
    return source, name


def import_dataset_package(source):
    """Import the package behind a dataset source, or explain how to."""
    import importlib

    module = DATASET_SOURCES[source]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"`{source}:` datasets need the `{DATASET_PACKAGES[source]}` "
            f"package, which is not installed: pip install "
            f"{DATASET_PACKAGES[source]}"
        ) from None


def _as_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _as_label(value):
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return value


def read_dataset(
    spec,
    split,
    text_column="text",
    label_column="label",
    text_b_column=None,
    config=None,
    max_examples=None,
):
    """Read a split of a tensorflow-datasets or Hugging Face dataset.

    Args:
        spec: `"tfds:NAME"` or `"hf:NAME"`.
        split: the split, e.g. `"train"` or `"test[:10%]"`.
        text_column, label_column, text_b_column: feature names.
        config: the Hugging Face configuration name (e.g. `"sst2"` of
            `glue`), or `None`. For tfds, write `NAME/CONFIG` in `spec`.
        max_examples: int or `None`. Read at most this many examples.

    Returns:
        A `LabelledText` (with `label_names` when the dataset names its
        classes).
    """
    source, name = parse_dataset_spec(spec)
    package = import_dataset_package(source)
    where = f"{spec} [{split}]"
    try:
        if source == "hf":
            dataset = package.load_dataset(name, config, split=split)
            columns = list(dataset.column_names)
            features = getattr(dataset, "features", {}) or {}
            rows = iter(dataset)
        else:
            dataset, info = package.load(name, split=split, with_info=True)
            features = info.features
            columns = list(features.keys())
            rows = package.as_numpy(dataset)
    except DataError:
        raise
    except Exception as e:  # the packages raise many kinds of errors
        raise DataError(f"Cannot load {where}: {e}") from e
    wanted = [c for c in (text_column, text_b_column, label_column) if c]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise DataError(
            f"{where}: no column {', '.join(repr(c) for c in missing)}; the "
            f"columns are {', '.join(repr(c) for c in columns)}. Choose them "
            "with --text-column / --label-column / --text-b-column."
        )
    label_feature = features[label_column] if label_column in features else None
    label_names = getattr(label_feature, "names", None)
    texts, texts_b, labels = [], [], []
    for row in rows:
        if max_examples is not None and len(texts) >= max_examples:
            break
        texts.append(_as_text(row[text_column]))
        if text_b_column:
            texts_b.append(_as_text(row[text_b_column]))
        labels.append(_as_label(row[label_column]))
    if not texts:
        raise DataError(f"{where}: no examples.")
    if label_names is not None:
        label_names = [str(n) for n in label_names]
        # Unlabelled examples (e.g. GLUE test sets) carry label -1.
        if any(not 0 <= int(label) < len(label_names) for label in labels):
            raise DataError(
                f"{where}: labels outside 0..{len(label_names) - 1} (an "
                "unlabelled test split?). Use a labelled split."
            )
        labels = [label_names[int(label)] for label in labels]
    return LabelledText(
        texts,
        texts_b if text_b_column else None,
        labels,
        source=where,
        label_names=label_names,
    )


def label_vocabulary(train, declared=None):
    """The ordered class names: declared ones, or the sorted train labels.

    Labels that all look like integers sort numerically (`2` before `10`).
    """
    if declared:
        return [str(n) for n in declared]
    names = sorted({str(label) for label in train.labels}, key=_label_key)
    if len(names) < 2:
        raise DataError(
            f"{train.source}: the training data has {len(names)} distinct "
            "label(s); classification needs at least 2."
        )
    return names


def _label_key(name):
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def label_ids(data, label_names):
    """Map `data.labels` to ids in `label_names`; unknown labels error."""
    index = {name: i for i, name in enumerate(label_names)}
    ids = []
    for label in data.labels:
        key = str(label)
        if key not in index:
            raise DataError(
                f"{data.source}: label {key!r} is not among the training "
                f"labels ({', '.join(label_names)})."
            )
        ids.append(index[key])
    return ids
