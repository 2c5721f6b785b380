import keras
from keras_hub.models import MaskedLMPreprocessor

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_tokenizer import ElectraTokenizer
from keras_electra.models.sequence_length import DynamicPaddingMixin
from keras_electra.presets import GENERATOR
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import TextInputMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraMaskedLMPreprocessor(
    TextInputMixin,
    DynamicPaddingMixin,
    PresetResolvingMixin,
    MaskedLMPreprocessor,
):
    """Tokenizes, packs and randomly masks text for ELECTRA's generator.

    1. Tokenize one or two segments with the `tokenizer`.
    2. Pack them as `[CLS] a [SEP] (b [SEP])` to `sequence_length`.
    3. Choose non-special tokens to mask at `mask_selection_rate`; of
       those, `mask_token_rate` become `[MASK]`, `random_token_rate` a
       random token, and the rest stay unchanged.
    4. Return `(x, y, sample_weight)` for `keras_electra.ElectraMaskedLM`:
       `x` adds `"mask_positions"` to the packed inputs, `y` holds the
       original ids at those positions.

    Args:
        tokenizer: A `keras_electra.ElectraTokenizer`.
        sequence_length: int. The length of the packed inputs.
        truncate: `"round_robin"` or `"waterfall"`.
        mask_selection_rate: float. Probability of choosing a token.
        mask_selection_length: int. The most tokens masked per sequence.
        mask_token_rate: float. Share of chosen tokens set to `[MASK]`.
        random_token_rate: float. Share of chosen tokens set to a random
            token.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocab)
    preprocessor = keras_electra.ElectraMaskedLMPreprocessor(
        tokenizer, sequence_length=12, mask_selection_length=4
    )
    x, y, sample_weight = preprocessor(["The quick brown fox."])
    ```
    """

    # A bundled generator + discriminator preset gives its generator's.
    preset_pair_member = GENERATOR


    backbone_cls = ElectraBackbone
    tokenizer_cls = ElectraTokenizer
