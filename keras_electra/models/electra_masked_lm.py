import keras
import numpy as np
from keras_hub.layers import MaskedLMHead
from keras_hub.models import MaskedLM

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

    def fill_mask(self, texts, top_k=5):
        """Predict the tokens behind every `[MASK]` in raw strings.

        Args:
            texts: a string or a list of strings containing `[MASK]`.
            top_k: int. How many candidates to return per mask.

        Returns:
            For each text, a list with one entry per `[MASK]` (in order), each
            a list of `(token, probability)` pairs, most likely first.
        """
        if self.preprocessor is None:
            raise ValueError(
                "`fill_mask()` needs a preprocessor (built by `from_preset`) "
                "to tokenize raw strings."
            )
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        tokenizer = self.preprocessor.tokenizer
        packer = packer_like(self.preprocessor, self.text_packer_cls)
        x = {
            k: keras.ops.convert_to_numpy(v)
            for k, v in packer(texts).items()
        }
        is_mask = (x["token_ids"] == tokenizer.mask_token_id) & (
            x["padding_mask"].astype(bool)
        )
        positions = [np.flatnonzero(row) for row in is_mask]
        if not all(len(at) for at in positions):
            raise ValueError(
                "`fill_mask()` needs at least one `[MASK]` token in each "
                "text (after truncation to "
                f"{self.preprocessor.sequence_length} tokens)."
            )
        num_masks = max(len(at) for at in positions)
        x["mask_positions"] = np.zeros((len(texts), num_masks), "int32")
        for i, at in enumerate(positions):
            x["mask_positions"][i, : len(at)] = at
        logits = np.asarray(self.predict(x, verbose=0), "float64")
        shifted = np.exp(logits - logits.max(-1, keepdims=True))
        probabilities = shifted / shifted.sum(-1, keepdims=True)
        results = []
        for probs, at in zip(probabilities, positions):
            per_mask = []
            for p in probs[: len(at)]:
                best = p.argsort()[::-1][:top_k]
                per_mask.append(
                    [(tokenizer.id_to_token(int(i)), float(p[i])) for i in best]
                )
            results.append(per_mask)
        return results[0] if single else results
