"""ELECTRA's dynamic masking: which tokens the generator must predict.

The one place that says how tokens are chosen for masked language modeling
in pre-training (Google's `pretrain_helpers.mask`). `ElectraPretrainer`
calls `mask_tokens` in every training step, so each step (and each replica)
masks afresh; tests call the same function.

The rule:

- candidates are real tokens (padding mask 1) other than `[CLS]`, `[SEP]`,
  `[MASK]` and `[PAD]`;
- a sequence with `n` real tokens (special tokens included) gets
  `max(1, min(max_predictions_per_seq, round(n * mask_probability)))`
  predictions, at positions drawn uniformly without replacement among its
  candidates (fewer if it has fewer candidates);
- 85% of the chosen positions become `[MASK]`, the other 15% keep their
  token; no position gets a random token (ELECTRA's generator replaces
  tokens itself).

Google's code draws the positions with `tf.random.categorical`, i.e. with
replacement, and so rarely chooses a position twice; the paper describes a
set of positions, which is what is drawn here.
"""

from keras import ops
from keras import random

# Share of chosen positions replaced by `[MASK]`; the rest stay unchanged.
MASK_TOKEN_RATE = 0.85
# Google's `configure_pretraining.py`: 0.15, and 0.25 for ELECTRA-large.
DEFAULT_MASK_PROBABILITY = 0.15


def max_predictions_for(sequence_length, mask_probability):
    """Google's default `max_predictions_per_seq` for a sequence length.

    `int((mask_prob + 0.005) * max_seq_length)`, e.g. 19 for 128 tokens at
    0.15 and 128 for 512 tokens at 0.25.
    """
    return int((mask_probability + 0.005) * sequence_length)


def mask_tokens(
    token_ids,
    padding_mask,
    mask_token_id,
    special_token_ids,
    max_predictions_per_seq,
    mask_probability=DEFAULT_MASK_PROBABILITY,
    seed=None,
    selection_noise=None,
    mask_noise=None,
):
    """Choose positions to predict and put `[MASK]` on 85% of them.

    Randomness comes from `seed` (a `keras.random.SeedGenerator` or an int)
    unless both noises are given, which tests use to fix the outcome.

    Args:
        token_ids: int tensor `[batch, seq]`.
        padding_mask: tensor `[batch, seq]`, 1 for real tokens.
        mask_token_id: int. The id of `[MASK]`.
        special_token_ids: ints never chosen (`[CLS]`, `[SEP]`, `[MASK]`,
            `[PAD]`).
        max_predictions_per_seq: int. The most positions per sequence
            (`N`); see `max_predictions_for`.
        mask_probability: float. Share of real tokens to predict.
        seed: `keras.random.SeedGenerator` or int for the noises below.
        selection_noise: optional float tensor `[batch, seq]` in `[0, 1)`:
            the candidates with the largest values are chosen.
        mask_noise: optional float tensor `[batch, N]` in `[0, 1)`: a chosen
            position becomes `[MASK]` where it is below 0.85.

    Returns:
        A dict:
        - `"token_ids"`: the generator's input, `[batch, seq]`, with
          `[MASK]` at 85% of the chosen positions;
        - `"mask_positions"`: `[batch, N]` chosen positions (0 in unused
          slots);
        - `"mask_ids"`: `[batch, N]` the original tokens there (0 in unused
          slots);
        - `"mask_weights"`: `[batch, N]` float, 1 for used slots.
    """
    token_ids = ops.convert_to_tensor(token_ids, "int32")
    padding_mask = ops.convert_to_tensor(padding_mask)
    batch_size, sequence_length = ops.shape(token_ids)
    num_slots = int(max_predictions_per_seq)
    if num_slots < 1:
        raise ValueError(
            "`max_predictions_per_seq` must be at least 1. Received: "
            f"{max_predictions_per_seq}"
        )
    if isinstance(sequence_length, int):
        num_slots = min(num_slots, sequence_length)

    # Candidates: real tokens that are not special tokens.
    is_real = ops.cast(padding_mask, "bool")
    candidates = is_real
    for special_id in special_token_ids:
        candidates = ops.logical_and(
            candidates, ops.not_equal(token_ids, special_id)
        )

    # How many to predict per sequence (Google's rounding and bounds).
    num_tokens = ops.sum(ops.cast(is_real, "float32"), axis=-1)
    num_to_predict = ops.cast(ops.round(num_tokens * mask_probability), "int32")
    num_to_predict = ops.clip(num_to_predict, 1, num_slots)

    # A uniformly random subset: the candidates with the largest noise.
    if selection_noise is None:
        selection_noise = random.uniform(
            (batch_size, sequence_length), seed=seed
        )
    scores = ops.where(candidates, selection_noise, -1.0)
    top_scores, positions = ops.top_k(scores, k=num_slots)
    positions = ops.cast(positions, "int32")
    slot = ops.arange(num_slots, dtype="int32")[None, :]
    used = ops.logical_and(
        slot < num_to_predict[:, None], top_scores >= 0.0
    )
    positions = ops.where(used, positions, 0)
    mask_ids = ops.where(
        used, ops.take_along_axis(token_ids, positions, axis=1), 0
    )

    # 85% of the chosen positions become [MASK]; 15% stay as they are.
    if mask_noise is None:
        mask_noise = random.uniform((batch_size, num_slots), seed=seed)
    put_mask = ops.logical_and(used, mask_noise < MASK_TOKEN_RATE)
    masked_ids = ops.where(
        scatter_any(positions, put_mask, sequence_length),
        mask_token_id,
        token_ids,
    )
    return {
        "token_ids": masked_ids,
        "mask_positions": positions,
        "mask_ids": mask_ids,
        "mask_weights": ops.cast(used, "float32"),
    }


def scatter_any(positions, flags, sequence_length):
    """`[batch, seq]` bool: True where some slot with a True flag points.

    Args:
        positions: int `[batch, N]` positions in `[0, seq)`.
        flags: bool `[batch, N]`.
        sequence_length: int. `seq`.
    """
    hits = ops.one_hot(positions, sequence_length, dtype="int32")
    hits = hits * ops.cast(flags, "int32")[..., None]
    return ops.max(hits, axis=1) > 0


def scatter_values(positions, values, flags, sequence_length):
    """`[batch, seq]` int: `values` placed at `positions` where `flags`.

    Positions must be distinct among flagged slots of a row (as chosen by
    `mask_tokens`). Elsewhere the result is 0.
    """
    hits = ops.one_hot(positions, sequence_length, dtype="int32")
    hits = hits * ops.cast(flags, "int32")[..., None]
    return ops.sum(hits * ops.cast(values, "int32")[..., None], axis=1)
