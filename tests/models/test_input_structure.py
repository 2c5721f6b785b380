"""Inputs whose structure is wrong raise `InvalidInputError`; packed inputs
given to a task with a preprocessor run unchanged.

Before these checks (8fd2f05), two inputs gave confident garbage:

- `task.predict(packed_dict)` sent the dict through the preprocessor, which
  tokenized the dict's three key names as three texts (shape `(3, ...)`,
  independent of the token ids);
- a dict with a key the model does not take (`labels`, or `segment_ids` for
  `ElectraCausalLM`) was matched to the inputs *by position*, with a warning.

Every task class (and the backbone and the pre-trainer) is checked, on the
backend the suite runs under.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_electra
from keras_electra import InvalidInputError

PRESET = "electra_tiny_gutenberg_en"  # bundled: no download
TEXT = ["it is a truth universally acknowledged", "the man was at the door"]

# Task class -> (constructor arguments, raw input for its preprocessor).
TASKS = {
    "ElectraClassifier": ({"num_classes": 2}, TEXT),
    "ElectraDiscriminator": ({}, TEXT),
    "ElectraTokenClassifier": (
        {"num_classes": 3},
        [t.split() for t in TEXT],
    ),
    "ElectraQuestionAnswerer": ({}, (["who was at the door"], TEXT[1:])),
    "ElectraMultipleChoice": (
        {"num_choices": 2},
        (["it is a truth"], [["the man", "the door"]]),
    ),
    "ElectraMaskedLM": ({}, ["it is a [MASK] universally acknowledged"]),
    "ElectraCausalLM": ({}, TEXT),
}


@pytest.fixture(scope="module")
def tasks():
    return {
        name: getattr(keras_electra, name).from_preset(PRESET, **kwargs)
        for name, (kwargs, _) in TASKS.items()
    }


def packed(task, name):
    """The task's own preprocessor output for its raw input, as NumPy."""
    raw = TASKS[name][1]
    if name == "ElectraQuestionAnswerer":
        x = task.preprocessor.featurize(*raw).x
    else:
        x = task.preprocessor(x=raw)
        x = x[0] if isinstance(x, tuple) else x
    return {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}


def numpy(outputs):
    return keras.ops.convert_to_numpy(outputs)


@pytest.mark.parametrize("name", TASKS)
def test_predict_on_packed_inputs_runs_the_model_unchanged(tasks, name):
    task = tasks[name]
    x = packed(task, name)
    direct = numpy(task(x))
    predicted = task.predict(x, verbose=0)
    assert predicted.shape == direct.shape
    np.testing.assert_allclose(predicted, direct, atol=2e-5, rtol=1e-5)
    # The token ids are what is run: changing one changes the output.
    changed = dict(x)
    changed["token_ids"] = x["token_ids"].copy()
    flat = changed["token_ids"].reshape(-1)
    flat[1] = 7 if flat[1] != 7 else 8
    assert not np.allclose(task.predict(changed, verbose=0), predicted)


def with_extra(x, key):
    extra = dict(x)
    extra[key] = np.zeros_like(x["token_ids"])
    return extra


def extra_keys(name):
    # `segment_ids` is what every other ELECTRA model takes (transformers'
    # `token_type_ids`): refused, not dropped, where the model has none.
    return ["labels", "segment_ids"] if name == "ElectraCausalLM" else [
        "labels"
    ]


@pytest.mark.parametrize("name", TASKS)
def test_a_dict_with_another_key_raises_everywhere(tasks, name):
    task = tasks[name]
    x = packed(task, name)
    y = np.zeros(len(x["token_ids"]), "int32")
    for key in extra_keys(name):
        bad = with_extra(x, key)
        calls = {
            "__call__": lambda: task(bad),
            "predict": lambda: task.predict(bad, verbose=0),
            "evaluate": lambda: task.evaluate(bad, y, verbose=0),
            "fit": lambda: task.fit(bad, y, verbose=0),
            "predict_on_batch": lambda: task.predict_on_batch(bad),
        }
        for method, call in calls.items():
            with pytest.raises(InvalidInputError) as info:
                call()
            message = str(info.value)
            assert f"unexpected ['{key}']" in message, (method, message)
            assert str(list(task.input)) in message, (method, message)


@pytest.mark.parametrize("name", TASKS)
def test_a_dict_missing_a_key_raises(tasks, name):
    task = tasks[name]
    x = packed(task, name)
    del x["padding_mask"]
    for call in (lambda: task(x), lambda: task.predict(x, verbose=0)):
        with pytest.raises(InvalidInputError, match=r"missing \['padding_mask'\]"):
            call()


@pytest.mark.parametrize("name", ["ElectraClassifier", "ElectraCausalLM"])
def test_a_dataset_with_another_key_raises(tasks, name):
    task = tasks[name]
    x = with_extra(packed(task, name), "labels")
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(2)
    with pytest.raises(InvalidInputError, match=r"unexpected \['labels'\]"):
        task.predict(dataset, verbose=0)


@pytest.mark.parametrize("name", TASKS)
def test_preprocessors_refuse_what_is_not_text(tasks, name):
    task = tasks[name]
    x = packed(task, name)
    with pytest.raises(InvalidInputError, match="not a dict"):
        task.preprocessor(x)
    with pytest.raises(InvalidInputError, match="takes raw text"):
        task.preprocessor(x["token_ids"])
    with pytest.raises(InvalidInputError, match="takes raw text"):
        task.preprocessor([[3, 4, 5]])


def test_backbone_and_pretrainer_refuse_other_keys(tasks):
    backbone = tasks["ElectraClassifier"].backbone
    x = packed(tasks["ElectraClassifier"], "ElectraClassifier")
    with pytest.raises(InvalidInputError, match=r"unexpected \['labels'\]"):
        backbone(with_extra(x, "labels"))
    pretrainer = keras_electra.ElectraPretrainer.from_preset(PRESET)
    pretrainer.compile()
    for call in (
        lambda: pretrainer(with_extra(x, "labels")),
        lambda: pretrainer.fit(with_extra(x, "labels"), verbose=0),
    ):
        with pytest.raises(InvalidInputError, match=r"unexpected \['labels'\]"):
            call()


def test_causal_lm_preprocessor_fits_the_backbone(tasks):
    """keras-hub's causal-LM preprocessor defaults to 1024 tokens; the
    bundled backbone has 128 positions."""
    task = tasks["ElectraCausalLM"]
    assert task.preprocessor.sequence_length == task.backbone.max_sequence_length
