import keras
import numpy as np
import pytest
from keras import ops

from tests.pretraining.helpers import packed_batch
from tests.pretraining.helpers import tiny_pretrainer


def fixed_loss(pretrainer, batch, masked, noise):
    """The loss of one batch with fixed masking and sampling noise."""
    out = pretrainer.replaced_token_detection(batch, masked, noise)
    return float(ops.convert_to_numpy(out["loss"]))


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_finite_losses(policy):
    pretrainer = tiny_pretrainer(seed=0, dtype=policy)
    pretrainer.compile(learning_rate=3e-3, num_train_steps=20, warmup_steps=0)
    assert pretrainer.dtype_policy.name == policy
    if policy == "mixed_float16":  # Dynamic loss scaling.
        assert isinstance(
            pretrainer.optimizer, keras.optimizers.LossScaleOptimizer
        )
    table = pretrainer.embeddings.token_embedding.embeddings
    assert table.dtype == "float32"  # Variables stay float32.
    before = ops.convert_to_numpy(table).copy()
    batch = packed_batch(batch=4, seq=16)
    masked = {k: ops.convert_to_numpy(v) for k, v in pretrainer.mask(batch).items()}
    slots = masked["mask_positions"].shape[1]
    vocabulary_size = pretrainer.embeddings.vocabulary_size
    noise = np.random.default_rng(0).gumbel(size=(4, slots, vocabulary_size))
    noise = noise.astype("float32")
    start = fixed_loss(pretrainer, batch, masked, noise)
    assert 20 < start < 60  # ~ln(25) + 50 ln(2)
    # float16 starts at a loss scale of 2**15, which overflows and is halved
    # (skipping the step) until the gradients are finite.
    history = pretrainer.fit(batch, batch_size=4, epochs=20, verbose=0).history
    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    assert int(ops.convert_to_numpy(pretrainer.optimizer.iterations)) > 0
    assert not np.allclose(ops.convert_to_numpy(table), before)
    # Training on this batch lowers its loss (same masking and noise).
    assert fixed_loss(pretrainer, batch, masked, noise) < start - 1.0
