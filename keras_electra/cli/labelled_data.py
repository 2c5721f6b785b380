"""The labelled data of `finetune`, `evaluate` and `quickstart`: files,
`--dataset`, or the bundled author task."""

import os

import numpy as np

from keras_electra import data as bundled
from keras_electra.cli import readers
from keras_electra.cli.shared import UsageError


class TaskData:
    def __init__(self, train, test, validation, label_names, description):
        self.train = train
        self.test = test
        self.validation = validation
        self.label_names = list(label_names)
        self.description = description

    def ids(self, split):
        return np.array(readers.label_ids(split, self.label_names), "int32")


def bundled_task(args):
    task = bundled.author_task(
        train_per_class=getattr(args, "train_per_class", 1),
        test_per_class=args.test_per_class,
    )
    train, test = (
        labelled_split(task, name, "bundled author task")
        for name in ("train", "test")
    )
    return train, test, task["label_names"], task


def labelled_split(drawn, name, source):
    """`LabelledText` of split `name` of a bundled task dict (examples
    `(text, label)` or `((text_a, text_b), label)`, label an index into
    `drawn["label_names"]`)."""
    names = drawn["label_names"]
    texts = [t for t, _ in drawn[name]]
    pairs = bool(texts) and isinstance(texts[0], tuple)
    return readers.LabelledText(
        [t[0] for t in texts] if pairs else texts,
        [t[1] for t in texts] if pairs else None,
        [names[label] for _, label in drawn[name]],
        source=f"{source} ({name})",
    )


def task_data(drawn, description, source="bundled task"):
    """`TaskData` (train and test, no validation) of a bundled task dict."""
    return TaskData(
        labelled_split(drawn, "train", source),
        labelled_split(drawn, "test", source),
        None,
        drawn["label_names"],
        description,
    )


def load_task_data(args, need_train=True, label_names=None, run=None):
    """The labelled data the options ask for (`app._labelled_data`)."""
    columns = dict(
        text_column=args.text_column,
        label_column=args.label_column,
        text_b_column=args.text_b_column,
    )
    train = test = validation = None
    if args.dataset:
        if need_train:
            train = readers.read_dataset(
                args.dataset,
                args.train_split,
                config=args.dataset_config,
                max_examples=getattr(args, "max_train_examples", None),
                **columns,
            )
        test = readers.read_dataset(
            args.dataset, args.test_split, config=args.dataset_config, **columns
        )
        description = f"{args.dataset} ({args.train_split}/{args.test_split})"
        declared = (train or test).label_names
    elif (need_train and getattr(args, "train", None)) or args.test:
        if need_train:
            if not args.train:
                raise UsageError("--test without --train: give both")
            train = readers.read_labelled_file(args.train, **columns)
        if args.test:
            test = readers.read_labelled_file(args.test, **columns)
        description = ", ".join(
            os.path.basename(s.source) for s in (train, test) if s is not None
        )
        declared = None
    else:
        train, test, declared, task = bundled_task(args)
        description = (
            f"bundled author task: {len(declared)} authors, "
            f"{len(train) // len(declared)} training and "
            f"{len(test) // len(declared)} test passages each "
            f"(test chapters held out)"
        )
        if run is not None:
            os.makedirs(run.path("data"), exist_ok=True)
            for name in ("train", "test"):
                readers.write_labelled_tsv(
                    run.path("data", f"{name}.tsv"), task[name], declared
                )
        if not need_train:
            train = None
    validation_file = getattr(args, "validation", None)
    if validation_file:
        validation = readers.read_labelled_file(validation_file, **columns)
    max_train = getattr(args, "max_train_examples", None)
    if train is not None and max_train and len(train) > max_train:
        keep = np.random.default_rng(args.seed).permutation(len(train))
        keep = sorted(keep[:max_train])
        train = readers.LabelledText(
            [train.texts[i] for i in keep],
            None if train.texts_b is None else [train.texts_b[i] for i in keep],
            [train.labels[i] for i in keep],
            train.source,
            train.label_names,
        )
    if label_names is None:
        if train is None:
            raise UsageError("no training data to take the labels from")
        label_names = readers.label_vocabulary(train, declared)
    return TaskData(train, test, validation, label_names, description)
