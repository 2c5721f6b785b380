import keras
from keras_hub.layers import MultiSegmentPacker
from keras_hub.models import Preprocessor
# Private: keras-hub's preprocessing decorator (tf conversion on the CPU);
# no public alias (keras-hub 0.32).
from keras_hub.src.utils.tensor_utils import preprocessing_function
import tensorflow as tf

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_tokenizer import ElectraTokenizer
from keras_electra.models.tf_graph import call_in_graph
from keras_electra.models.sequence_length import DynamicPaddingMixin
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import TextInputMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraMultipleChoicePreprocessor(
    TextInputMixin,
    DynamicPaddingMixin,
    PresetResolvingMixin,
    Preprocessor,
):
    """Packs a prompt with each of its choices (SWAG, RACE, ...).

    Every (prompt, choice) pair becomes `[CLS] prompt [SEP] choice [SEP]`
    (segment ids 0 then 1), truncated round-robin to `sequence_length`, as
    transformers' multiple-choice examples do. Outputs have shape
    `[batch, num_choices, sequence_length]`; labels (the index of the right
    choice) pass through.

    Args:
        tokenizer: A `keras_electra.ElectraTokenizer`.
        sequence_length: int. The packed length of each pair.
        truncate: `"round_robin"` or `"waterfall"`.

    Call arguments:
        x: a tuple `(prompts, choices)`: prompts `[batch]` strings, choices
            `[batch, num_choices]` strings.
        y: the index of the correct choice, `[batch]`.
        sample_weight: passed through.

    Example:
    ```python
    preprocessor = ElectraMultipleChoicePreprocessor(tokenizer, 32)
    # A bare tuple would be read as `(x, y)`: pass it as `x=`.
    x = preprocessor(x=(["The cat sat on the"], [["mat.", "sky.", "sea."]]))
    x["token_ids"].shape  # (1, 3, 32)
    ```
    """

    backbone_cls = ElectraBackbone
    tokenizer_cls = ElectraTokenizer

    def __init__(self, tokenizer, sequence_length=512, truncate="round_robin",
                 **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.truncate = truncate
        self.packer = None
        self._graph_functions = {}

    def build(self, input_shape):
        super().build(input_shape)
        self.packer = MultiSegmentPacker(
            start_value=self.tokenizer.start_token_id,
            end_value=self.tokenizer.end_token_id,
            pad_value=self.tokenizer.pad_token_id,
            truncate=self.truncate,
            sequence_length=self.sequence_length,
        )

    def _pack(self, prompts, choices):
        if choices.shape.rank != 2:
            raise ValueError(
                "Choices must have shape `[batch, num_choices]`. Received "
                f"rank {choices.shape.rank}."
            )
        num_choices = tf.shape(choices)[1]
        flat_prompts = tf.reshape(
            tf.repeat(prompts[:, None], num_choices, axis=1), [-1]
        )
        flat_choices = tf.reshape(choices, [-1])
        token_ids, segment_ids = self.packer(
            (self.tokenizer(flat_prompts), self.tokenizer(flat_choices))
        )
        shape = [-1, num_choices, self.sequence_length]
        token_ids = tf.reshape(token_ids, shape)
        return {
            "token_ids": token_ids,
            "segment_ids": tf.reshape(segment_ids, shape),
            "padding_mask": token_ids != self.tokenizer.pad_token_id,
        }

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        if not (isinstance(x, tuple) and len(x) == 2):
            raise ValueError(
                "Pass `(prompts, choices)`: a batch of prompt strings and a "
                "`[batch, num_choices]` batch of choice strings."
            )
        prompts = tf.convert_to_tensor(x[0])
        choices = tf.convert_to_tensor(x[1])
        x = call_in_graph(
            self._graph_functions, "pack", self._pack, prompts, choices
        )
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "truncate": self.truncate,
            }
        )
        return config

    @property
    def sequence_length(self):
        """The padded length of each (prompt, choice) sequence."""
        return self._sequence_length

    @sequence_length.setter
    def sequence_length(self, value):
        self._sequence_length = value
        if getattr(self, "packer", None) is not None:
            self.packer.sequence_length = value
