"""`keras-electra export`: a task as a TensorFlow SavedModel that takes
raw strings, and predictions from such a SavedModel."""

import json
import os
import time

import keras_electra
from keras_electra.cli.finetune import read_label_names
from keras_electra.cli.shared import PROG
from keras_electra.cli.shared import UsageError
from keras_electra.cli.shared import say
from keras_electra.presets import DISCRIMINATOR
from keras_electra.pretraining.pair_preset import member_preset as pair_member
from keras_electra.utils import quiet

SAVED_MODEL_FILE = "saved_model.pb"


def is_saved_model(path):
    return os.path.isfile(os.path.join(path, SAVED_MODEL_FILE))


def saved_model_predict(path, inputs, batch_size=64):
    """Labels, scores and probabilities from a SavedModel on raw strings."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the WordPiece ops)

    served = tf.saved_model.load(path)
    function = served.signatures["serving_default"]
    names = sorted(function.structured_input_signature[1])
    pairs = isinstance(inputs, tuple)
    columns = inputs if pairs else (inputs,)
    if len(columns) != len(names):
        raise UsageError(
            f"the SavedModel {path!r} takes {len(names)} text input(s) "
            f"({', '.join(names)}), {len(columns)} were given"
        )
    order = ("text_a", "text_b") if pairs else names
    labels, scores, probabilities = [], [], []
    for start in range(0, len(columns[0]), batch_size):
        feed = {
            name: tf.constant(column[start : start + batch_size])
            for name, column in zip(order, columns)
        }
        out = function(**feed)
        labels += [x.decode("utf-8") for x in out["label"].numpy()]
        scores += out["score"].numpy().tolist()
        if "probabilities" in out:
            probabilities += out["probabilities"].numpy().tolist()
    return labels, scores, probabilities


def export_classifier(classifier, path, label_names):
    start = time.time()
    classifier.export(path, label_names=label_names, overwrite=True)
    return time.time() - start


TASK_CLASSES = (
    "ElectraClassifier",
    "ElectraDiscriminator",
    "ElectraMaskedLM",
    "ElectraTokenClassifier",
    "ElectraQuestionAnswerer",
    "ElectraMultipleChoice",
)


def load_task(model):
    """Any exportable task from a preset, by its `task.json` class."""
    path = os.path.join(model, "task.json") if os.path.isdir(model) else ""
    class_name = "ElectraDiscriminator"
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            class_name = json.load(f).get("class_name", class_name)
    if class_name not in TASK_CLASSES:
        raise UsageError(
            f"{model!r} holds a {class_name}, which cannot be exported; "
            f"exportable: {', '.join(TASK_CLASSES)}"
        )
    with quiet.optimizer_not_loaded_is_expected():
        return getattr(keras_electra, class_name).from_preset(model)


def cmd_export(args):
    model = pair_member(args.model, DISCRIMINATOR)
    task = load_task(model)
    # The task's own `label_names` are exported with it; an old run's side
    # file names a classifier saved without them.
    names = None
    if getattr(task, "label_names", None) is None:
        names = read_label_names(model)
    if args.quantize:
        task.quantize(args.quantize)
    options = {"overwrite": args.overwrite}
    if args.jit_compile:
        options["jit_compile"] = True
    if names is not None:
        options["label_names"] = names
    path = task.export(args.output, **options)
    say(f"SavedModel ({type(task).__name__}): {path}")
    say(f"Next: {PROG} predict --model {path} \"some text\"")
