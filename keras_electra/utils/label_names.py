"""The `label_names` a classifier carries (and exports): checked, and
looked up for predicted ids."""

import tensorflow as tf


def check_label_names(label_names, num_classes):
    """`label_names` as a list of distinct strings, one per class.

    `None` stays `None`; `num_classes=None` skips the count check. Raises a
    `ValueError` that names the problem.
    """
    if label_names is None:
        return None
    if isinstance(label_names, str) or not all(
        isinstance(name, str) for name in label_names
    ):
        raise ValueError(
            "`label_names` must be a list of strings. Received: "
            f"label_names={label_names!r}"
        )
    label_names = list(label_names)
    if num_classes is not None and len(label_names) != num_classes:
        raise ValueError(
            f"`label_names` has {len(label_names)} names but `num_classes` "
            f"is {num_classes}: give one name per class. Received: "
            f"label_names={label_names!r}"
        )
    if len(set(label_names)) != len(label_names):
        raise ValueError(
            f"`label_names` must be distinct. Received: {label_names!r}"
        )
    return label_names


def label_strings(label_ids, label_names=None):
    """The label of each id of the int tensor `label_ids`, with TensorFlow
    ops: `label_names[id]`, or the id as a string (`"0"`, `"1"`, ...)
    without names."""
    if not label_names:
        return tf.strings.as_string(label_ids)
    return tf.gather(tf.constant([str(name) for name in label_names]), label_ids)
