"""keras_electra: ELECTRA in Keras 3, on TensorFlow, JAX and PyTorch.

`import keras_electra` imports every public class, as keras-hub does: they
are then registered for Keras deserialization (`keras.saving.load_model` of
a saved task works right after `import keras_electra`) and Google's preset
names with keras-hub (`models/electra_backbone.py` registers them).

One exception: when the `keras-electra` command starts, this package is
imported before its options are parsed, and importing Keras then would cost
seconds and fix the backend before `--backend` is read. So in that process
the public names import on first use instead (PEP 562 `__getattr__` below);
the command loads what it needs after choosing the backend.
"""

import importlib
import os
import sys

# Kept a plain literal: `pyproject.toml` reads it without importing.
__version__ = "0.1.0"

# Public name -> the module that defines it.
_CLASSES = {
    "ElectraBackbone": "keras_electra.models.electra_backbone",
    "ElectraDiscriminator": "keras_electra.models.electra_discriminator",
    "ElectraMaskedLM": "keras_electra.models.electra_masked_lm",
    "ElectraMaskedLMPreprocessor": (
        "keras_electra.models.electra_masked_lm_preprocessor"
    ),
    "ElectraTextClassifierPreprocessor": (
        "keras_electra.models.electra_text_classifier_preprocessor"
    ),
    "ElectraTokenizer": "keras_electra.models.electra_tokenizer",
    "ElectraPretrainer": "keras_electra.pretraining.electra_pretrainer",
    "ElectraClassifier": "keras_electra.models.electra_classifier",
    "ElectraCausalLM": "keras_electra.models.electra_causal_lm",
    "ElectraCausalLMPreprocessor": (
        "keras_electra.models.electra_causal_lm_preprocessor"
    ),
    "ElectraMultipleChoice": "keras_electra.models.electra_multiple_choice",
    "ElectraMultipleChoicePreprocessor": (
        "keras_electra.models.electra_multiple_choice_preprocessor"
    ),
    "ElectraQuestionAnswerer": "keras_electra.models.electra_question_answerer",
    "ElectraQuestionAnswererPreprocessor": (
        "keras_electra.models.electra_question_answerer_preprocessor"
    ),
    "ElectraTokenClassifier": "keras_electra.models.electra_token_classifier",
    "ElectraTokenClassifierPreprocessor": (
        "keras_electra.models.electra_token_classifier_preprocessor"
    ),
    # Raised for bad token ids, segment ids or sequence lengths.
    "InvalidInputError": "keras_electra.utils.input_validation",
    # A function: what `task.export(path)` calls.
    "export_saved_model": "keras_electra.export.saved_model",
    # A function: a task, or a pre-trained pair, as transformers
    # checkpoints (`keras-electra convert --to transformers`).
    "export_transformers": "keras_electra.conversion.transformers_loader",
}
# Public subpackages. `export`: `export_saved_model`, `export_many`,
# `export_onnx` (`task.export(path)` is the usual entry point). `presets`:
# Google's checkpoints by name. `optimizers`: Google's AdamW, schedule and
# layer-wise learning rates; `metrics`: NER and SQuAD scores.
_SUBMODULES = (
    "layers",
    "losses",
    "optimizers",
    "metrics",
    "pretraining",
    "finetuning",
    "presets",
    "export",
)

__all__ = ["__version__", *_CLASSES, *_SUBMODULES]


def _load_all():
    """Import every public module (what `import keras_electra` did when it
    was eager) and bind the public names here."""
    for name in _SUBMODULES:
        globals()[name] = importlib.import_module(f"keras_electra.{name}")
    for name, module in _CLASSES.items():
        globals()[name] = getattr(importlib.import_module(module), name)


def __getattr__(name):
    if name in _CLASSES:
        _load_all()
        return globals()[name]
    if name in _SUBMODULES:
        # A subpackage alone, not the whole package: `from keras_electra
        # import presets` must stay cheap for the command line.
        return importlib.import_module(f"keras_electra.{name}")
    raise AttributeError(f"module 'keras_electra' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _started_as_command():
    """Whether this process is the `keras-electra` command: its console
    script, or `python -m keras_electra.cli`.

    Its entry point (`keras_electra.cli:main`) lives inside this package, so
    this module runs before the command's own code can say anything; the
    command line is the only sign.
    """
    argv = getattr(sys, "argv", None) or [""]
    script = os.path.splitext(os.path.basename(argv[0] or ""))[0]
    if script == "keras-electra":
        return True
    original = list(getattr(sys, "orig_argv", ()))
    if "-m" in original:
        return original[original.index("-m") + 1 :][:1] == ["keras_electra.cli"]
    return False


# Always, also for the command line: registers the checkpoint formats that
# `from_preset` converts (transformers, keras-hub) with the preset resolver.
# Imports no Keras.
from keras_electra import conversion  # noqa: E402,F401

if not _started_as_command():
    _load_all()
