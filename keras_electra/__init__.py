"""keras_electra: ELECTRA in Keras 3, on TensorFlow, JAX and PyTorch."""

from keras_electra import layers
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_discriminator import ElectraDiscriminator
from keras_electra.models.electra_masked_lm import ElectraMaskedLM
from keras_electra.models.electra_masked_lm_preprocessor import (
    ElectraMaskedLMPreprocessor,
)
from keras_electra.models.electra_text_classifier_preprocessor import (
    ElectraTextClassifierPreprocessor,
)
from keras_electra.models.electra_tokenizer import ElectraTokenizer

__version__ = "0.1.0"
