"""`keras-electra quickstart` picks its pre-training defaults by what it
starts from: a short, gentle continuation of the bundled model, or a full
run from scratch. Only the options are resolved; pre-training is replaced by
a recorder."""

import pytest

from keras_electra.cli import app
from keras_electra.cli import quickstart


@pytest.fixture
def resolved(monkeypatch):
    seen = {}

    def fake_pretrain(args, run, fallback_texts=None):
        seen["args"] = args
        return {"preset": "pretrained", "steps": args.pretrain_steps}

    monkeypatch.setattr(quickstart, "pretrain", fake_pretrain)

    def resolve(argv):
        args = app.build_parser().parse_args(["quickstart", *argv])
        quickstart.resolve_model(args, run=None, task=None)
        return (
            seen["args"].pretrain_steps,
            seen["args"].pretrain_learning_rate,
            seen["args"].log_every,
        )

    return resolve


def test_continuing_the_bundled_model(resolved):
    # 100 steps at a gentle rate, with a curve point every 10 of them.
    assert resolved([]) == (100, 1e-4, 10)


def test_from_scratch(resolved):
    assert resolved(["--from-scratch"]) == (1000, 5e-4, 50)


def test_given_options_win(resolved):
    argv = ["--pretrain-steps", "40", "--pretrain-learning-rate", "3e-4",
            "--log-every", "20"]
    assert resolved(argv) == (40, 3e-4, 20)
    assert resolved(["--from-scratch", "--log-every", "7"])[2] == 7
