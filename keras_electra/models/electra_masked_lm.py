import keras
import numpy as np
from keras_hub.layers import MaskedLMHead
from keras_hub.models import MaskedLM
import tensorflow as tf

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_masked_lm_preprocessor import (
    ElectraMaskedLMPreprocessor,
)
from keras_electra.models.electra_task_export import ServingExportMixin
from keras_electra.models.electra_task_quantization import (
    QuantizationMixin,
)
from keras_electra.models.electra_text_classifier_preprocessor import (
    ElectraTextClassifierPreprocessor,
)
from keras_electra.models.in_memory_predict import InMemoryPredictMixin
from keras_electra.models.tf_graph import call_owned_in_graph
from keras_electra.models.tf_graph import vocabulary_tensor
from keras_electra.presets import GENERATOR
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.constants import ELECTRA_LAYER_NORM_EPSILON
from keras_electra.utils.initializers import electra_kernel_initializer
from keras_electra.utils.padding import packer_like
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraMaskedLM(
    ServingExportMixin,
    QuantizationMixin,
    PresetResolvingMixin,
    InMemoryPredictMixin,
    InputValidatingMixin,
    OptimizerBuildMixin,
    MaskedLM,
):
    """ELECTRA's generator: a masked language model.

    The head is Google's (and transformers' `ElectraForMaskedLM`):
    dense(hidden_dim -> embedding_dim) -> GELU -> LayerNorm -> logits
    against the input embedding table (tied) plus an output bias. Logits
    are computed only at `mask_positions`, never over the whole sequence.

    Args:
        backbone: A `keras_electra.ElectraBackbone`.
        preprocessor: A `keras_electra.ElectraMaskedLMPreprocessor` or
            `None` (inputs must then be preprocessed).

    Example:
    ```python
    generator = keras_electra.ElectraMaskedLM.from_preset(
        "electra_small_generator_en"
    )
    generator.fill_mask(["The capital of France is [MASK]."])
    ```
    """

    backbone_cls = ElectraBackbone
    preprocessor_cls = ElectraMaskedLMPreprocessor
    # Its preprocessor masks at random; text to fill (`fill_mask`, the
    # SavedModel) is packed by the sentence preprocessor, same options.
    text_packer_cls = ElectraTextClassifierPreprocessor
    # A bundled generator + discriminator preset gives its generator.
    preset_pair_member = GENERATOR

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.masked_lm_head = MaskedLMHead(
            vocabulary_size=backbone.vocabulary_size,
            token_embedding=backbone.token_embedding,
            intermediate_activation=ELECTRA_ACTIVATION,
            layer_norm_epsilon=ELECTRA_LAYER_NORM_EPSILON,
            kernel_initializer=electra_kernel_initializer(),
            dtype=backbone.dtype_policy,
            name="mlm_head",
        )

        # === Functional Model ===
        inputs = {
            **backbone.input,
            "mask_positions": keras.Input(
                shape=(None,), dtype="int32", name="mask_positions"
            ),
        }
        sequence_output = backbone(backbone.input)
        outputs = self.masked_lm_head(
            sequence_output, inputs["mask_positions"]
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def mask_features(self, features):
        """`features` with the `[MASK]` tokens' `mask_positions` and
        `mask_weights`, with TensorFlow ops (how the serving SavedModel and
        `fill_mask` find the tokens to fill).

        The positions of `[MASK]` in the packed `token_ids` (in order),
        padded to the largest count in the batch (at least 1) with position
        0 and weight 0; `[batch, masks]`.

        Args:
            features: the packed inputs, a dict with `"token_ids"` and
                `"padding_mask"`.
        """
        token_ids = tf.cast(features["token_ids"], tf.int32)
        is_mask = (token_ids == self.preprocessor.tokenizer.mask_token_id) & (
            tf.cast(features["padding_mask"], tf.bool)
        )
        positions = tf.broadcast_to(
            tf.range(tf.shape(token_ids)[1]), tf.shape(token_ids)
        )
        positions = tf.ragged.boolean_mask(positions, is_mask)
        counts = tf.cast(positions.row_lengths(), tf.int32)
        # At least one (padding) slot, so that the head's shapes hold.
        num_masks = tf.maximum(tf.reduce_max(counts), 1)
        mask_positions = positions.to_tensor(
            default_value=0, shape=tf.stack([tf.shape(token_ids)[0], num_masks])
        )
        mask_weights = tf.sequence_mask(counts, num_masks, dtype=tf.float32)
        return {
            **features,
            "mask_positions": tf.cast(mask_positions, "int32"),
            "mask_weights": mask_weights,
        }

    def decode_outputs(self, logits, features, top_k=5):
        """The named predictions of the logits at the masks, with
        TensorFlow ops: the serving SavedModel's outputs, and what
        `fill_mask` reads.

        `logits`, the `mask_positions` and `mask_weights` of `features`
        (see `mask_features`), and the `top_k` most likely tokens at every
        mask, most likely first: `top_token_ids`, `top_tokens` and
        `top_probabilities` (softmax over the vocabulary), `[batch, masks,
        top_k]`.

        Args:
            logits: float tensor `[batch, masks, vocabulary_size]` (any
                float dtype; the probabilities keep it).
            features: a dict with `"mask_positions"` and `"mask_weights"`.
            top_k: int. At most the vocabulary size.
        """
        tokenizer = self.preprocessor.tokenizer
        top_k = min(int(top_k), tokenizer.vocabulary_size())
        probabilities = tf.nn.softmax(logits, axis=-1)
        top_probabilities, top_ids = tf.math.top_k(probabilities, k=top_k)
        vocabulary = vocabulary_tensor(tokenizer)
        return {
            "logits": logits,
            "mask_positions": features["mask_positions"],
            "mask_weights": features["mask_weights"],
            "top_token_ids": top_ids,
            "top_tokens": tf.gather(vocabulary, top_ids),
            "top_probabilities": top_probabilities,
        }

    def _pack_masked(self, texts):
        """`texts` packed as a sentence (`text_packer_cls`), with
        `mask_features`."""
        packer = packer_like(self.preprocessor, self.text_packer_cls)
        return self.mask_features(packer(texts))

    def fill_mask(self, texts, top_k=5):
        """Predict the tokens behind every `[MASK]` in raw strings.

        Args:
            texts: a string or a list of strings containing `[MASK]`.
            top_k: int. How many candidates to return per mask.

        Returns:
            For each text, a list with one entry per `[MASK]` (in order), each
            a list of `(token, probability)` pairs, most likely first:
            `decode_outputs`' `top_tokens` and `top_probabilities` (in
            float64).
        """
        if self.preprocessor is None:
            raise ValueError(
                "`fill_mask()` needs a preprocessor (built by `from_preset`) "
                "to tokenize raw strings."
            )
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        preprocessor = self.preprocessor
        # Packed in a cached graph, for the packing options of the moment.
        key = (
            "fill_mask_inputs",
            preprocessor.sequence_length,
            preprocessor.padding,
            preprocessor.pad_to_multiple_of,
            getattr(preprocessor, "truncate", None),
        )
        x = call_owned_in_graph(
            self, key, self._pack_masked, tf.constant(texts, tf.string)
        )
        x = {k: v.numpy() for k, v in x.items()}
        counts = x["mask_weights"].sum(-1).astype(int)
        if not counts.all():
            raise ValueError(
                "`fill_mask()` needs at least one `[MASK]` token in each "
                "text (after truncation to "
                f"{self.preprocessor.sequence_length} tokens)."
            )
        inputs = {name: x[name] for name in self.input}
        logits = np.asarray(self.predict(inputs, verbose=0), "float64")
        decoded = call_owned_in_graph(
            self, "fill_mask", self.decode_outputs, logits, x, top_k
        )
        tokens = decoded["top_tokens"].numpy()
        probabilities = decoded["top_probabilities"].numpy()
        results = [
            [
                [
                    (token.decode(), float(probability))
                    for token, probability in zip(*candidates)
                ]
                for candidates in zip(row_tokens[:count], row_probs[:count])
            ]
            for row_tokens, row_probs, count in zip(
                tokens, probabilities, counts
            )
        ]
        return results[0] if single else results
