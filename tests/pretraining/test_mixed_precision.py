import keras
import numpy as np
import pytest
from keras import ops

from tests.pretraining.helpers import packed_batch
from tests.pretraining.helpers import tiny_pretrainer


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_with_finite_losses(policy):
    pretrainer = tiny_pretrainer(seed=0, dtype=policy)
    pretrainer.compile(learning_rate=1e-2, num_train_steps=10, warmup_steps=0)
    assert pretrainer.dtype_policy.name == policy
    if policy == "mixed_float16":  # Dynamic loss scaling.
        assert isinstance(
            pretrainer.optimizer, keras.optimizers.LossScaleOptimizer
        )
    table = pretrainer.embeddings.token_embedding.embeddings
    assert table.dtype == "float32"  # Variables stay float32.
    before = ops.convert_to_numpy(table).copy()
    batch = packed_batch(batch=4, seq=16)
    # float16 starts at a loss scale of 2**15, which overflows and is halved
    # (skipping the step) until the gradients are finite.
    history = pretrainer.fit(batch, batch_size=4, epochs=10, verbose=0).history
    for name, values in history.items():
        assert np.all(np.isfinite(values)), (name, values)
    assert 20 < history["loss"][0] < 60  # ~ln(25) + 50 ln(2)
    assert int(ops.convert_to_numpy(pretrainer.optimizer.iterations)) > 0
    assert not np.allclose(ops.convert_to_numpy(table), before)
    assert history["loss"][-1] < history["loss"][0]
