"""keras_electra: ELECTRA in Keras 3, on TensorFlow, JAX and PyTorch."""

from keras_electra import layers
from keras_electra import losses
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
from keras_electra import pretraining  # noqa: E402
from keras_electra.pretraining.electra_pretrainer import ElectraPretrainer
from keras_electra import finetuning  # noqa: E402
from keras_electra.models.electra_classifier import ElectraClassifier
from keras_electra.models.electra_multiple_choice import ElectraMultipleChoice
from keras_electra.models.electra_multiple_choice_preprocessor import (
    ElectraMultipleChoicePreprocessor,
)
from keras_electra.models.electra_question_answerer import (
    ElectraQuestionAnswerer,
)
from keras_electra.models.electra_question_answerer_preprocessor import (
    ElectraQuestionAnswererPreprocessor,
)
from keras_electra.models.electra_token_classifier import (
    ElectraTokenClassifier,
)
from keras_electra.models.electra_token_classifier_preprocessor import (
    ElectraTokenClassifierPreprocessor,
)
# Google's checkpoints by name; importing registers them with keras-hub.
from keras_electra import presets  # noqa: E402,F401

# `keras_electra.export(task, path)`: the package is callable.
from keras_electra import export  # noqa: E402,F401

__version__ = "0.1.0"
