"""`keras-electra pretrain --objective mlm`: masked-LM alone, saved as a
pair with all weights tied; an untied pair cannot continue by masked-LM."""

import json

import pytest

from keras_electra.cli import main
from tests.cli.test_quickstart import run_cli

TINY = [
    "--log-every", "2", "--batch-size", "4", "--hidden-dim", "32",
    "--num-layers", "1", "--num-heads", "2", "--embedding-dim", "16",
    "--sequence-length", "32", "--seed", "3", "--quiet", "--steps", "2",
]


@pytest.mark.slow
def test_pretrain_by_masked_lm(tmp_path, capsys):
    run = tmp_path / "mlm"
    out = run_cli(
        ["pretrain", *TINY, "--objective", "mlm", "--output-dir", str(run)],
        capsys,
    )
    assert "Pre-training (masked-LM)" in out
    pair = json.loads((run / "pretrained" / "pretraining_pair.json").read_text())
    assert pair["tied_all_weights"] is True
    rounds = json.loads((run / "pretraining_history.json").read_text())
    assert rounds[-1]["generator_loss"] > 0
    assert "discriminator_loss" not in rounds[-1]

    # A pair with a generator of its own (the bundled one) cannot be
    # trained by masked-LM.
    code = main(
        ["pretrain", "--preset", "electra_tiny_gutenberg_en", "--objective",
         "mlm", "--steps", "2", "--output-dir", str(tmp_path / "bad"),
         "--quiet"]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert "--objective mlm" in err and "backbone of its own" in err
