import keras
from keras import ops
from keras_hub.models import CausalLM

# Private: `any_equal` finds stop tokens the way keras-hub's own causal LMs
# do; it has no public alias (keras-hub 0.32).
from keras_hub.src.utils.tensor_utils import any_equal

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_causal_lm_preprocessor import (
    ElectraCausalLMPreprocessor,
)
from keras_electra.models.electra_task_quantization import (
    QuantizationMixin,
)
from keras_electra.models.in_memory_predict import InMemoryPredictMixin
from keras_electra.models.sequence_length import clamp_sequence_length
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.constants import ELECTRA_LAYER_NORM_EPSILON
from keras_electra.utils.initializers import electra_kernel_initializer
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraCausalLMHead(keras.layers.Layer):
    """transformers' `generator_predictions` + `generator_lm_head`.

    dense(hidden_dim -> embedding_dim) -> exact GELU -> LayerNorm -> logits
    against the (tied) token embedding table plus an output bias, at every
    position.
    """

    def __init__(self, token_embedding, embedding_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embedding = token_embedding
        self.embedding_dim = embedding_dim
        self.dense = keras.layers.Dense(
            embedding_dim,
            activation=ELECTRA_ACTIVATION,
            kernel_initializer=electra_kernel_initializer(),
            dtype=self.dtype_policy,
            name="dense",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=ELECTRA_LAYER_NORM_EPSILON,
            dtype=self.dtype_policy,
            name="layer_norm",
        )

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.layer_norm.build(tuple(input_shape[:-1]) + (self.embedding_dim,))
        self.bias = self.add_weight(
            name="bias",
            shape=(self.token_embedding.input_dim,),
            initializer="zeros",
        )

    def call(self, hidden):
        x = self.layer_norm(self.dense(hidden))
        table = ops.cast(self.token_embedding.embeddings, x.dtype)
        return ops.matmul(x, ops.transpose(table)) + ops.cast(
            self.bias, x.dtype
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.token_embedding.input_dim,)


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraCausalLM(
    QuantizationMixin,
    PresetResolvingMixin,
    InMemoryPredictMixin,
    InputValidatingMixin,
    OptimizerBuildMixin,
    CausalLM,
):
    """ELECTRA run left to right: transformers' `ElectraForCausalLM`.

    ELECTRA is an encoder; it was never trained to generate. This task
    exists for parity with transformers (`ElectraForCausalLM`, a checkpoint
    saved with `is_decoder=True`) and for encoder-decoder experiments. It is
    the backbone with a causal attention mask (each position attends to
    itself and earlier positions, and to no padding) followed by the
    generator's head (`generator_predictions` + `generator_lm_head`, tied to
    the token embeddings), giving logits `[batch, seq, vocabulary_size]`.

    Inputs are `"token_ids"` and `"padding_mask"`, as in keras-hub's causal
    LMs; segment ids are all 0 (transformers' default `token_type_ids`).

    `generate()` is keras-hub's `CausalLM.generate` (greedy, top-k, ...
    through `compile(sampler=...)`). There is no key/value cache: every step
    reruns the whole (short) sequence, which is simple and exact but costs
    O(length^2) forward passes per sequence.

    Args:
        backbone: A `keras_electra.ElectraBackbone`.
        preprocessor: A `keras_electra.ElectraCausalLMPreprocessor` or
            `None`.

    Example:
    ```python
    lm = keras_electra.ElectraCausalLM.from_preset("path/to/causal_lm")
    lm.compile(sampler="greedy")
    lm.generate("the quick brown", max_length=16)
    ```
    """

    backbone_cls = ElectraBackbone
    preprocessor_cls = ElectraCausalLMPreprocessor
    per_token_outputs = True

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        # keras-hub's causal-LM preprocessor defaults to 1024 tokens.
        clamp_sequence_length(preprocessor, backbone)
        self.lm_head = ElectraCausalLMHead(
            token_embedding=backbone.token_embedding,
            embedding_dim=backbone.embedding_dim,
            dtype=backbone.dtype_policy,
            name="lm_head",
        )

        # === Functional Model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        hidden = self._causal_encode(backbone, token_ids, padding_mask)
        logits = self.lm_head(hidden)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=logits,
            **kwargs,
        )

    @staticmethod
    def _causal_encode(backbone, token_ids, padding_mask):
        """The backbone's layers with a causal mask added to the padding
        mask (keras-hub's `TransformerEncoder` takes both and keeps a key
        only where both allow it)."""
        # Positions from a cumulative sum, not `arange`: the sequence length
        # is unknown (None) while the functional graph is built.
        positions = ops.cumsum(ops.ones_like(token_ids), axis=1)
        causal_mask = ops.cast(
            ops.expand_dims(positions, 2) >= ops.expand_dims(positions, 1),
            "int32",
        )
        x = backbone.embeddings(token_ids, ops.zeros_like(token_ids))
        if backbone.embeddings_projection is not None:
            x = backbone.embeddings_projection(x)
        for layer in backbone.transformer_layers:
            x = layer(x, padding_mask=padding_mask, attention_mask=causal_mask)
        return x

    def compile(self, optimizer="auto", loss="auto", *,
                weighted_metrics="auto", sampler="greedy", **kwargs):
        """keras-hub's `CausalLM.compile`, with greedy sampling by default."""
        super().compile(
            optimizer=optimizer,
            loss=loss,
            weighted_metrics=weighted_metrics,
            sampler=sampler,
            **kwargs,
        )

    def generate(self, inputs, max_length=None, stop_token_ids="auto",
                 strip_prompt=False):
        """keras-hub's `CausalLM.generate`; compiles (greedy) if needed."""
        if getattr(self, "sampler", None) is None:
            self.compile()
        return super().generate(
            inputs,
            max_length=max_length,
            stop_token_ids=stop_token_ids,
            strip_prompt=strip_prompt,
        )

    def generate_step(self, inputs, stop_token_ids=None):
        """Generate one batch: prompts in `inputs["token_ids"]` (real tokens
        marked by `inputs["padding_mask"]`) are continued up to their full
        length.

        Without a cache, each step runs the model on the whole sequence and
        reads the logits before position `index`: the causal mask keeps
        later (not yet generated) positions from affecting them.
        """
        token_ids = inputs["token_ids"]
        padding_mask = ops.cast(inputs["padding_mask"], "bool")
        index = ops.min(ops.sum(ops.cast(padding_mask, "int32"), axis=-1))
        ones = ops.ones_like(token_ids, dtype="int32")

        def next(prompt, cache, index):
            logits = self(
                {"token_ids": prompt, "padding_mask": ones}, training=False
            )
            batch_size, _, vocabulary_size = ops.shape(logits)
            logits = ops.slice(
                logits, [0, index - 1, 0], [batch_size, 1, vocabulary_size]
            )
            return ops.squeeze(logits, axis=1), None, cache

        token_ids = self.sampler(
            next=next,
            prompt=token_ids,
            index=index,
            mask=padding_mask,
            stop_token_ids=stop_token_ids,
            model=self,
        )
        if stop_token_ids is not None:
            # Keep each row up to and including its first generated stop
            # token (as keras-hub's causal LMs do).
            end_locations = ops.cast(
                any_equal(
                    token_ids, stop_token_ids, ops.logical_not(padding_mask)
                ),
                "int32",
            )
            cumsum = ops.cast(ops.cumsum(end_locations, axis=-1), "int32")
            padding_mask = ops.logical_not(
                ops.cast(cumsum - end_locations, "bool")
            )
        else:
            padding_mask = ops.ones_like(token_ids, dtype="bool")
        return {"token_ids": token_ids, "padding_mask": padding_mask}
