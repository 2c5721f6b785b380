import keras
import numpy as np
from keras_hub.models import Task
import tensorflow as tf

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
from keras_electra.models.tf_graph import call_owned_in_graph
from keras_electra.models.tf_graph import vocabulary_tensor
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

    def text_token_mask(self, features):
        """Which packed positions hold the text's own tokens (not `[CLS]`,
        `[SEP]` or padding), `[batch, seq]` bools, with TensorFlow ops.

        Args:
            features: a dict with `"token_ids"` and `"padding_mask"`.
        """
        tokenizer = self.preprocessor.tokenizer
        special_ids = tf.constant(
            [tokenizer.cls_token_id, tokenizer.sep_token_id,
             tokenizer.pad_token_id],
            tf.int32,
        )
        token_ids = tf.cast(features["token_ids"], tf.int32)
        special = tf.reduce_any(token_ids[..., None] == special_ids, axis=-1)
        return tf.cast(features["padding_mask"], tf.bool) & ~special

    def decode_outputs(self, logits, features):
        """The named predictions of per-token `logits`, with TensorFlow ops:
        the serving SavedModel's outputs, and what `detect_replaced` reads.

        `logits`, `probabilities` (their sigmoid: the probability that the
        token was replaced), `tokens` (the WordPiece strings, `""` at
        padding) and `replaced` (the 0.5-threshold decision, `False` off
        the text's own tokens, see `text_token_mask`), `[batch, seq]`.

        Args:
            logits: float tensor `[batch, seq]` (any float dtype; the
                probabilities keep it).
            features: the packed inputs, a dict with `"token_ids"` and
                `"padding_mask"`.
        """
        padding_mask = tf.cast(features["padding_mask"], tf.bool)
        vocabulary = vocabulary_tensor(self.preprocessor.tokenizer)
        tokens = tf.gather(vocabulary, features["token_ids"])
        probabilities = tf.sigmoid(logits)
        return {
            "logits": logits,
            "probabilities": probabilities,
            "replaced": self.text_token_mask(features) & (probabilities > 0.5),
            "tokens": tf.where(padding_mask, tokens, tf.constant("")),
        }

    def _decode_text_tokens(self, logits, features):
        """`decode_outputs` with the `text_token_mask`."""
        return {
            **self.decode_outputs(logits, features),
            "text": self.text_token_mask(features),
        }

    def detect_replaced(self, texts):
        """Replaced-token probabilities for raw strings.

        Args:
            texts: a string or a list of strings.

        Returns:
            For each text, a list of `(token, probability_replaced)` pairs
            for its WordPiece tokens (without `[CLS]`, `[SEP]`, padding):
            `decode_outputs`' `tokens` and `probabilities` (in float64).
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
        logits = np.asarray(self.predict(x, verbose=0), "float64")
        decoded = call_owned_in_graph(
            self, "detect_replaced", self._decode_text_tokens, logits, x
        )
        results = [
            [
                (token.decode(), float(probability))
                for token, probability, text in zip(*row)
                if text
            ]
            for row in zip(
                decoded["tokens"].numpy(),
                decoded["probabilities"].numpy(),
                decoded["text"].numpy(),
            )
        ]
        return results[0] if single else results
