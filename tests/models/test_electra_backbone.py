import math

import keras
import numpy as np
import pytest
from keras import ops
from keras_hub.src.tests.test_case import TestCase

from keras_electra import ElectraBackbone
from tests.conftest import padded_batch


def backbone_kwargs(embedding_dim=16):
    return dict(
        vocabulary_size=30,
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        embedding_dim=embedding_dim,
        intermediate_dim=64,
        max_sequence_length=16,
    )


class ElectraBackboneTest(TestCase):
    def test_backbone_basics(self):
        # keras-hub's standard checks: serialization, eager + compiled
        # predict, variable lengths, mixed precision.
        self.run_backbone_test(
            cls=ElectraBackbone,
            init_kwargs=backbone_kwargs(),
            input_data=padded_batch(30, batch=2, seq=8),
            expected_output_shape=(2, 8, 32),
            run_mixed_precision_check=False,
            run_quantization_check=False,
        )

    def test_projection_only_when_sizes_differ(self):
        projected = ElectraBackbone(**backbone_kwargs(embedding_dim=16))
        plain = ElectraBackbone(**backbone_kwargs(embedding_dim=32))
        self.assertIsNotNone(projected.embeddings_projection)
        self.assertIsNone(plain.embeddings_projection)
        self.assertEqual(
            projected.count_params() - plain.count_params(),
            # Smaller embedding tables, plus the 16 -> 32 projection.
            -(30 + 16 + 2) * 16 - 2 * 16 + 16 * 32 + 32,
        )

    def test_no_pooler_and_erf_gelu_eps(self):
        backbone = ElectraBackbone(**backbone_kwargs())
        names = [w.path for w in backbone.weights]
        self.assertFalse(any("pool" in n for n in names))
        layer = backbone.transformer_layers[0]
        self.assertEqual(layer.layer_norm_epsilon, 1e-12)
        self.assertEqual(backbone.embeddings.layer_norm.epsilon, 1e-12)
        # Exact GELU: 0.5 x (1 + erf(x / sqrt 2)), not the tanh form.
        x = np.array([-3.0, -1.0, 0.5, 2.0], "float32")
        erf = np.vectorize(math.erf)
        expected = 0.5 * x * (1 + erf(x / np.sqrt(2)))
        self.assertAllClose(layer.activation(x), expected, atol=1e-6)

    def test_padding_does_not_change_real_tokens(self):
        backbone = ElectraBackbone(**backbone_kwargs())
        batch = padded_batch(30, batch=1, seq=8)
        batch["padding_mask"][:, 5:] = 0
        out = backbone(batch)
        changed = {k: v.copy() for k, v in batch.items()}
        changed["token_ids"][:, 5:] = 7
        out2 = backbone(changed)
        self.assertAllClose(out[:, :5], out2[:, :5], atol=1e-6)

    def test_initializer_is_truncated_normal_002(self):
        backbone = ElectraBackbone(**backbone_kwargs())
        table = ops.convert_to_numpy(backbone.token_embedding.embeddings)
        self.assertLess(np.abs(table).max(), 2 * 0.02 + 1e-6)
        self.assertAllClose(table.std(), 0.02 * 0.88, atol=0.004)

    def test_bad_heads(self):
        with pytest.raises(ValueError, match="divisible"):
            ElectraBackbone(**{**backbone_kwargs(), "num_heads": 5})


# Unit roundoff: bfloat16 keeps 8 significant bits, float16 11.
ROUNDOFF = {"bfloat16": 2.0**-8, "float16": 2.0**-11}


@pytest.mark.parametrize(
    "policy", ["bfloat16", "mixed_bfloat16", "float16", "mixed_float16"]
)
def test_low_precision_matches_float32(policy):
    """bf16/fp16 forward passes against float32 with the same weights.

    The outputs are LayerNorm-ed (about unit scale per token), so absolute
    errors are relative ones. Each of the ~20 rounded steps between the
    embeddings and the output (2 layers of matmuls, softmax, GELU,
    residual adds and LayerNorms; Keras takes LayerNorm statistics in
    float32) adds up to about one unit roundoff u, largely cancelling, so
    the error should stay within 2u on average over the real tokens and
    20u at the worst element: 0.0078 / 0.078 for bfloat16, 0.00098 /
    0.0098 for float16. (`"bfloat16"`/`"float16"` also round the weights;
    `mixed_*` keep float32 variables.) Measured on CPU: mean 1.2u, max
    7-10.5u (bfloat16), mean 1.1-1.15u, max 4.8-6.8u (float16; JAX,
    PyTorch). A float16 model whose embeddings are rounded through
    bfloat16 measured mean 2.7u and fails, as does any wrong cast or lost
    weight.
    """
    keras.utils.set_random_seed(0)
    reference = ElectraBackbone(**backbone_kwargs())
    low = ElectraBackbone(**backbone_kwargs(), dtype=policy)
    variable_dtype = keras.DTypePolicy(policy).variable_dtype
    assert low.token_embedding.embeddings.dtype == variable_dtype
    low.set_weights(reference.get_weights())
    batch = padded_batch(30, batch=2, seq=8)
    expected = ops.convert_to_numpy(reference(batch))
    out = low(batch)
    compute_dtype = keras.DTypePolicy(policy).compute_dtype
    assert keras.backend.standardize_dtype(out.dtype) == compute_dtype
    out = ops.convert_to_numpy(ops.cast(out, "float32"))
    real = batch["padding_mask"].astype(bool)
    error = np.abs(out - expected)[real]
    u = ROUNDOFF[compute_dtype]
    print(f"{policy}: mean error {error.mean() / u:.2f}u, "
          f"max {error.max() / u:.2f}u (u = {u})")
    assert np.all(np.isfinite(out[real]))
    assert error.mean() < 2 * u
    assert error.max() < 20 * u
