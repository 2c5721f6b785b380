import keras
import numpy as np
from keras import ops

from keras_electra.layers import ElectraSelfAttention
from keras_electra import ElectraBackbone


def _qkv_and_mask():
    rng = np.random.default_rng(0)
    q, k, v = (
        rng.normal(size=(3, 7, 2, 4)).astype("float32") for _ in range(3)
    )
    keep = np.ones((3, 7), bool)
    keep[1, 5:] = False  # padding at the end
    keep[2, :] = False  # a sequence with every key masked
    mask = np.broadcast_to(keep[:, None, :], (3, 7, 7)).copy()
    mask[0] = np.tril(np.ones((7, 7), bool))  # a causal mask
    return q, k, v, mask


def test_fused_attention_matches_keras_masked_softmax_on_every_row():
    q, k, v, mask = _qkv_and_mask()
    layer = ElectraSelfAttention(num_heads=2, key_dim=4, dropout=0.1)
    layer.build((3, 7, 8), (3, 7, 8))
    fused, scores = layer._compute_attention(
        q, k, v, attention_mask=mask, training=False
    )
    # Keras' own (unfused) path: einsum, masked softmax, einsum.
    reference, _ = keras.layers.MultiHeadAttention._compute_attention(
        layer, q, k, v, attention_mask=mask, training=False
    )
    assert scores is None
    np.testing.assert_allclose(
        ops.convert_to_numpy(fused), ops.convert_to_numpy(reference),
        atol=1e-6,
    )
    # The all-masked sequence gives zeros, as Keras' masked softmax does.
    assert not np.any(ops.convert_to_numpy(fused)[2])


def test_training_with_dropout_keeps_keras_path():
    q, k, v, mask = _qkv_and_mask()
    layer = ElectraSelfAttention(num_heads=2, key_dim=4, dropout=0.5)
    layer.build((3, 7, 8), (3, 7, 8))
    _, scores = layer._compute_attention(
        q, k, v, attention_mask=mask, training=True,
        return_attention_scores=True,
    )
    assert scores is not None  # the unfused path, which has the scores


def test_backbone_uses_it_and_keeps_keras_hub_weight_paths():
    backbone = ElectraBackbone(
        vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=8,
        intermediate_dim=16, max_sequence_length=16,
    )
    for layer in backbone.transformer_layers:
        assert isinstance(layer._self_attention_layer, ElectraSelfAttention)
        # Saved weights are named after the encoder's class: it must stay
        # keras-hub's, or presets written before would not load.
        assert type(layer).__name__ == "TransformerEncoder"
