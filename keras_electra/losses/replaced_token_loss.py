"""The discriminator's loss: sigmoid cross-entropy for every token.

One definition, used twice: `discriminator_loss` (what pre-training
minimizes, `keras_electra.pretraining.replaced_token_detection`) and
`ReplacedTokenLoss` (the Keras loss `ElectraDiscriminator.compile()` uses).
"""

import keras
from keras import ops

# Google adds this to the denominators of its losses.
LOSS_EPSILON = 1e-6


def per_token_loss(replaced, logits):
    """Sigmoid cross-entropy of every token: `-log p(replaced)` with
    `p = sigmoid(logits)`, in `logits`' dtype, not reduced."""
    replaced = ops.cast(replaced, logits.dtype)
    return ops.binary_crossentropy(replaced, logits, from_logits=True)


def discriminator_loss(discriminator_logits, replaced, padding_mask):
    """Sigmoid cross-entropy per token, averaged over the real tokens.

    Google's `discriminator_loss` (`run_pretraining.py`): float32,
    `sum(w * loss) / (sum(w) + 1e-6)` with `w` the padding mask.
    """
    per_token = per_token_loss(
        replaced, ops.cast(discriminator_logits, "float32")
    )
    weights = ops.cast(padding_mask, "float32")
    return ops.sum(per_token * weights) / (ops.sum(weights) + LOSS_EPSILON)


@keras.saving.register_keras_serializable(package="keras_electra")
class ReplacedTokenLoss(keras.losses.Loss):
    """The discriminator's loss: sigmoid cross-entropy for every token.

    Unlike `keras.losses.BinaryCrossentropy`, it does not average over the
    sequence axis first, so a `[batch, seq]` `sample_weight` (the padding
    mask) weights each token; the mean is taken over the weights, as in
    Google's `discriminator_loss` (`sum(w * loss) / sum(w)`).

    Args:
        reduction: Keras loss reduction. Defaults to
            `"mean_with_sample_weight"`.
        name: name of the loss.

    Example:
    ```python
    loss = keras_electra.losses.ReplacedTokenLoss()
    loss(
        y_true=[[0.0, 1.0, 0.0]],
        y_pred=[[-2.0, 3.0, 0.0]],
        sample_weight=[[1.0, 1.0, 0.0]],
    )
    ```
    """

    def __init__(
        self,
        reduction="mean_with_sample_weight",
        name="replaced_token_loss",
        **kwargs,
    ):
        super().__init__(reduction=reduction, name=name, **kwargs)

    def call(self, y_true, y_pred):
        return per_token_loss(y_true, y_pred)
