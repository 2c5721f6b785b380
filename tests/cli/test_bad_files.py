"""Binary, non-UTF-8 and truncated files: exit 2 naming the file and line.

Every command that reads a file the user names (`finetune --train/--test/
--validation`, `evaluate --test`, `predict/fill-mask/detect --input`,
`pretrain --corpus/--vocab`) and `PretrainingData` refuse such a file with
`DataFileError`, never with a bare codec or gzip error.
"""

import gzip
import os
import subprocess
import sys

import pytest

from keras_electra.cli import main
from keras_electra.cli import readers
from keras_electra.utils.data_files import DataFileError

GOOD_TSV = "text\tlabel\nhello there\tpos\ngood bye\tneg\n"


def gz_bytes(text):
    return gzip.compress(text.encode("utf-8") * 50)


# name -> (file name, bytes, the line the message must name, a phrase)
BAD_FILES = {
    "binary": ("train.csv", b"\xac\xed\x00\x05sr\x00\x13java", 1, "not UTF-8"),
    "latin-1": (
        "train.tsv",
        "text\tlabel\nok\tpos\ncaf\xe9 cr\xe8me\tneg\n".encode("latin-1"),
        3,
        "not UTF-8",
    ),
    "nul": ("train.jsonl", b'{"text": "a", "label": 1}\n{"te\x00xt"}\n', 2, "NUL"),
    "cut utf-8": (
        "train.tsv",
        "text\tlabel\nok\tpos\nneg\tna\u00ef".encode()[:-1],
        3,
        "not UTF-8",
    ),
    "cut csv": ("train.csv", b'text,label\nok,pos\n"an open quote,', 3, "CSV"),
    "cut jsonl": ("train.jsonl", b'{"text": "a", "label": 1}\n{"text": "b", "la', 2, "JSON"),
    "cut gz": ("train.tsv.gz", gz_bytes(GOOD_TSV)[:-30], None, "gzip"),
    "bad gz": ("train.csv.gz", b"\x1f\x8b\x08\x00garbage" * 3, 1, "gzip"),
}


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def run_cli(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def assert_names(err, path, line, phrase):
    assert path in err, err
    assert phrase in err, err
    if line is not None:
        assert f"line {line}:" in err, err
    else:
        assert ", line " in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_readers_name_the_file_and_line(kind, tmp_path):
    name, content, line, phrase = BAD_FILES[kind]
    path = write(tmp_path, name, content)
    with pytest.raises(DataFileError) as info:
        readers.read_labelled_file(path)
    assert isinstance(info.value, readers.DataError)
    assert_names(str(info.value), path, line, phrase)


@pytest.mark.parametrize("kind", ["binary", "latin-1", "cut gz"])
def test_finetune_train_test_validation(kind, tmp_path, capsys):
    name, content, line, phrase = BAD_FILES[kind]
    bad = write(tmp_path, name, content)
    good = write(tmp_path, "good.tsv", GOOD_TSV.encode())
    for option in ("--train", "--test", "--validation"):
        files = {"--train": good, "--test": good, "--validation": good}
        files[option] = bad
        argv = ["finetune", "--output-dir", str(tmp_path / "run"), "--quiet",
                "--model", str(tmp_path)]
        for key, value in files.items():
            argv += [key, value]
        code, _, err = run_cli(argv, capsys)
        assert code == 2, (option, err)
        assert_names(err, bad, line, phrase)


def test_evaluate_test_file(tmp_path, capsys, monkeypatch):
    from keras_electra.cli import finetune

    # The model is not what is tested: skip loading one.
    monkeypatch.setattr(finetune, "load_classifier", lambda m: (None, ["neg", "pos"]))
    name, content, line, phrase = BAD_FILES["nul"]
    bad = write(tmp_path, name, content)
    code, _, err = run_cli(
        ["evaluate", "--model", str(tmp_path), "--test", bad], capsys
    )
    assert code == 2, err
    assert_names(err, bad, line, phrase)


@pytest.mark.parametrize("command", ["predict", "fill-mask", "detect"])
def test_input_files(command, tmp_path, capsys):
    bad = write(tmp_path, "texts.txt", b"fine line\n\xff\xfeU\x00T\x00F\x00-16\n")
    code, _, err = run_cli(
        [command, "--model", str(tmp_path), "--input", bad], capsys
    )
    assert code == 2, err
    assert_names(err, bad, 2, "not UTF-8")


def test_pretrain_corpus_and_vocab(tmp_path, capsys):
    from tests.conftest import TINY_VOCAB

    tiny = ["--hidden-dim", "8", "--num-heads", "1", "--num-layers", "1",
            "--embedding-dim", "8", "--sequence-length", "16", "--quiet"]
    vocab = write(tmp_path, "vocab.txt", ("\n".join(TINY_VOCAB) + "\n").encode())
    corpora = {
        "plain": (write(tmp_path, "corpus.txt", b"the fox\n\nthe dog\x00\n"), 3, "NUL"),
        "gz": (write(tmp_path, "corpus.txt.gz", gz_bytes("the fox\n")[:-20]), None, "gzip"),
    }
    for path, line, phrase in corpora.values():
        code, _, err = run_cli(
            ["pretrain", "--vocab", vocab, "--corpus", path,
             "--output-dir", str(tmp_path / "run"), *tiny],
            capsys,
        )
        assert code == 2, err
        assert_names(err, path, line, phrase)

    bad_vocab = write(tmp_path, "bad_vocab.txt", b"[PAD]\n[UNK]\n\x80\x81\n")
    code, _, err = run_cli(
        ["pretrain", "--vocab", bad_vocab, "--corpus", corpora["plain"][0],
         "--output-dir", str(tmp_path / "run"), *tiny],
        capsys,
    )
    assert code == 2, err
    assert_names(err, bad_vocab, 3, "not UTF-8")


def test_the_installed_command_exits_2(tmp_path):
    """The issue's case, through the real entry point in a new process."""
    bad = write(tmp_path, "binary.csv", BAD_FILES["binary"][1])
    script = os.path.join(os.path.dirname(sys.executable), "keras-electra")
    command = [script] if os.path.exists(script) else [
        sys.executable, "-P", "-m", "keras_electra.cli"
    ]
    result = subprocess.run(
        command + ["finetune", "--train", bad, "--test", bad, "--quiet",
                   "--output-dir", str(tmp_path / "run"), "--model", str(tmp_path)],
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{bad}, line 1: not UTF-8 text (byte 0xac" in result.stderr
    assert "codec can't decode" not in result.stderr


def test_pretraining_data_names_the_file_and_line(tmp_path):
    from keras_electra.pretraining import PretrainingData
    from tests.tiny_models import tiny_tokenizer

    tokenizer = tiny_tokenizer()
    good = "the quick fox\n" * 20 + "\n" + "a lazy dog\n" * 20
    cases = {
        "latin-1": ("c.txt", (good + "caf\xe9\n").encode("latin-1"), 42, "not UTF-8"),
        "binary": ("b.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "not UTF-8"),
        "nul": ("n.txt", (good + "the\x00fox\n").encode(), 42, "NUL"),
        "cut gz": ("t.txt.gz", gzip.compress(good.encode() * 30)[:-40], None, "gzip"),
    }
    for name, content, line, phrase in cases.values():
        directory = tmp_path / name.replace(".", "_")
        directory.mkdir()
        path = write(directory, name, content)
        for check in (True, False):
            data = PretrainingData(
                str(directory), tokenizer, sequence_length=16, batch_size=2,
                shuffle_buffer_size=1,
            )
            with pytest.raises(DataFileError) as info:
                if check:
                    data.check_files()
                else:
                    batches = data.batches()
                    for _ in range(200):
                        next(batches)
            assert_names(str(info.value), path, line, phrase)

    # Files without any text would make the stream spin forever.
    empty = tmp_path / "empty"
    empty.mkdir()
    write(empty, "a.txt", b"")
    write(empty, "b.txt", b"\n \n\n")
    data = PretrainingData(str(empty), tokenizer, sequence_length=16, batch_size=2)
    with pytest.raises(DataFileError, match="hold no text"):
        next(data.batches())
