"""`keras-electra finetune` with a built-in preset takes Google's
fine-tuning defaults for that model size unless given (no download: the
options are only parsed)."""

import pytest

from keras_electra import presets
from keras_electra.cli import app

# google-research/electra `configure_finetuning.py`.
GOOGLE = {
    "small": (1e-4, 0.8, 3),
    "base": (1e-4, 0.8, 3),
    "large": (5e-5, 0.9, 3),
}


def parsed(argv):
    args = app.build_parser().parse_args(["finetune", *argv])
    app.fill_finetuning_defaults(args)
    return args.finetune_learning_rate, args.layerwise_lr_decay, args.finetune_epochs


@pytest.mark.parametrize("size", sorted(GOOGLE))
def test_a_preset_takes_googles_defaults_for_its_size(size):
    assert parsed(["--model", f"electra_{size}_discriminator_en"]) == GOOGLE[size]
    # keras-hub's name for the same checkpoint too.
    assert parsed(["--model", f"electra_{size}_discriminator_uncased_en"]) == GOOGLE[size]


def test_the_default_model_is_small():
    assert parsed([]) == GOOGLE["small"]


def test_given_options_win():
    argv = [
        "--model", "electra_large_discriminator_en", "--learning-rate", "2e-5",
        "--epochs", "5", "--layerwise-lr-decay", "1",
    ]
    assert parsed(argv) == (2e-5, 1.0, 5)


def test_a_directory_keeps_the_quickstart_defaults(tmp_path):
    rate, decay, epochs = parsed(["--model", str(tmp_path)])
    assert (rate, epochs) == (
        app.QUICKSTART["finetune_learning_rate"], app.QUICKSTART["finetune_epochs"]
    )
    assert decay is None  # create_optimizer's default for the model


def test_the_table_lives_in_the_preset_registry():
    for name, entry in presets.ELECTRA_PRESETS.items():
        defaults = presets.finetuning_defaults(name)
        rate, decay, epochs = GOOGLE[entry["size"]]
        assert defaults == dict(learning_rate=rate, layerwise_lr_decay=decay, epochs=epochs)
    assert presets.finetuning_defaults("some/directory") is None


def test_main_passes_the_defaults_to_the_command(monkeypatch, tmp_path):
    from keras_electra.cli import finetune

    seen = {}
    monkeypatch.setattr(finetune, "cmd_finetune", lambda args: seen.setdefault("args", args) and 0)
    argv = ["finetune", "--model", "electra_base_discriminator_en", "--output-dir", str(tmp_path)]
    assert app.main(argv) == 0
    args = seen["args"]
    assert (args.finetune_learning_rate, args.layerwise_lr_decay, args.finetune_epochs) == GOOGLE["base"]
