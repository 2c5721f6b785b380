"""How long packed sequences are: the backbone's limit, and padding.

- `clamp_sequence_length`: a task's preprocessor within its backbone's
  position embeddings.
- `DynamicPaddingMixin`: every task preprocessor pads a batch to its
  longest sequence, rounded up to a multiple (`padding="longest"`, the
  default), or to `sequence_length` (`padding="max_length"`, for TPUs and
  other static shapes). `sequence_length` stays the maximum (truncation).
  The rule itself is `keras_electra.utils.padding`.

Padding never changes a real position's output: attention ignores padded
keys, and position embeddings are absolute. A batch padded to 16 tokens
gives the numbers the same batch gives at 512, and costs a 16-token pass.
"""

import warnings

from keras_electra.utils.padding import DEFAULT_PAD_TO_MULTIPLE_OF
from keras_electra.utils.padding import PADDING_MODES
from keras_electra.utils.padding import bucketed_length
from keras_electra.utils.padding import cut_to_length

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
