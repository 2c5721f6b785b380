"""Bad token inputs raise `keras_electra.InvalidInputError` on every backend.

Before the checks, an id >= vocabulary_size gave a Gather error on
TensorFlow, an IndexError on PyTorch and silent NaN on JAX; a sequence over
max_sequence_length three unrelated slice errors.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_electra
from tests.conftest import TINY_VOCAB
from tests.tiny_models import tiny_backbone

VOCABULARY_SIZE = 100
MAX_SEQUENCE_LENGTH = 32


# The shared tiny backbone, 1 layer, on a 100-piece vocabulary.
BACKBONE = dict(vocabulary_size=VOCABULARY_SIZE, num_layers=1, embedding_dim=None)


@pytest.fixture(scope="module")
def backbone():
    return tiny_backbone(**BACKBONE)


@pytest.fixture(scope="module")
def classifier(backbone):
    classifier = keras_electra.ElectraClassifier(backbone, num_classes=2)
    classifier.compile(optimizer="adam")
    return classifier


@pytest.fixture(scope="module")
def pretrainer():
    vocabulary = TINY_VOCAB + [
        f"word{i}" for i in range(VOCABULARY_SIZE - len(TINY_VOCAB))
    ]
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocabulary)
    pretrainer = keras_electra.ElectraPretrainer(
        tiny_backbone(**BACKBONE), tokenizer=tokenizer, seed=0
    )
    pretrainer.compile()
    return pretrainer


def inputs(batch=2, seq=8):
    return {
        "token_ids": np.full((batch, seq), 7, "int32"),
        "segment_ids": np.zeros((batch, seq), "int32"),
        "padding_mask": np.ones((batch, seq), "int32"),
    }


def id_too_large():
    x = inputs()
    x["token_ids"][1, 3] = 150
    return x


# The two rows of the table: (inputs, what the message must say).
CASES = {
    "id_150": (
        id_too_large,
        [
            "`token_ids` holds 150 at position (1, 3)",
            "vocabulary_size=100",
            "model's preprocessor",
        ],
    ),
    "40_tokens": (
        lambda: inputs(seq=40),
        [
            "`token_ids` has 40 tokens per sequence",
            "max_sequence_length=32",
            "Truncate every sequence to 32 tokens",
        ],
    ),
}

ENTRY_POINTS = {
    "backbone_call": lambda models, x: models["backbone"](x),
    "task_predict": lambda models, x: models["classifier"].predict(
        x, verbose=0
    ),
    "task_fit": lambda models, x: models["classifier"].fit(
        x, np.zeros(len(x["token_ids"])), verbose=0
    ),
    "task_evaluate": lambda models, x: models["classifier"].evaluate(
        x, np.zeros(len(x["token_ids"])), verbose=0
    ),
    "pretrainer_fit": lambda models, x: models["pretrainer"].fit(
        x, verbose=0
    ),
    "pretrainer_train_on_batch": lambda models, x: models[
        "pretrainer"
    ].train_on_batch(x),
}


@pytest.fixture(scope="module")
def models(backbone, classifier, pretrainer):
    return {
        "backbone": backbone,
        "classifier": classifier,
        "pretrainer": pretrainer,
    }


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_named_error(models, case, entry):
    make_inputs, expected = CASES[case]
    with pytest.raises(keras_electra.InvalidInputError) as info:
        ENTRY_POINTS[entry](models, make_inputs())
    for text in expected:
        assert text in str(info.value)


def test_segment_id_and_padding_mask_through_predict(classifier):
    x = inputs()
    x["segment_ids"][0, 5] = 2
    with pytest.raises(
        keras_electra.InvalidInputError,
        match=r"`segment_ids` holds 2 at position \(0, 5\).*num_segments=2",
    ):
        classifier.predict(x, verbose=0)
    x = inputs()
    x["padding_mask"] = x["padding_mask"][:, :5]
    with pytest.raises(
        keras_electra.InvalidInputError, match="`padding_mask` has shape"
    ):
        classifier.predict(x, verbose=0)


def test_validation_data_is_checked(classifier):
    with pytest.raises(keras_electra.InvalidInputError, match="150"):
        classifier.fit(
            inputs(),
            np.zeros(2),
            validation_data=(id_too_large(), np.zeros(2)),
            verbose=0,
        )


def test_dataset_bad_later_batch(classifier):
    """A `tf.data.Dataset` is checked batch by batch, in its pipeline.

    `predict` rather than `fit`: the same hook, one compile less.
    """
    x = inputs(batch=4, seq=MAX_SEQUENCE_LENGTH)
    x["token_ids"][3, 1] = 150  # the second batch
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(2)
    with pytest.raises(
        keras_electra.InvalidInputError,
        match=r"`token_ids` holds 150 at position \(1, 1\)",
    ):
        classifier.predict(dataset, verbose=0)
    # The model keeps its weights (Keras' JAX trainer takes them out of
    # the variables during the loop).
    logits = classifier.predict(inputs(seq=MAX_SEQUENCE_LENGTH), verbose=0)
    assert np.isfinite(logits).all()


def test_valid_inputs_still_run(backbone, classifier):
    """Ids up to vocabulary_size - 1, both segments, full length: no error.

    (The pre-training tests run the pretrainer on valid batches.)
    """
    x = inputs(seq=MAX_SEQUENCE_LENGTH)
    x["token_ids"][:, -1] = VOCABULARY_SIZE - 1
    x["segment_ids"][:, 16:] = 1
    hidden = keras.ops.convert_to_numpy(backbone(x))
    assert hidden.shape == (2, MAX_SEQUENCE_LENGTH, 16)
    assert np.isfinite(hidden).all()
    logits = classifier.predict(x, verbose=0)
    assert logits.shape == (2, 2) and np.isfinite(logits).all()
