import keras
import numpy as np
from keras_hub.models import Task

from keras_electra.layers.electra_discriminator_head import (
    ElectraDiscriminatorHead,
)
from keras_electra.losses.replaced_token_loss import ReplacedTokenLoss
from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_task_export import ServingExportMixin
from keras_electra.models.electra_task_quantization import (
    QuantizationMixin,
)
from keras_electra.models.electra_text_classifier_preprocessor import (
    ElectraTextClassifierPreprocessor,
)
from keras_electra.models.in_memory_predict import InMemoryPredictMixin
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.optimizer_build import OptimizerBuildMixin


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraDiscriminator(
    ServingExportMixin,
    QuantizationMixin,
    PresetResolvingMixin,
    InMemoryPredictMixin,
    InputValidatingMixin,
    OptimizerBuildMixin,
    Task,
):
    """ELECTRA's discriminator: which tokens were replaced?

    The equivalent of transformers' `ElectraForPreTraining`: the backbone
    followed by `ElectraDiscriminatorHead`, giving per-token logits
    `[batch, seq]` (positive means "replaced"). Trains with binary
    cross-entropy on 0/1 labels per token; padding is excluded through the
    sample weights.

    Args:
        backbone: A `keras_electra.ElectraBackbone`.
        preprocessor: A `keras_electra.ElectraTextClassifierPreprocessor` or
            `None`.

    Example:
    ```python
    discriminator = keras_electra.ElectraDiscriminator.from_preset(
        "electra_small_discriminator_en"
    )
    discriminator.detect_replaced(["The quick brown fox ate over the dog."])
    ```
    """

    backbone_cls = ElectraBackbone
    preprocessor_cls = ElectraTextClassifierPreprocessor
    per_token_outputs = True

    def __init__(self, backbone, preprocessor=None, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.discriminator_head = ElectraDiscriminatorHead(
            hidden_dim=backbone.hidden_dim,
            dtype=backbone.dtype_policy,
            name="discriminator_head",
        )

        # === Functional Model ===
        inputs = backbone.input
        sequence_output = backbone(inputs)
        outputs = self.discriminator_head(sequence_output)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def compile(self, optimizer="auto", loss="auto", **kwargs):
        """Compile with Adam(5e-5) and per-token sigmoid cross-entropy.

        The default loss is averaged over tokens weighted by
        `sample_weight` (pass the padding mask, `[batch, seq]`), as in
        Google's discriminator loss.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-5)
        if loss == "auto":
            loss = ReplacedTokenLoss()
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def detect_replaced(self, texts):
        """Replaced-token probabilities for raw strings.

        Args:
            texts: a string or a list of strings.

        Returns:
            For each text, a list of `(token, probability_replaced)` pairs
            for its WordPiece tokens (without `[CLS]`, `[SEP]`, padding).
        """
        if self.preprocessor is None:
            raise ValueError(
                "`detect_replaced()` needs a preprocessor (built by "
                "`from_preset`) to tokenize raw strings."
            )
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        # One packing for every text, then the in-memory predict path.
        x = {k: v.numpy() for k, v in self.preprocess_in_graph(texts).items()}
        logits = self.predict(x, verbose=0)
        probs = 1.0 / (1.0 + np.exp(-np.asarray(logits, "float64")))
        token_ids = x["token_ids"]
        tokenizer = self.preprocessor.tokenizer
        special = {
            tokenizer.cls_token_id,
            tokenizer.sep_token_id,
            tokenizer.pad_token_id,
        }
        results = []
        for row, p in zip(token_ids, probs):
            results.append(
                [
                    (tokenizer.id_to_token(int(t)), float(q))
                    for t, q in zip(row, p)
                    if int(t) not in special
                ]
            )
        return results[0] if single else results
