import keras
import numpy as np
import pytest
from keras import ops

from keras_electra.pretraining import mask_tokens
from keras_electra.pretraining import max_predictions_for
from tests.pretraining.helpers import CLS
from tests.pretraining.helpers import MASK
from tests.pretraining.helpers import PAD
from tests.pretraining.helpers import SEP
from tests.pretraining.helpers import packed_batch

SPECIAL = (CLS, SEP, MASK, PAD)


def _mask(batch, num_slots, seed, **kwargs):
    out = mask_tokens(
        batch["token_ids"],
        batch["padding_mask"],
        mask_token_id=MASK,
        special_token_ids=SPECIAL,
        max_predictions_per_seq=num_slots,
        seed=seed,
        **kwargs,
    )
    return {k: ops.convert_to_numpy(v) for k, v in out.items()}


def _expected_count(batch, num_slots, probability=0.15):
    # Google: max(1, min(N, round(num_real_tokens * mask_prob))), where
    # tf.round rounds half to even like numpy.
    n = batch["padding_mask"].sum(axis=1)
    return np.maximum(1, np.minimum(num_slots, np.round(n * probability)))


def test_googles_default_number_of_slots():
    # configure_pretraining.py: int((mask_prob + 0.005) * max_seq_length).
    assert max_predictions_for(128, 0.15) == 19
    assert max_predictions_for(512, 0.15) == 79
    assert max_predictions_for(512, 0.25) == 130


def test_candidates_counts_and_ids():
    batch = packed_batch(batch=6, seq=40, seed=1)
    batch["token_ids"][0, 5] = MASK  # An existing [MASK] is never chosen.
    num_slots = 6
    out = _mask(batch, num_slots, seed=3)
    expected = _expected_count(batch, num_slots)
    np.testing.assert_array_equal(out["mask_weights"].sum(axis=1), expected)
    for row in range(6):
        used = out["mask_weights"][row] > 0
        positions = out["mask_positions"][row][used]
        tokens = batch["token_ids"][row]
        assert len(set(positions.tolist())) == len(positions)  # distinct
        assert all(batch["padding_mask"][row, p] == 1 for p in positions)
        assert not set(tokens[positions].tolist()) & set(SPECIAL)
        np.testing.assert_array_equal(out["mask_ids"][row][used], tokens[positions])
        # Unused slots point at position 0 with id 0, as in Google's code.
        assert (out["mask_positions"][row][~used] == 0).all()
        assert (out["mask_ids"][row][~used] == 0).all()


def test_85_percent_become_mask_15_percent_unchanged_no_random_tokens():
    batch = packed_batch(batch=256, seq=64, seed=2)
    out = _mask(batch, max_predictions_for(64, 0.15), seed=5)
    changed = out["token_ids"] != batch["token_ids"]
    # Every change is a [MASK] at a chosen position; nothing else changes.
    assert (out["token_ids"][changed] == MASK).all()
    chosen = np.zeros_like(changed)
    for row in range(256):
        used = out["mask_weights"][row] > 0
        chosen[row, out["mask_positions"][row][used]] = True
    assert not (changed & ~chosen).any()
    share = changed.sum() / chosen.sum()
    assert abs(share - 0.85) < 0.03, share  # ~2000 chosen, sd ~0.008


def test_positions_are_uniform_over_candidates():
    row = packed_batch(batch=1, seq=24, seed=4)
    batch = {k: np.repeat(v, 3000, axis=0) for k, v in row.items()}
    out = _mask(batch, 4, seed=9)
    counts = np.zeros(24)
    for positions, weights in zip(out["mask_positions"], out["mask_weights"]):
        np.add.at(counts, positions[weights > 0], 1)
    candidates = [
        i for i in range(24) if row["token_ids"][0, i] not in SPECIAL
    ]
    assert counts[[i for i in range(24) if i not in candidates]].sum() == 0
    per_draw = _expected_count(row, 4)[0] / len(candidates)
    expected = 3000 * per_draw
    sd = np.sqrt(3000 * per_draw * (1 - per_draw))
    assert np.abs(counts[candidates] - expected).max() < 5 * sd


def test_fewer_candidates_than_predictions():
    batch = {
        "token_ids": np.array([[CLS, 7, SEP, 8, SEP, PAD, PAD, PAD]], "int32"),
        "padding_mask": np.array([[1, 1, 1, 1, 1, 0, 0, 0]], "int32"),
    }
    # 5 real tokens at mask_probability 0.5 -> round(2.5) = 2 predictions,
    # and there are exactly two candidates.
    out = _mask(batch, 4, seed=0, mask_probability=0.5)
    assert out["mask_weights"].sum() == 2
    batch["token_ids"][0, 3] = MASK  # Now only one candidate is left.
    out = _mask(batch, 4, seed=0, mask_probability=0.5)
    assert out["mask_weights"].sum() == 1
    assert out["mask_positions"][0, 0] == 1


def test_injected_noise_decides_positions_and_masks():
    batch = packed_batch(batch=2, seq=12, seed=5)
    rng = np.random.default_rng(0)
    selection = rng.uniform(size=(2, 12)).astype("float32")
    keep = rng.uniform(size=(2, 3)).astype("float32")
    out = _mask(batch, 3, seed=None, selection_noise=selection, mask_noise=keep)
    for row in range(2):
        tokens = batch["token_ids"][row]
        real = batch["padding_mask"][row] == 1
        candidates = [
            i for i in range(12) if real[i] and tokens[i] not in SPECIAL
        ]
        count = int(_expected_count(batch, 3)[row])
        expected = sorted(candidates, key=lambda i: -selection[row, i])[:count]
        np.testing.assert_array_equal(out["mask_positions"][row][:count], expected)
        for slot, position in enumerate(expected):
            masked = out["token_ids"][row, position] == MASK
            assert masked == (keep[row, slot] < 0.85)


def test_fresh_each_call_and_reproducible_from_the_seed():
    batch = packed_batch(batch=4, seq=32, seed=6)
    seed_generator = keras.random.SeedGenerator(11)
    first = _mask(batch, 5, seed=seed_generator)
    second = _mask(batch, 5, seed=seed_generator)
    assert not np.array_equal(first["mask_positions"], second["mask_positions"])
    again = _mask(batch, 5, seed=keras.random.SeedGenerator(11))
    np.testing.assert_array_equal(first["mask_positions"], again["mask_positions"])
    np.testing.assert_array_equal(first["token_ids"], again["token_ids"])


def test_bad_number_of_slots():
    batch = packed_batch(batch=1, seq=8)
    with pytest.raises(ValueError, match="max_predictions_per_seq"):
        _mask(batch, 0, seed=0)
