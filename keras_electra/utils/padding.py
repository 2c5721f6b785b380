"""The padding rule for packed sequences, as plain functions.

A batch is padded to its longest sequence, rounded up to a multiple, at
most the maximum. `keras_electra.models.sequence_length.DynamicPaddingMixin`
applies it in every task preprocessor, and the serving graph
(`keras_electra.export`) through those preprocessors; question answering's
in-graph first window calls it directly.

Padding never changes a real position's output: attention ignores padded
keys, and position embeddings are absolute.
"""

import numpy as np
import tensorflow as tf

PADDING_MODES = ("longest", "max_length")
# Buckets of 16 tokens: at most 32 shapes up to 512 (so XLA compiles the
# model at most 32 times), and at most 15 padded positions per sequence.
DEFAULT_PAD_TO_MULTIPLE_OF = 16


def bucketed_length(padding_mask, multiple, maximum):
    """The padded length for a batch: its longest sequence (the most
    non-padding positions of `padding_mask`, `[..., seq]`), rounded up to
    `multiple`, at least 1 and at most `maximum`.

    A Python int for concrete values; a scalar tensor inside a TensorFlow
    graph (`tf.data`, a SavedModel's signature).
    """
    if tf.is_tensor(padding_mask) and not tf.executing_eagerly():
        counts = tf.reduce_sum(tf.cast(padding_mask, tf.int32), axis=-1)
        longest = tf.reduce_max(tf.concat([tf.reshape(counts, [-1]), [0]], 0))
        rounded = (longest + multiple - 1) // multiple * multiple
        return tf.clip_by_value(rounded, 1, maximum)
    mask = np.asarray(_to_numpy(padding_mask))
    longest = int(mask.astype(bool).sum(-1).max()) if mask.size else 0
    return min(max(-(-longest // multiple) * multiple, 1), maximum)


def _to_numpy(x):
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch
        return x.detach().cpu().numpy()
    return x


def cut_to_length(values, length):
    """`values[..., :length]` for any backend's tensors and NumPy."""
    return values[..., :length]


def packer_like(preprocessor, cls=None, sequence_length=None):
    """A preprocessor of class `cls` (default: the same) that packs as
    `preprocessor` does (tokenizer, truncation, padding), to at most
    `sequence_length` tokens (default: the same). `preprocessor` itself when
    nothing differs; otherwise a new one, leaving it untouched."""
    cls = cls or type(preprocessor)
    length = int(sequence_length or preprocessor.sequence_length)
    if cls is type(preprocessor) and length == preprocessor.sequence_length:
        return preprocessor
    kwargs = {
        "padding": preprocessor.padding,
        "pad_to_multiple_of": preprocessor.pad_to_multiple_of,
    }
    if getattr(preprocessor, "truncate", None) is not None:
        kwargs["truncate"] = preprocessor.truncate
    return cls(preprocessor.tokenizer, sequence_length=length, **kwargs)
