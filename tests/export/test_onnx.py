"""ONNX export of the token-id graph: ONNX Runtime equals `predict`."""

import numpy as np
import onnxruntime
import pytest
from keras import ops

import keras_electra
from keras_electra.export.onnx import export_onnx
from tests.conftest import TINY_VOCAB
from tests.tiny_models import tiny_backbone


def test_masked_lm_onnx_matches_predict(tmp_path):
    task = keras_electra.ElectraMaskedLM(tiny_backbone(seed=7))
    task.jit_compile = False  # each shape runs once: skip XLA compiles
    path = export_onnx(task, tmp_path / "masked_lm.onnx")
    with pytest.raises(FileExistsError):
        export_onnx(task, path)

    session = onnxruntime.InferenceSession(path)
    assert {i.name for i in session.get_inputs()} == set(task.input)
    assert [o.name for o in session.get_outputs()] == ["logits"]
    rng = np.random.default_rng(0)
    worst = 0.0
    for batch, length in ((7, 9), (1, 20)):
        padding_mask = np.ones((batch, length), "int32")
        for i in range(batch):
            padding_mask[i, length - i :] = 0  # rows of different lengths
        x = {
            "token_ids": rng.integers(5, len(TINY_VOCAB), (batch, length))
            * padding_mask,
            "segment_ids": (rng.random((batch, length)) < 0.5) * padding_mask,
            "padding_mask": padding_mask,
            "mask_positions": rng.integers(0, length - batch + 1, (batch, 3)),
        }
        x = {k: v.astype("int32") for k, v in x.items()}
        (actual,) = session.run(None, x)
        expected = ops.convert_to_numpy(task.predict(x, verbose=0))
        assert actual.shape == expected.shape == (batch, 3, len(TINY_VOCAB))
        worst = max(worst, float(np.abs(actual - expected).max()))
    print(f"ONNX masked LM logits: max |diff| {worst:.2e}")
    assert worst <= 1e-5
