import keras
from keras_hub.models import CausalLMPreprocessor

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_tokenizer import ElectraTokenizer
from keras_electra.models.sequence_length import DynamicPaddingMixin
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import TextInputMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraCausalLMPreprocessor(
    TextInputMixin,
    DynamicPaddingMixin,
    PresetResolvingMixin,
    CausalLMPreprocessor,
):
    """Tokenizes and packs text for `keras_electra.ElectraCausalLM`.

    keras-hub's `CausalLMPreprocessor` with ELECTRA's WordPiece tokenizer:
    the start token is `[CLS]` and the end token `[SEP]` (as transformers'
    tokenizer writes them). For training, `call` returns `(x, y,
    sample_weight)` with `y` the inputs shifted left by one;
    `generate_preprocess` packs prompts without an end token and
    `generate_postprocess` turns generated ids back into strings.

    Args:
        tokenizer: A `keras_electra.ElectraTokenizer`.
        sequence_length: int. The length of the packed inputs.
        add_start_token: bool. Prepend `[CLS]`.
        add_end_token: bool. Append `[SEP]` (training inputs only).

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += ["the", "quick", "brown", "fox", "."]
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocab)
    preprocessor = keras_electra.ElectraCausalLMPreprocessor(
        tokenizer, sequence_length=8
    )
    x, y, sample_weight = preprocessor(["the quick fox ."])
    ```
    """

    backbone_cls = ElectraBackbone
    # Labels and weights run along the sequence: cut with the inputs.
    per_token_targets = True
    tokenizer_cls = ElectraTokenizer
