import keras
from keras_hub.models import TextClassifierPreprocessor

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_tokenizer import ElectraTokenizer
from keras_electra.models.sequence_length import DynamicPaddingMixin
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import TextInputMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraTextClassifierPreprocessor(
    TextInputMixin,
    DynamicPaddingMixin,
    PresetResolvingMixin,
    TextClassifierPreprocessor,
):
    """Tokenizes and packs single sentences or sentence pairs for ELECTRA.

    Produces `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, padded with
    `[PAD]` and truncated to `sequence_length`, with segment ids 0 for the
    first sentence (and its `[CLS]`/`[SEP]`) and 1 for the second, and a
    padding mask. Output keys: `"token_ids"`, `"segment_ids"`,
    `"padding_mask"`; labels and sample weights pass through unchanged.

    Args:
        tokenizer: A `keras_electra.ElectraTokenizer`.
        sequence_length: int. The length of the packed inputs. Longer inputs
            are truncated.
        truncate: `"round_robin"` (one token at a time from each segment) or
            `"waterfall"` (fill segments left to right).

    Call arguments:
        x: A string, a list or tensor of strings, or a tuple of two such
            (sentence pairs).
        y: Labels, passed through.
        sample_weight: Sample weights, passed through.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocab)
    preprocessor = keras_electra.ElectraTextClassifierPreprocessor(
        tokenizer, sequence_length=8
    )
    preprocessor(["The quick fox."])
    preprocessor(x=(tf.constant(["the fox"]), tf.constant(["brown fox"])))
    ```
    """

    backbone_cls = ElectraBackbone
    tokenizer_cls = ElectraTokenizer
