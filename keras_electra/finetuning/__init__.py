"""Fine-tuning helpers, in one place for users.

- data readers (`read_conll`, `read_squad`) and `vocabulary_from_words`
  (`datasets`);
- Google's optimizer recipe (`create_optimizer`, `ElectraAdamW`, ...; it
  lives in `keras_electra.optimizers`, pre-training uses it too);
- the NER and SQuAD scores (`entity_scores`, `squad_v1_scores`, ...; in
  `keras_electra.metrics`) and SQuAD answer decoding (`decode_answers`, in
  `keras_electra.models.qa_decoding`, beside the question answerer).

The model classes import none of this package: it sits above `models`.
"""

from keras_electra.finetuning.datasets import read_conll
from keras_electra.finetuning.datasets import vocabulary_from_words
from keras_electra.metrics.seqeval import entity_scores
from keras_electra.metrics.seqeval import get_entities
from keras_electra.metrics.squad import evaluate_v1 as squad_v1_scores
from keras_electra.metrics.squad import evaluate_v2 as squad_v2_scores
from keras_electra.metrics.squad import read_squad
from keras_electra.models.qa_decoding import decode_answers
from keras_electra.optimizers.optimization import AdamWeightDecay
from keras_electra.optimizers.optimization import ElectraAdamW
from keras_electra.optimizers.optimization import ElectraLearningRateSchedule
from keras_electra.optimizers.optimization import LayerwiseAdam
from keras_electra.optimizers.optimization import LayerwiseAdamW
from keras_electra.optimizers.optimization import LayerwiseLearningRateMixin
from keras_electra.optimizers.optimization import LayerwiseSGD
from keras_electra.optimizers.optimization import create_optimizer
from keras_electra.optimizers.optimization import layer_depths
from keras_electra.optimizers.optimization import layerwise_lr_multipliers
from keras_electra.optimizers.optimization import with_layerwise_lr_decay
