"""`keras_electra.pretraining.evaluation`: the AUCs against brute-force
pair counting (the definition), and the metrics of a pretrainer against
quantities counted here from its own outputs."""

import itertools

import numpy as np
import pytest

from keras_electra.pretraining.evaluation import auc
from keras_electra.pretraining.evaluation import same_piece_auc


def pairwise_auc(positive, negative):
    """P(score of a positive > score of a negative), ties count 1/2."""
    wins = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for p, n in itertools.product(positive, negative)
    ]
    return float(np.mean(wins))


def test_auc_is_the_pairwise_ranking_probability():
    rng = np.random.default_rng(0)
    for trial in range(20):
        # Rounded scores, so that ties occur.
        positive = np.round(rng.normal(0.5, 1, rng.integers(1, 30)), 1)
        negative = np.round(rng.normal(0.0, 1, rng.integers(1, 30)), 1)
        assert auc(positive, negative) == pytest.approx(
            pairwise_auc(positive, negative), abs=1e-12
        )
    assert auc([2.0], [1.0]) == 1.0
    assert auc([1.0], [2.0]) == 0.0
    assert auc([1.0, 1.0], [1.0]) == 0.5


def test_same_piece_auc_ignores_the_piece_and_uses_the_context():
    rng = np.random.default_rng(1)
    pieces = rng.integers(0, 5, 400)
    replaced = rng.random(400) < 0.3
    # A judge that sees only the piece: exactly 0.5, however informative
    # the piece is about replacement overall.
    by_piece = pieces * 10.0
    assert same_piece_auc(by_piece, replaced, pieces) == 0.5
    assert auc(by_piece[replaced], by_piece[~replaced]) != 0.5
    # Otherwise: the pair-weighted mean of the per-piece pairwise AUCs.
    scores = rng.normal(size=400) + replaced
    right = pairs = 0.0
    for piece in range(5):
        here = pieces == piece
        p, n = scores[here & replaced], scores[here & ~replaced]
        right += pairwise_auc(p, n) * len(p) * len(n)
        pairs += len(p) * len(n)
    assert same_piece_auc(scores, replaced, pieces) == pytest.approx(
        right / pairs
    )


def test_pretrainer_metrics_from_its_own_outputs():
    """`held_out_rtd_metrics` against the same quantities counted here from
    one RTD step with the same masks and Gumbel noise."""
    import keras

    from keras_electra.pretraining.evaluation import held_out_rtd_metrics
    from tests.pretraining.helpers import packed_batch
    from tests.pretraining.helpers import tiny_pretrainer

    # Near-uniform samples over 25 pieces: some hit the original.
    pretrainer = tiny_pretrainer(seed=3, temperature=100.0)
    batches = [packed_batch(batch=8, seq=32, seed=s) for s in range(4)]
    metrics = held_out_rtd_metrics(pretrainer, batches, noise_seed=7)
    # The same masks and noise on a second call, whatever ran between.
    pretrainer.mask(batches[0])
    assert held_out_rtd_metrics(pretrainer, batches, noise_seed=7) == metrics

    hits = slots = replaced_slots = 0
    logits, replaced = [], []
    vocabulary_size = pretrainer.discriminator.backbone.vocabulary_size
    for i, batch in enumerate(batches):
        masked = pretrainer.mask(batch, seed=keras.random.SeedGenerator(7 + i))
        noise = np.random.default_rng(7 + i).gumbel(
            size=(8, masked["mask_positions"].shape[1], vocabulary_size)
        )
        out = pretrainer.replaced_token_detection(
            batch, masked, noise.astype("float32")
        )
        out = {k: np.asarray(keras.ops.convert_to_numpy(v)) for k, v in out.items()}
        weights = out["mask_weights"] > 0
        hits += int(((out["generator_predictions"] == out["mask_ids"]) & weights).sum())
        slots += int(weights.sum())
        # The sampled token at each used slot, read from the corrupted ids.
        positions = np.asarray(keras.ops.convert_to_numpy(masked["mask_positions"]))
        sampled = np.take_along_axis(out["corrupted_ids"], positions, axis=1)
        replaced_slots += int(((sampled != out["mask_ids"]) & weights).sum())
        real = batch["padding_mask"] > 0
        logits.append(out["discriminator_logits"][real])
        replaced.append(out["replaced"][real] == 1)
    logits, replaced = np.concatenate(logits), np.concatenate(replaced)
    assert 0 < replaced_slots < slots  # both kinds occur
    assert metrics["generator_accuracy"] == hits / slots
    assert metrics["sampled_original_share"] == pytest.approx(
        1 - replaced_slots / slots, abs=1e-12
    )
    assert metrics["replaced_share"] == pytest.approx(replaced.mean(), abs=1e-12)
    assert metrics["discriminator_auc"] == pytest.approx(
        pairwise_auc(logits[replaced], logits[~replaced]), abs=1e-9
    )
