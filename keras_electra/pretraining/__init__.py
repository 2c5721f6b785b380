"""ELECTRA pre-training: replaced token detection with `fit()`.

- `ElectraPretrainer`: the generator + discriminator model (a keras-hub
  `Task`) trained with `compile()` and `fit()`;
- `mask_tokens`: the masking rule;
- `PretrainingData`: streamed, sharded, resumable batches from text files;
- `ElectraAdamW`, `ElectraLearningRateSchedule`: Google's optimizer and
  schedule (`keras_electra.optimizers`, also used for fine-tuning);
- `train`, `PretrainingCheckpoint`: resumable training;
- `data_parallel`, `Cluster`, `ReplicaData`: data parallelism over the
  devices of one or many processes (JAX, TensorFlow).
"""

# One optimizer and schedule for pre-training and fine-tuning.
from keras_electra.optimizers.optimization import ElectraAdamW
from keras_electra.optimizers.optimization import ElectraLearningRateSchedule
from keras_electra.pretraining.checkpointing import PretrainingCheckpoint
from keras_electra.pretraining.checkpointing import latest_checkpoint
from keras_electra.pretraining.checkpointing import restore_checkpoint
from keras_electra.pretraining.checkpointing import save_checkpoint
from keras_electra.pretraining.cluster import Cluster
from keras_electra.pretraining.cluster import data_parallel
from keras_electra.pretraining.data import PretrainingData
from keras_electra.pretraining.data import ReplicaData
from keras_electra.pretraining.electra_pretrainer import ElectraPretrainer
from keras_electra.pretraining.electra_pretrainer import generator_backbone_for
from keras_electra.pretraining.example_builder import ExampleBuilder
from keras_electra.pretraining.masking import mask_tokens
from keras_electra.pretraining.masking import max_predictions_for
from keras_electra.pretraining.replaced_token_detection_layer import (
    ReplacedTokenDetection,
)
from keras_electra.pretraining.replica_seed_generator import (
    ReplicaSeedGenerator,
)
from keras_electra.pretraining.training import train
