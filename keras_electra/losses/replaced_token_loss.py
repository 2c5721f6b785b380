import keras
from keras import ops


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
        y_true = ops.cast(y_true, y_pred.dtype)
        return ops.binary_crossentropy(y_true, y_pred, from_logits=True)
