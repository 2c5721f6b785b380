import keras
import numpy as np
from keras import ops
from keras_hub.layers import MaskedLMHead
from keras_hub.models import MaskedLM

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_masked_lm_preprocessor import (
    ElectraMaskedLMPreprocessor,
)
from keras_electra.models.electra_task_export import ServingExportMixin
from keras_electra.presets import GENERATOR
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.constants import ELECTRA_ACTIVATION
from keras_electra.utils.constants import ELECTRA_LAYER_NORM_EPSILON
from keras_electra.utils.initializers import electra_kernel_initializer
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraMaskedLM(
    ServingExportMixin,
    PresetResolvingMixin,
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
        length = self.preprocessor.sequence_length
        pad_id = tokenizer.pad_token_id
        mask_id = tokenizer.mask_token_id
        token_ids = np.full((len(texts), length), pad_id, dtype="int32")
        for i, ids in enumerate(tokenizer(texts)):
            row = [tokenizer.cls_token_id]
            row += [int(t) for t in ids][: length - 2]
            row += [tokenizer.sep_token_id]
            token_ids[i, : len(row)] = row
        segment_ids = np.zeros_like(token_ids)
        results = []
        for row, segments in zip(token_ids, segment_ids):
            positions = [i for i, t in enumerate(row) if t == mask_id]
            if not positions:
                raise ValueError(
                    "`fill_mask()` needs at least one `[MASK]` token in each "
                    "text (after truncation to "
                    f"{self.preprocessor.sequence_length} tokens)."
                )
            x = {
                "token_ids": row[None],
                "segment_ids": segments[None],
                "padding_mask": (row != pad_id)[None].astype("int32"),
                "mask_positions": np.array([positions], dtype="int32"),
            }
            logits = self(x, training=False)
            probs = ops.convert_to_numpy(ops.softmax(logits, axis=-1))[0]
            per_mask = []
            for p in probs:
                best = p.argsort()[::-1][:top_k]
                per_mask.append(
                    [(tokenizer.id_to_token(int(i)), float(p[i])) for i in best]
                )
            results.append(per_mask)
        return results[0] if single else results
