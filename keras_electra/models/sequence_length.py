"""How long packed sequences are: the backbone's limit, and padding.

- `clamp_sequence_length`: a task's preprocessor within its backbone's
  position embeddings.
- `DynamicPaddingMixin`: every task preprocessor pads a batch to its
  longest sequence, rounded up to a multiple (`padding="longest"`, the
  default), or to `sequence_length` (`padding="max_length"`, for TPUs and
  other static shapes). `sequence_length` stays the maximum (truncation).
- `bucketed_length` and `cut_to_length`: the same rule as functions, for
  the serving graph (`keras_electra.export`), so that Keras and the
  SavedModel pad alike.

Padding never changes a real position's output: attention ignores padded
keys, and position embeddings are absolute. A batch padded to 16 tokens
gives the numbers the same batch gives at 512, and costs a 16-token pass.
"""

import warnings

import numpy as np
import tensorflow as tf

PADDING_MODES = ("longest", "max_length")
# Buckets of 16 tokens: at most 32 shapes up to 512 (so XLA compiles the
# model at most 32 times), and at most 15 padded positions per sequence.
DEFAULT_PAD_TO_MULTIPLE_OF = 16
# The packed inputs that run along the sequence.
SEQUENCE_FEATURES = ("token_ids", "segment_ids", "padding_mask")


def clamp_sequence_length(preprocessor, backbone):
    """Lower `preprocessor.sequence_length` to the backbone's maximum.

    A task loaded from a preset whose preprocessor has another class gets a
    new preprocessor with the default length (512), which a backbone with
    fewer position embeddings cannot take.
    """
    length = getattr(preprocessor, "sequence_length", None)
    maximum = backbone.max_sequence_length
    if length is not None and length > maximum:
        warnings.warn(
            f"The preprocessor's `sequence_length` {length} exceeds the "
            f"backbone's `max_sequence_length` {maximum}; using {maximum}.",
            stacklevel=3,
        )
        preprocessor.sequence_length = maximum


def _round_up(longest, multiple, maximum):
    return min(max(-(-longest // multiple) * multiple, 1), maximum)


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
    return _round_up(longest, multiple, maximum)


def _to_numpy(x):
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch
        return x.detach().cpu().numpy()
    return x


def cut_to_length(values, length):
    """`values[..., :length]` for any backend's tensors and NumPy."""
    return values[..., :length]


class DynamicPaddingMixin:
    """Pads each batch to its longest sequence (rounded up), not to
    `sequence_length`.

    For the task preprocessors; listed before the keras-hub base class.
    Subclasses whose labels run along the sequence (token classification,
    causal LM) set `per_token_targets = True`, so that `y` and
    `sample_weight` are cut with the inputs.

    Args:
        padding: `"longest"` (default): pad to the batch's longest
            sequence, rounded up to `pad_to_multiple_of`; `"max_length"`:
            pad every batch to `sequence_length` (static shapes, e.g. for
            TPUs).
        pad_to_multiple_of: int. The bucket size of `"longest"` padding.
    """

    per_token_targets = False

    def __init__(
        self,
        *args,
        padding="longest",
        pad_to_multiple_of=DEFAULT_PAD_TO_MULTIPLE_OF,
        **kwargs,
    ):
        if padding not in PADDING_MODES:
            raise ValueError(
                f"`padding` must be one of {PADDING_MODES}. Received: "
                f"padding={padding!r}"
            )
        if not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1:
            raise ValueError(
                "`pad_to_multiple_of` must be a positive int. Received: "
                f"pad_to_multiple_of={pad_to_multiple_of!r}"
            )
        super().__init__(*args, **kwargs)
        self.padding = padding
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, *args, **kwargs):
        outputs = super().__call__(*args, **kwargs)
        if self.padding == "max_length":
            return outputs
        return self.cut_padding(outputs)

    def cut_padding(self, outputs):
        """`outputs` (`x` or `(x, y, sample_weight)`) cut to the batch's
        bucketed length."""
        import keras

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(outputs)
        if not isinstance(x, dict) or "padding_mask" not in x:
            return outputs
        length = bucketed_length(
            x["padding_mask"], self.pad_to_multiple_of, self.sequence_length
        )
        x = {
            key: cut_to_length(value, length)
            if key in SEQUENCE_FEATURES
            else value
            for key, value in x.items()
        }
        if self.per_token_targets:
            if y is not None:
                y = cut_to_length(y, length)
            if sample_weight is not None:
                sample_weight = cut_to_length(sample_weight, length)
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "padding": self.padding,
                "pad_to_multiple_of": self.pad_to_multiple_of,
            }
        )
        return config
