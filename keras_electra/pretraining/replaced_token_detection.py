"""The pieces of ELECTRA's replaced token detection (Clark et al., 2020).

Pure functions of tensors, written once with `keras.ops`, that
`ElectraPretrainer.replaced_token_detection` strings together:

    mask -> generator -> sample -> discriminator -> loss

Each follows Google's `run_pretraining.py` / `pretrain_helpers.py`:
Gumbel-max sampling from the generator's float32 logits (divided by the
temperature), no gradient through the sample, "replaced" only where the
sample differs from the original token, and losses that are means over the
masked positions (generator) and the real tokens (discriminator).
"""

from keras import ops
from keras import random

from keras_electra.losses.replaced_token_loss import LOSS_EPSILON
from keras_electra.pretraining.masking import scatter_any
from keras_electra.pretraining.masking import scatter_values

# Google's `sample_from_softmax` guards both logs with this epsilon.
GUMBEL_EPSILON = 1e-9


def gumbel_noise(shape, seed=None):
    """Gumbel(0, 1) noise, `-log(-log(u + 1e-9) + 1e-9)` with `u ~ U[0, 1)`."""
    uniform = random.uniform(shape, dtype="float32", seed=seed)
    return -ops.log(-ops.log(uniform + GUMBEL_EPSILON) + GUMBEL_EPSILON)


def sample_from_generator(generator_logits, noise, temperature=1.0):
    """Gumbel-max sample per masked position; no gradient flows through it.

    Args:
        generator_logits: `[batch, N, vocab]` logits at the masked positions.
        noise: `[batch, N, vocab]` Gumbel noise (`gumbel_noise`).
        temperature: float. The logits are divided by it first.

    Returns:
        int32 `[batch, N]` sampled token ids.
    """
    logits = ops.stop_gradient(ops.cast(generator_logits, "float32"))
    return ops.cast(ops.argmax(logits / temperature + noise, axis=-1), "int32")


def replace_masked_tokens(token_ids, mask_positions, mask_weights, sampled_ids):
    """Put the samples at the masked positions of the original sequence.

    Returns:
        `(corrupted_ids, replaced)`: the discriminator's input, and an int32
        `[batch, seq]` label that is 1 where the token differs from the
        original (a sample equal to the original counts as "original").
    """
    token_ids = ops.convert_to_tensor(token_ids, "int32")
    sequence_length = ops.shape(token_ids)[1]
    used = ops.convert_to_tensor(mask_weights) > 0
    at_masked = scatter_any(mask_positions, used, sequence_length)
    samples = scatter_values(mask_positions, sampled_ids, used, sequence_length)
    corrupted_ids = ops.where(at_masked, samples, token_ids)
    replaced = ops.logical_and(at_masked, ops.not_equal(corrupted_ids, token_ids))
    return corrupted_ids, ops.cast(replaced, "int32")


def generator_loss(generator_logits, mask_ids, mask_weights):
    """Masked-LM cross-entropy, averaged over the used mask slots.

    `ops.sparse_categorical_crossentropy` on `[slots, vocab]` rows: each
    backend's fused kernel (TensorFlow's
    `sparse_softmax_cross_entropy_with_logits`, torch's `cross_entropy`).
    Picking the label's log-probability with `take_along_axis` instead made
    TensorFlow's gradient a batched-gather gradient, an
    `UnsortedSegmentSum` over `slots x vocab` entries: a third of the quick
    start's step (33 of 106 ms, `benchmarks/profile_step.py`).
    """
    vocabulary_size = ops.shape(generator_logits)[-1]
    per_position = ops.sparse_categorical_crossentropy(
        ops.reshape(ops.cast(mask_ids, "int32"), (-1,)),
        ops.reshape(
            ops.cast(generator_logits, "float32"), (-1, vocabulary_size)
        ),
        from_logits=True,
    )
    weights = ops.reshape(ops.cast(mask_weights, "float32"), (-1,))
    return ops.sum(per_position * weights) / (ops.sum(weights) + LOSS_EPSILON)
