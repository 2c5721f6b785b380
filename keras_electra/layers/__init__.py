from keras_electra.layers.electra_discriminator_head import (
    ElectraDiscriminatorHead,
)
from keras_electra.layers.electra_embedding import ElectraEmbedding
from keras_electra.layers.electra_classification_head import (
    ElectraClassificationHead,
)
from keras_electra.layers.electra_flatten_choices import ElectraFlattenChoices
from keras_electra.layers.electra_multiple_choice_head import (
    ElectraMultipleChoiceHead,
)
from keras_electra.layers.electra_self_attention import ElectraSelfAttention
