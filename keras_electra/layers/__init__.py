from keras_electra.layers.electra_discriminator_head import (
    ElectraDiscriminatorHead,
)
from keras_electra.layers.electra_embedding import ElectraEmbedding
