"""`keras-electra` argument handling: --help, and clear errors (exit 2)."""

import sys

import pytest

from keras_electra.cli import main

SUBCOMMANDS = (
    "quickstart",
    "pretrain",
    "finetune",
    "evaluate",
    "predict",
    "export",
    "fill-mask",
    "detect",
)


def run_cli(argv, capsys):
    """(exit code, stdout, stderr) of `keras-electra argv` in-process."""
    try:
        code = main(argv)
    except SystemExit as e:  # argparse exits on --help and bad options
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_has_help(command, capsys):
    code, out, _ = run_cli([command, "--help"], capsys)
    assert code == 0
    assert out.startswith(f"usage: keras-electra {command}")
    if command not in ("convert",):
        assert "--backend" in out


def test_top_level_help_lists_every_subcommand(capsys):
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0
    for command in SUBCOMMANDS + ("convert",):
        assert command in out


def test_convert_help_is_the_converters(capsys):
    code, out, _ = run_cli(["convert", "--help"], capsys)
    assert code == 0
    assert "usage: keras-electra convert" in out
    assert "--preset-name" in out


def test_no_subcommand_is_an_error(capsys):
    code, _, err = run_cli([], capsys)
    assert code == 2
    assert "COMMAND" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        # Bad paths: the message names the path.
        (["finetune", "--train", "no/such/train.csv"], "no/such/train.csv"),
        (["quickstart", "--corpus", "missing.txt"], "'missing.txt' does not exist"),
        (["pretrain", "--vocab", "nope/vocab.txt"], "nope/vocab.txt"),
        (["evaluate", "--model", "./no_such_run/classifier"], "no_such_run"),
        (["predict", "--model", "no/such/dir", "hi"], "'no/such/dir' does not exist"),
        (["detect", "--input", "absent.txt"], "absent.txt"),
        # Unknown presets: the message suggests the near names.
        (["fill-mask", "--model", "electra_small_generatr_en", "a [MASK]"],
         "Did you mean 'electra_small_generator_en'"),
        (["quickstart", "--preset", "bert_tiny"], "Unknown preset 'bert_tiny'"),
        # Bad values.
        (["quickstart", "--pretrain-steps", "-3"], "'-3' must be 0 or more"),
        (["quickstart", "--hidden-dim", "big"], "'big' is not an integer"),
        (["quickstart", "--pretrain-learning-rate", "0"], "'0' must be positive"),
        (["quickstart", "--pretrain-learning-rate", "nan"],
         "'nan' is not a finite number"),
        (["pretrain", "--peer-timeout", "0"], "'0' must be positive"),
        (["pretrain", "--peer-timeout", "inf"], "'inf' is not a finite number"),
        (["pretrain", "--generator-hidden-fraction", "1.5"], "must be in (0, 1]"),
        (["quickstart", "--sequence-length", "4"], "at least 8"),
        (["quickstart", "--backend", "numpy"], "invalid choice: 'numpy'"),
        (["finetune", "--dataset", "imdb"], "tfds:NAME"),
        (["detect", "--threshold", "2"], "must be in (0, 1]"),
        # Inconsistent options.
        (["predict", "--model", "electra_small_discriminator_en"],
         "give TEXT arguments or --input FILE"),
        # Data parallelism: the worker list and this process's place in it.
        (["pretrain", "--workers", "127.0.0.1:1,127.0.0.1:2"],
         "--workers needs --process-id"),
        (["pretrain", "--process-id", "1"], "--process-id needs --workers"),
        (["pretrain", "--workers", "127.0.0.1:1,127.0.0.1:2",
          "--process-id", "2"], "--process-id 2 is not in 0..1"),
        (["pretrain", "--workers", "host0,host1:2", "--process-id", "0"],
         "'host0' in 'host0,host1:2' is not HOST:PORT"),
        (["pretrain", "--workers", "h:1,h:1", "--process-id", "0"],
         "repeat an address"),
        (["pretrain", "--devices", "0"], "'0' must be a positive integer"),
    ],
)
def test_bad_arguments_exit_2_naming_the_problem(argv, message, capsys):
    code, _, err = run_cli(argv, capsys)
    assert code == 2, err
    assert message in err


def test_files_that_exist_but_are_wrong(tmp_path, capsys):
    parquet = tmp_path / "train.parquet"
    parquet.write_text("x")
    code, _, err = run_cli(["finetune", "--train", str(parquet)], capsys)
    assert code == 2 and "unknown file type" in err and "train.parquet" in err

    code, _, err = run_cli(["evaluate", "--model", str(parquet)], capsys)
    assert code == 2 and "is a file" in err

    tsv = tmp_path / "train.tsv"
    tsv.write_text("text\tlabel\na\t1\n")
    code, _, err = run_cli(
        ["finetune", "--train", str(tsv), "--dataset", "hf:glue"], capsys
    )
    assert code == 2 and "exclude each other" in err

    code, _, err = run_cli(["quickstart", "--train", str(tsv)], capsys)
    assert code == 2 and "--train needs --test" in err

    out_dir = tmp_path / "exists"
    out_dir.mkdir()
    code, _, err = run_cli(
        ["export", "--model", str(tmp_path), "--output", str(out_dir)], capsys
    )
    assert code == 2 and "--overwrite" in err


def test_bad_data_found_after_parsing_exits_2(tmp_path, capsys):
    train = tmp_path / "train.tsv"
    train.write_text("sentence\tlabel\nhello\tpos\n")
    code, _, err = run_cli(
        ["finetune", "--train", str(train), "--test", str(train),
         "--output-dir", str(tmp_path / "run"), "--quiet",
         "--model", str(tmp_path)],
        capsys,
    )
    assert code == 2
    assert "train.tsv" in err and "no column 'text'" in err


def test_missing_dataset_package_exits_2(monkeypatch, tmp_path, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "datasets", None)
    code, _, err = run_cli(
        ["finetune", "--dataset", "hf:glue", "--dataset-config", "sst2",
         "--output-dir", str(tmp_path), "--quiet"],
        capsys,
    )
    assert code == 2
    assert "pip install datasets" in err


def test_backend_option_reruns_under_that_backend(monkeypatch, tmp_path):
    """Keras cannot switch backend in a running process: `--backend` with
    another backend reruns the same command with KERAS_BACKEND set."""
    import keras

    from keras_electra.cli import app

    other = next(b for b in app.BACKENDS if b != keras.config.backend())
    seen = {}

    def fake_call(command, env):
        seen.update(command=command, env=env)
        return 7

    monkeypatch.setattr(app.subprocess, "call", fake_call)
    argv = ["predict", "--backend", other, "--model", str(tmp_path), "hi"]
    assert main(argv) == 7
    assert seen["env"]["KERAS_BACKEND"] == other
    # Not `-m`: the child must not import the working directory's
    # `keras_electra/` (tests/cli/test_backend_and_imports.py).
    assert seen["command"][0] == sys.executable
    assert seen["command"][1] == "-c" and seen["command"][3:] == argv

    # The current backend runs in-process (no rerun).
    seen.clear()
    argv[2] = keras.config.backend()
    assert main(argv) == 1  # `tmp_path` holds no model: loading fails
    assert not seen
