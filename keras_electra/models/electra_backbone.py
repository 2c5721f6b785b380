import keras
from keras_hub.layers import TransformerEncoder
from keras_hub.models import Backbone
# Private: keras-hub has no public API to register presets (0.32).
from keras_hub.src.utils.preset_utils import register_presets

from keras_electra.layers.electra_embedding import ElectraEmbedding
from keras_electra.layers.electra_self_attention import use_fused_attention
from keras_electra.presets import BUNDLED_PRESETS
from keras_electra.presets import ELECTRA_PRESETS
from keras_electra.presets import resolve_preset
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.constants import ELECTRA_LAYER_NORM_EPSILON
from keras_electra.utils.initializers import electra_kernel_initializer
from keras_electra.utils.input_validation import (
    InputKeysMixin,
    check_call_inputs,
)

# keras-hub's own `ElectraBackbone` uses the tanh-approximate GELU and adds
# a pooler; this one follows Google's code and does neither.


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraBackbone(PresetResolvingMixin, InputKeysMixin, Backbone):
    """The ELECTRA encoder: embeddings, optional projection, transformer stack.

    This is the network shared by ELECTRA's generator and discriminator
    ([Clark et al., 2020](https://arxiv.org/abs/2003.10555)). It follows
    Google's original code numerically: exact (erf) GELU, LayerNorm epsilon
    1e-12, no pooler, and a dense projection from `embedding_dim` to
    `hidden_dim` only when the two differ (ELECTRA-small and the generators).

    The output is the final hidden states, `[batch, seq, hidden_dim]`.

    Args:
        vocabulary_size: int. The size of the token vocabulary.
        num_layers: int. The number of transformer layers.
        num_heads: int. The number of attention heads per layer.
            `hidden_dim` must be divisible by it.
        hidden_dim: int. The size of the transformer hidden states.
        embedding_dim: int. The size of the token embeddings. Defaults to
            `hidden_dim`.
        intermediate_dim: int. The size of the feedforward layer in each
            transformer layer. Defaults to `4 * hidden_dim`.
        dropout: float. Dropout probability of the embeddings, attention and
            feedforward outputs.
        max_sequence_length: int. The number of position embeddings.
        num_segments: int. The number of segment (token type) embeddings.
        dtype: string or `keras.DTypePolicy`. The dtype of computations and
            weights.

    Example:
    ```python
    import numpy as np
    import keras_electra

    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=1000,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        embedding_dim=16,
        intermediate_dim=64,
        max_sequence_length=64,
    )
    inputs = {
        "token_ids": np.ones((1, 12), dtype="int32"),
        "segment_ids": np.zeros((1, 12), dtype="int32"),
        "padding_mask": np.ones((1, 12), dtype="int32"),
    }
    backbone(inputs).shape  # (1, 12, 32)
    ```
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        embedding_dim=None,
        intermediate_dim=None,
        dropout=0.1,
        max_sequence_length=512,
        num_segments=2,
        dtype=None,
        **kwargs,
    ):
        embedding_dim = embedding_dim or hidden_dim
        intermediate_dim = intermediate_dim or 4 * hidden_dim
        if hidden_dim % num_heads != 0:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`. Received: "
                f"hidden_dim={hidden_dim}, num_heads={num_heads}"
            )

        # === Layers ===
        self.embeddings = ElectraEmbedding(
            vocabulary_size=vocabulary_size,
            embedding_dim=embedding_dim,
            max_sequence_length=max_sequence_length,
            num_segments=num_segments,
            dropout=dropout,
            layer_norm_epsilon=ELECTRA_LAYER_NORM_EPSILON,
            dtype=dtype,
            name="embeddings",
        )
        self.token_embedding = self.embeddings.token_embedding
        self.embeddings_projection = None
        if embedding_dim != hidden_dim:
            self.embeddings_projection = keras.layers.Dense(
                hidden_dim,
                kernel_initializer=electra_kernel_initializer(),
                dtype=dtype,
                name="embeddings_projection",
            )
        self.transformer_layers = []
        for i in range(num_layers):
            self.transformer_layers.append(
                TransformerEncoder(
                    num_heads=num_heads,
                    intermediate_dim=intermediate_dim,
                    activation=ELECTRA_ACTIVATION,
                    dropout=dropout,
                    layer_norm_epsilon=ELECTRA_LAYER_NORM_EPSILON,
                    kernel_initializer=electra_kernel_initializer(),
                    dtype=dtype,
                    name=f"transformer_layer_{i}",
                )
            )

        # === Functional Model ===
        token_id_input = keras.Input(
            shape=(None,), dtype="int32", name="token_ids"
        )
        segment_id_input = keras.Input(
            shape=(None,), dtype="int32", name="segment_ids"
        )
        padding_mask_input = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        x = self.embeddings(token_id_input, segment_id_input)
        x = self.encode(x, padding_mask_input)
        # Built now: from here on each layer's attention runs the fused
        # kernel whenever dropout is inactive (`ElectraSelfAttention`).
        for transformer_layer in self.transformer_layers:
            use_fused_attention(transformer_layer)
        super().__init__(
            inputs={
                "token_ids": token_id_input,
                "segment_ids": segment_id_input,
                "padding_mask": padding_mask_input,
            },
            outputs=x,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.embedding_dim = embedding_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments

    def __call__(self, *args, **kwargs):
        # Concrete inputs of a direct call are checked here, so every
        # backend raises `InvalidInputError` (JAX would return NaN).
        check_call_inputs(args[0] if args else kwargs.get("inputs"), self)
        return super().__call__(*args, **kwargs)

    def encode(self, embedded, padding_mask):
        """Run the projection (if any) and the transformer stack.

        Split out of the embedding lookup so that pre-training can feed the
        shared embeddings into the generator's own stack.
        """
        x = embedded
        if self.embeddings_projection is not None:
            x = self.embeddings_projection(x)
        for transformer_layer in self.transformer_layers:
            x = transformer_layer(x, padding_mask=padding_mask)
        return x

    def enable_lora(self, rank, target_layer_names=None):
        """keras-hub's LoRA (adapters on the attention's query and value
        projections, everything else frozen), with the adapted layers'
        biases frozen too: only the adapters (and a task's head) train,
        as in the LoRA paper and PEFT's default."""
        super().enable_lora(rank, target_layer_names=target_layer_names)
        for layer in self._flatten_layers(include_self=False):
            if getattr(layer, "lora_enabled", False) and layer.bias is not None:
                layer.bias.trainable = False

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "hidden_dim": self.hidden_dim,
                "embedding_dim": self.embedding_dim,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "max_sequence_length": self.max_sequence_length,
                "num_segments": self.num_segments,
            }
        )
        return config


# Google's names and the bundled ones in `ElectraBackbone.presets` (and
# every task's `presets`), as keras-hub registers its own models' presets.
# keras-hub wants a handle per entry; `from_preset` resolves names first.
register_presets(ELECTRA_PRESETS, ElectraBackbone)
register_presets(
    {
        name: {**entry, "kaggle_handle": resolve_preset(name)}
        for name, entry in BUNDLED_PRESETS.items()
    },
    ElectraBackbone,
)
