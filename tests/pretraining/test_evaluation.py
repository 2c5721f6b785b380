"""`keras_electra.pretraining.evaluation`: the AUCs against brute-force
pair counting (the definition), and the metrics of a pretrainer against
quantities computed here from its own outputs."""

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
