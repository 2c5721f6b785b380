"""ELECTRA's optimizer: Google's AdamW, schedule and layer-wise learning rates.

Used by pre-training (`ElectraPretrainer.compile()`) and fine-tuning (the
task classes' `compile()`, `create_optimizer`); also exported, as before,
by `keras_electra.finetuning` and (`ElectraAdamW`,
`ElectraLearningRateSchedule`) `keras_electra.pretraining`.
"""

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
