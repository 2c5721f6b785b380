"""The checks of `keras_electra.utils.input_validation`, without models."""

import types

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_electra
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.input_validation import InvalidInputError
from keras_electra.utils.input_validation import checked_dataset
from keras_electra.utils.input_validation import validate_token_inputs

# A backbone's limits are all the checks read.
BACKBONE = types.SimpleNamespace(
    vocabulary_size=100, max_sequence_length=32, num_segments=2
)
TASK = types.SimpleNamespace(backbone=BACKBONE)


def inputs(batch=2, seq=8):
    return {
        "token_ids": np.ones((batch, seq), "int32"),
        "segment_ids": np.zeros((batch, seq), "int32"),
        "padding_mask": np.ones((batch, seq), "int32"),
    }


def test_exported_and_a_value_error():
    assert keras_electra.InvalidInputError is InvalidInputError
    assert issubclass(InvalidInputError, ValueError)


def test_valid_inputs_pass():
    validate_token_inputs(inputs(seq=32), BACKBONE)
    x = inputs()
    x["token_ids"][:] = 99
    x["segment_ids"][:, 4:] = 1
    validate_token_inputs(x, TASK)


def test_id_over_vocabulary_names_input_value_position_limit_remedy():
    x = inputs()
    x["token_ids"][1, 3] = 150
    with pytest.raises(InvalidInputError) as info:
        validate_token_inputs(x, TASK)
    message = str(info.value)
    assert "`token_ids` holds 150 at position (1, 3)" in message
    assert "[0, 100)" in message and "vocabulary_size=100" in message
    assert "preprocessor" in message


def test_negative_id():
    x = inputs()
    x["token_ids"][0, 2] = -1
    with pytest.raises(
        InvalidInputError, match=r"`token_ids` holds -1 at position \(0, 2\)"
    ):
        validate_token_inputs(x, BACKBONE)


def test_first_bad_position_is_reported():
    x = inputs()
    x["token_ids"][1, 5] = 500
    x["token_ids"][0, 6] = 101
    with pytest.raises(InvalidInputError, match=r"101 at position \(0, 6\)"):
        validate_token_inputs(x, BACKBONE)


def test_too_long_names_length_limit_and_truncation():
    with pytest.raises(InvalidInputError) as info:
        validate_token_inputs(inputs(seq=40), BACKBONE)
    message = str(info.value)
    assert "`token_ids` has 40 tokens per sequence (shape (2, 40))" in message
    assert "max_sequence_length=32" in message
    assert "Truncate every sequence to 32 tokens" in message


def test_segment_id_over_num_segments():
    x = inputs()
    x["segment_ids"][0, 5] = 2
    with pytest.raises(InvalidInputError) as info:
        validate_token_inputs(x, BACKBONE)
    message = str(info.value)
    assert "`segment_ids` holds 2 at position (0, 5)" in message
    assert "num_segments=2" in message and "0 .. 1" in message


@pytest.mark.parametrize("name", ["padding_mask", "segment_ids"])
def test_shape_mismatch(name):
    x = inputs()
    x[name] = x[name][:, :6]
    with pytest.raises(
        InvalidInputError,
        match=rf"`{name}` has shape \(2, 6\) but `token_ids` has shape \(2, 8\)",
    ):
        validate_token_inputs(x, BACKBONE)


def test_backend_tensors_are_checked():
    x = inputs()
    x["token_ids"][1, 3] = 150
    x = {k: keras.ops.convert_to_tensor(v) for k, v in x.items()}
    with pytest.raises(InvalidInputError, match="150 at position"):
        validate_token_inputs(x, BACKBONE)


def test_symbolic_and_other_inputs_pass_unchecked():
    symbolic = {
        name: keras.Input(shape=(40,), dtype="int32", name=name)
        for name in ("token_ids", "segment_ids", "padding_mask")
    }
    validate_token_inputs(symbolic, BACKBONE)
    validate_token_inputs(["raw text", "more"], BACKBONE)
    validate_token_inputs(None, BACKBONE)


class _Iterating:
    """Stands in for `keras.Model.predict`: iterates the dataset it gets."""

    def predict(self, x=None, **kwargs):
        return [batch for batch in x]


class _Checked(InputValidatingMixin, _Iterating):
    backbone = BACKBONE


def _dataset(bad_batch):
    x = inputs(batch=4)
    if bad_batch is not None:
        x.update(bad_batch)
    return tf.data.Dataset.from_tensor_slices(x).batch(2)


def test_dataset_checked_batch_by_batch():
    token_ids = np.ones((4, 8), "int32")
    token_ids[3, 1] = 150  # the second batch
    with pytest.raises(InvalidInputError) as info:
        _Checked().predict(_dataset({"token_ids": token_ids}))
    message = str(info.value)
    assert "`token_ids` holds 150 at position (1, 1)" in message
    assert "vocabulary_size=100" in message
    assert "model's preprocessor" in message
    assert "tf.data.Dataset" in message


def test_dataset_segment_ids_and_length():
    segment_ids = np.zeros((4, 8), "int32")
    segment_ids[0, 7] = 3
    with pytest.raises(InvalidInputError, match="`segment_ids` holds 3"):
        _Checked().predict(_dataset({"segment_ids": segment_ids}))
    long = tf.data.Dataset.from_tensor_slices(inputs(batch=2, seq=40)).batch(2)
    with pytest.raises(InvalidInputError, match="has 40 tokens per sequence"):
        _Checked().predict(long)


def test_dataset_of_valid_or_raw_inputs_unchanged():
    assert len(_Checked().predict(_dataset(None))) == 2
    raw = tf.data.Dataset.from_tensor_slices(["a b", "c"]).batch(2)
    assert checked_dataset(raw, BACKBONE) is raw
