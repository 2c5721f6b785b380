"""`keras-electra finetune` and `evaluate`: a text classifier trained on
labelled data, and its accuracy on test data."""

import json
import math
import os
import time

import keras
import numpy as np

import keras_electra
from keras_electra.cli.labelled_data import load_task_data
from keras_electra.cli.run_directory import RunDir
from keras_electra.cli.shared import PROG
from keras_electra.cli.shared import UsageError
from keras_electra.cli.shared import say
from keras_electra.cli.shared import verbose
from keras_electra.presets import DISCRIMINATOR
# A pair directory written by `pretrain` (its format: `pair_preset`) and
# `pair_member(model, DISCRIMINATOR)`: one of its presets, or `model`.
from keras_electra.pretraining.pair_preset import member_preset as pair_member
from keras_electra.utils import quiet

# Label names travel in the classifier's own config (`label_names`); runs
# made before that kept them in this side file, which is still read.
LABEL_NAMES_FILE = "label_names.json"
# Fine-tuning without --sequence-length packs at most this many tokens
# (a 512-token preset would be slow on a CPU).
DEFAULT_MAX_FINETUNE_LENGTH = 128


def read_label_names(preset):
    """The names of an old run's side file, or `None`."""
    path = os.path.join(preset, LABEL_NAMES_FILE) if os.path.isdir(preset) else ""
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return None


def build_classifier(model, num_classes, seed, random_init, length,
                     label_names=None):
    keras.utils.set_random_seed(seed)
    with quiet.optimizer_not_loaded_is_expected():
        classifier = keras_electra.ElectraClassifier.from_preset(
            pair_member(model, DISCRIMINATOR),
            num_classes=num_classes,
            label_names=label_names,
            load_weights=not random_init,
        )
    preprocessor = classifier.preprocessor
    if length is None:
        length = min(preprocessor.sequence_length, DEFAULT_MAX_FINETUNE_LENGTH)
    limit = classifier.backbone.max_sequence_length
    if length > limit:
        raise UsageError(
            f"--sequence-length {length} exceeds the model's "
            f"max_sequence_length {limit}"
        )
    preprocessor.sequence_length = length
    return classifier


def labelled_dataset(data, ids, batch_size, seed=None):
    """A batched `tf.data.Dataset` of `(text or (text_a, text_b), label)`,
    reshuffled every epoch when `seed` is given."""
    import tensorflow as tf

    inputs = data.inputs()
    if isinstance(inputs, tuple):
        inputs = tuple(tf.constant(column) for column in inputs)
    else:
        inputs = tf.constant(inputs)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, ids))
    if seed is not None:
        dataset = dataset.shuffle(
            len(ids), seed=seed, reshuffle_each_iteration=True
        )
    return dataset.batch(batch_size)


def predict_classes(classifier, inputs, batch_size, verbose_level=0):
    logits = classifier.predict(inputs, batch_size=batch_size, verbose=verbose_level)
    logits = np.asarray(keras.ops.convert_to_numpy(logits), "float32")
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def accuracy_of(probabilities, ids):
    return float(np.mean(np.argmax(probabilities, -1) == ids))


def finetune(args, run, model, task, name, random_init=False):
    """Fine-tune `model` on `task.train`; evaluate on `task.test`."""
    from keras_electra.finetuning import create_optimizer

    start = time.time()
    classifier = build_classifier(
        model,
        len(task.label_names),
        args.seed,
        random_init,
        getattr(args, "sequence_length", None),
        label_names=task.label_names,
    )
    lora_rank = getattr(args, "lora_rank", None)
    if lora_rank:
        # Only the adapters and the head train; the preset keeps the base
        # weights and the adapters apart (see `save_to_preset`).
        classifier.backbone.enable_lora(lora_rank)
    train_ids = task.ids(task.train)
    steps = args.finetune_epochs * math.ceil(
        len(task.train) / args.finetune_batch_size
    )
    classifier.compile(
        optimizer=create_optimizer(
            classifier,
            learning_rate=args.finetune_learning_rate,
            num_train_steps=steps,
            layerwise_lr_decay=getattr(args, "layerwise_lr_decay", None),
        ),
        metrics=["accuracy"],
    )
    kind = "random weights" if random_init else "pre-trained weights"
    if lora_rank:
        kind += f", LoRA rank {lora_rank}"
    say(
        f"\n== Fine-tuning {name} ({kind}): {len(task.train)} examples, "
        f"{args.finetune_epochs} epochs, {steps} steps, learning rate "
        f"{args.finetune_learning_rate:g}"
    )
    validation = None
    if task.validation is not None:
        validation = labelled_dataset(
            task.validation, task.ids(task.validation), 64
        )
    classifier.fit(
        labelled_dataset(
            task.train, train_ids, args.finetune_batch_size, seed=args.seed
        ),
        epochs=args.finetune_epochs,
        shuffle=False,  # `labelled_dataset` shuffles every epoch
        validation_data=validation,
        callbacks=run.callbacks(name),
        verbose=verbose(args),
    )
    fit_seconds = time.time() - start
    output = run.path(name)
    classifier.save_to_preset(output)  # with its `label_names`
    result = {
        "model": model,
        "random_init": random_init,
        "preset": output,
        "train_examples": len(task.train),
        "steps": steps,
        "seconds": round(fit_seconds, 1),
    }
    if task.test is not None:
        probabilities = predict_classes(
            classifier, task.test.inputs(), 64, verbose(args)
        )
        result["test_examples"] = len(task.test)
        result["test_accuracy"] = accuracy_of(
            probabilities, task.ids(task.test)
        )
        result["test_predictions"] = np.argmax(probabilities, -1).tolist()
        say(f"   test accuracy: {result['test_accuracy']:.3f}")
    return classifier, result


def cmd_finetune(args):
    run = RunDir(args, "finetune")
    task = load_task_data(args, run=run)
    say(f"Data: {task.description}; labels: {', '.join(task.label_names)}")
    _, result = finetune(
        args, run, args.model, task, "classifier", args.random_init
    )
    result.pop("test_predictions", None)
    run.write_json("results.json", {"finetuning": result})
    say(f"\nClassifier: {result['preset']}")
    say(f"Next: {PROG} export --model {result['preset']} --output MODEL_DIR")


def load_classifier(model):
    preset = pair_member(model, DISCRIMINATOR)
    with quiet.optimizer_not_loaded_is_expected():
        classifier = keras_electra.ElectraClassifier.from_preset(preset)
    names = classifier.label_names or read_label_names(preset)
    if names is None:
        names = [str(i) for i in range(classifier.num_classes)]
    return classifier, names


def cmd_evaluate(args):
    classifier, names = load_classifier(args.model)
    task = load_task_data(args, need_train=False, label_names=names)
    if task.test is None:
        raise UsageError("no test data: give --test FILE or --dataset")
    probabilities = predict_classes(
        classifier, task.test.inputs(), 64, verbose(args)
    )
    ids = task.ids(task.test)
    predicted = np.argmax(probabilities, -1)
    result = {
        "model": args.model,
        "data": task.description,
        "examples": len(ids),
        "accuracy": accuracy_of(probabilities, ids),
        "per_class_accuracy": {
            name: float(np.mean(predicted[ids == i] == i))
            for i, name in enumerate(names)
            if np.any(ids == i)
        },
    }
    say(f"accuracy: {result['accuracy']:.4f} on {len(ids)} examples")
    for name, value in result["per_class_accuracy"].items():
        say(f"  {name:<20} {value:.4f}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
