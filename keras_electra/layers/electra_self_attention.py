import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraSelfAttention(keras.layers.MultiHeadAttention):
    """`MultiHeadAttention` that uses the fused kernel whenever it may.

    Keras' `MultiHeadAttention` takes `ops.dot_product_attention` (torch's
    `scaled_dot_product_attention`, XLA's attention on JAX) only when its
    dropout rate is 0, so ELECTRA's attention (dropout 0.1) always runs the
    unfused path: two einsums, a masked softmax, copies for the head
    transposes, even at inference where the dropout does nothing. Here the
    fused kernel runs whenever the dropout is inactive (`training` false)
    and the scores are not asked for; training with dropout keeps Keras'
    path. The math is the same (scaled dot product, masked softmax).
    """

    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        dropout_active = bool(training) and self._dropout > 0.0
        if (
            dropout_active
            or return_attention_scores
            or use_causal_mask
            or len(query.shape) != 4
        ):
            return super()._compute_attention(
                query,
                key,
                value,
                attention_mask=attention_mask,
                training=training,
                return_attention_scores=return_attention_scores,
                use_causal_mask=use_causal_mask,
            )
        if attention_mask is None:
            output = ops.dot_product_attention(
                query, key, value, scale=self._inverse_sqrt_key_dim
            )
            return output, None
        keep = ops.cast(attention_mask, "bool")  # [B, T, S]
        output = ops.dot_product_attention(
            query,
            key,
            value,
            mask=ops.expand_dims(keep, axis=1),  # one mask for every head
            scale=self._inverse_sqrt_key_dim,
        )
        # Keras' masked softmax gives a query whose keys are all masked (an
        # all-padding sequence) zero weights, so a zero output; the fused
        # kernels average such a row uniformly instead. Zero it as Keras
        # does, so that both paths give the same answer on every row.
        any_key = ops.any(keep, axis=-1)[:, :, None, None]  # [B, T, 1, 1]
        output = output * ops.cast(any_key, output.dtype)
        return output, None


def use_fused_attention(encoder):
    """Make a built keras-hub `TransformerEncoder` use `ElectraSelfAttention`.

    keras-hub builds a plain `MultiHeadAttention` inside the encoder's
    `build` and has no argument to pick another class. `ElectraSelfAttention`
    adds no state (same variables, same tracking), so switching the built
    layer's class keeps every weight as it is. The encoder itself stays a
    `TransformerEncoder`: Keras names the saved weights of a list of layers
    after their class (`layers/transformer_encoder_1/...`), so a subclass
    would no longer load the presets already written.
    """
    attention = encoder._self_attention_layer
    if type(attention) is keras.layers.MultiHeadAttention:
        attention.__class__ = ElectraSelfAttention
    return encoder
