import keras
from keras.layers import ReversibleEmbedding
from keras_hub.layers import PositionEmbedding

from keras_electra.utils.initializers import electra_kernel_initializer


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraEmbedding(keras.layers.Layer):
    """ELECTRA's input embeddings: word + position + segment, then LayerNorm.

    This is the part of ELECTRA that the generator and the discriminator
    share during pre-training (the paper's "tied embeddings"): one table of
    word, position and segment embeddings and one LayerNorm. It does not
    include the projection from `embedding_dim` to `hidden_dim`, which each
    transformer stack owns.

    Args:
        vocabulary_size: int. The size of the token vocabulary.
        embedding_dim: int. The size of each embedding vector.
        max_sequence_length: int. The number of position embeddings.
        num_segments: int. The number of segment (token type) embeddings.
        dropout: float. Dropout applied after the LayerNorm.
        layer_norm_epsilon: float. Epsilon of the LayerNorm (Google's code
            uses 1e-12).

    Call arguments:
        token_ids: int tensor of shape `[batch, seq]`.
        segment_ids: int tensor of shape `[batch, seq]`.

    Example:
    ```python
    layer = keras_electra.layers.ElectraEmbedding(
        vocabulary_size=100, embedding_dim=16, max_sequence_length=32
    )
    x = layer(np.ones((2, 8), "int32"), np.zeros((2, 8), "int32"))
    x.shape  # (2, 8, 16)
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        max_sequence_length=512,
        num_segments=2,
        dropout=0.1,
        layer_norm_epsilon=1e-12,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon

        # === Layers ===
        self.token_embedding = ReversibleEmbedding(
            input_dim=vocabulary_size,
            output_dim=embedding_dim,
            embeddings_initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            sequence_length=max_sequence_length,
            initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.segment_embedding = keras.layers.Embedding(
            input_dim=num_segments,
            output_dim=embedding_dim,
            embeddings_initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="segment_embedding",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon,
            dtype=self.dtype_policy,
            name="layer_norm",
        )
        self.dropout_layer = keras.layers.Dropout(
            dropout, dtype=self.dtype_policy, name="dropout"
        )

    def build(self, token_ids_shape, segment_ids_shape=None):
        self.token_embedding.build(token_ids_shape)
        embedded_shape = tuple(token_ids_shape) + (self.embedding_dim,)
        self.position_embedding.build(embedded_shape)
        self.segment_embedding.build(token_ids_shape)
        self.layer_norm.build(embedded_shape)
        self.built = True

    def call(self, token_ids, segment_ids, training=None):
        tokens = self.token_embedding(token_ids)
        positions = self.position_embedding(tokens)
        segments = self.segment_embedding(segment_ids)
        x = tokens + positions + segments
        x = self.layer_norm(x)
        return self.dropout_layer(x, training=training)

    def compute_output_spec(self, token_ids, segment_ids, training=None):
        return keras.KerasTensor(
            tuple(token_ids.shape) + (self.embedding_dim,),
            dtype=self.compute_dtype,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config

