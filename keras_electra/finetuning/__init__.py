"""Fine-tuning helpers: Google's optimizer recipe, SQuAD and NER metrics."""

from keras_electra.finetuning.datasets import read_conll
from keras_electra.finetuning.datasets import read_squad
from keras_electra.finetuning.datasets import vocabulary_from_words
from keras_electra.finetuning.optimization import AdamWeightDecay
from keras_electra.finetuning.optimization import ElectraAdamW
from keras_electra.finetuning.optimization import ElectraLearningRateSchedule
from keras_electra.finetuning.optimization import LayerwiseAdam
from keras_electra.finetuning.optimization import LayerwiseAdamW
from keras_electra.finetuning.optimization import LayerwiseLearningRateMixin
from keras_electra.finetuning.optimization import LayerwiseSGD
from keras_electra.finetuning.optimization import create_optimizer
from keras_electra.finetuning.optimization import layer_depths
from keras_electra.finetuning.optimization import layerwise_lr_multipliers
from keras_electra.finetuning.optimization import with_layerwise_lr_decay
from keras_electra.finetuning.qa_decoding import decode_answers
from keras_electra.finetuning.seqeval import entity_scores
from keras_electra.finetuning.seqeval import get_entities
from keras_electra.finetuning.squad import evaluate_v1 as squad_v1_scores
from keras_electra.finetuning.squad import evaluate_v2 as squad_v2_scores
