"""`keras-electra export --quantize int8` / `--jit-compile` and `finetune
--lora-rank R`, on a tiny model."""

import os

import keras
import numpy as np

import keras_electra
from keras_electra.cli.export import saved_model_predict
from tests.cli.test_arguments import run_cli
from tests.conftest import TINY_VOCAB
from tests.test_round_trips import without_gc_collect

TEXTS = ["the quick brown fox", "a cat sat on the mat", "the dog was lazy ."]


def tiny_backbone():
    keras.utils.set_random_seed(0)
    return keras_electra.ElectraBackbone(
        vocabulary_size=len(TINY_VOCAB), num_layers=2, num_heads=2,
        hidden_dim=16, intermediate_dim=32, max_sequence_length=32,
    )


def tokenizer():
    return keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)


def saved_classifier(path):
    """A tiny 3-label classifier, also saved as a preset at `path`."""
    preprocessor = keras_electra.ElectraTextClassifierPreprocessor(
        tokenizer(), sequence_length=12
    )
    classifier = keras_electra.ElectraClassifier(
        tiny_backbone(), num_classes=3, preprocessor=preprocessor,
        label_names=["x", "y", "z"],
    )
    classifier.save_to_preset(str(path))
    return classifier


def test_export_quantize_int8(tmp_path, capsys, recwarn):
    with without_gc_collect():
        export_quantize_int8(tmp_path, capsys, recwarn)


def export_quantize_int8(tmp_path, capsys, recwarn):
    classifier = saved_classifier(tmp_path / "classifier")
    code, out, err = run_cli(
        ["export", "--model", str(tmp_path / "classifier"),
         "--output", str(tmp_path / "served"), "--quantize", "int8"],
        capsys,
    )
    assert code in (0, None), err
    # Keras' notice for each layer without weights is not shown.
    assert not [w for w in recwarn if "`quantize` method" in str(w.message)]
    classifier.quantize("int8")
    expected = keras.ops.softmax(classifier.predict(TEXTS, verbose=0))
    labels, _, probabilities = saved_model_predict(
        str(tmp_path / "served"), TEXTS
    )
    np.testing.assert_allclose(
        probabilities, keras.ops.convert_to_numpy(expected), atol=1e-5
    )
    # The served model is the quantized one, not the float one.
    variables = _saved_model_dtypes(str(tmp_path / "served"))
    assert "int8" in variables


def test_export_jit_compile(tmp_path, capsys):
    """`export --jit-compile`: the served numbers are the task's, and the
    model's part is marked for XLA (the default marks nothing:
    `tests/export/test_saved_model.py`)."""
    from tests.export.test_saved_model import xla_functions

    classifier = saved_classifier(tmp_path / "classifier")
    code, _, err = run_cli(
        ["export", "--model", str(tmp_path / "classifier"),
         "--output", str(tmp_path / "served"), "--jit-compile"],
        capsys,
    )
    assert code in (0, None), err
    assert xla_functions(str(tmp_path / "served"))
    expected = keras.ops.softmax(classifier.predict(TEXTS, verbose=0))
    labels, _, probabilities = saved_model_predict(
        str(tmp_path / "served"), TEXTS
    )
    np.testing.assert_allclose(
        probabilities, keras.ops.convert_to_numpy(expected), atol=1e-5
    )
    assert labels == [["x", "y", "z"][i] for i in np.argmax(probabilities, -1)]


def _saved_model_dtypes(path):
    import tensorflow as tf

    reader = tf.train.load_checkpoint(os.path.join(path, "variables", "variables"))
    return {dtype.name for dtype in reader.get_variable_to_dtype_map().values()}


def test_finetune_lora_rank_trains_adapters_and_head_only(tmp_path, capsys):
    backbone = tiny_backbone()
    base = [keras.ops.convert_to_numpy(w) for w in backbone.weights]
    backbone.save_to_preset(str(tmp_path / "model"))
    tokenizer().save_to_preset(str(tmp_path / "model"))
    rows = ["text\tlabel"] + [
        f"{t}\t{label}" for t, label in zip(TEXTS * 4, "abc" * 4)
    ]
    (tmp_path / "train.tsv").write_text("\n".join(rows) + "\n")
    code, out, err = run_cli(
        ["finetune", "--model", str(tmp_path / "model"), "--lora-rank", "2",
         "--train", str(tmp_path / "train.tsv"),
         "--test", str(tmp_path / "train.tsv"), "--epochs", "2",
         "--batch-size", "4", "--sequence-length", "8", "--quiet",
         "--output-dir", str(tmp_path / "run")],
        capsys,
    )
    assert code in (0, None), err
    preset = str(tmp_path / "run" / "classifier")
    assert os.path.isfile(os.path.join(preset, "adapter.lora.h5"))
    classifier = keras_electra.ElectraClassifier.from_preset(preset)
    assert classifier.backbone._lora_rank == 2
    weights = classifier.backbone.weights
    adapters = [w for w in weights if "lora_kernel" in w.path]
    # The base is what it was; the adapters (B starts at zero) trained.
    adapter_ids = {id(w) for w in adapters}
    kept = [
        keras.ops.convert_to_numpy(w) for w in weights
        if id(w) not in adapter_ids
    ]
    for before, after in zip(base, kept):
        np.testing.assert_array_equal(after, before)
    trained = [w for w in adapters if w.path.endswith("lora_kernel_b")]
    assert all(np.abs(keras.ops.convert_to_numpy(w)).max() > 0 for w in trained)
