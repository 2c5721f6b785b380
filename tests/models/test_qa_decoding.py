"""The one span search of question answering, `qa_decoding.best_spans`
(`decode_answers` runs it eagerly, the SavedModel in its graph), against
Google's rule written out by brute force here."""

import numpy as np
import pytest

from keras_electra.models.qa_decoding import best_spans


def reference_spans(starts, ends, start_ok, end_ok, max_length, n_best):
    """Google's rule on one window: the n best starts x the n best ends
    (stable), kept pairs sorted by score (stable)."""
    top_starts = np.argsort(-starts, kind="stable")[:n_best]
    top_ends = np.argsort(-ends, kind="stable")[:n_best]
    pairs = [
        (starts[s] + ends[e], s, e)
        for s in top_starts
        if start_ok[s]
        for e in top_ends
        if end_ok[e] and s <= e < s + max_length
    ]
    return sorted(pairs, key=lambda pair: pair[0], reverse=True)


def random_window(rng, windows, seq, ties):
    if ties:  # few distinct values: many equal logits and scores
        logits = rng.integers(-2, 3, size=(2, windows, seq)).astype("float64")
    else:
        logits = rng.normal(size=(2, windows, seq))
    start_ok = rng.random((windows, seq)) < 0.7
    end_ok = rng.random((windows, seq)) < 0.7
    start_ok[0] = end_ok[0] = False  # a window without any span
    return logits[0], logits[1], start_ok, end_ok


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("n_best,max_length", [(1, 30), (3, 2), (5, 1), (40, 4)])
def test_best_spans_follow_googles_rule(ties, n_best, max_length):
    rng = np.random.default_rng(n_best + 10 * max_length + ties)
    starts, ends, start_ok, end_ok = random_window(rng, 6, 12, ties)
    scores, span_starts, span_ends, valid = (
        np.asarray(x)
        for x in best_spans(
            starts, ends, start_ok, end_ok, max_length, n_best
        )
    )
    k = min(n_best, 12)
    assert scores.shape == span_starts.shape == valid.shape == (6, k * k)
    for w in range(6):
        expected = reference_spans(
            starts[w], ends[w], start_ok[w], end_ok[w], max_length, n_best
        )
        kept = np.flatnonzero(valid[w])
        # The kept pairs come first, then the rest with score -inf.
        assert kept.tolist() == list(range(len(expected)))
        assert np.all(scores[w, len(expected):] == -np.inf)
        got = [
            (scores[w, j], span_starts[w, j], span_ends[w, j]) for j in kept
        ]
        assert got == expected
    assert not valid[0].any()


def test_best_span_in_a_graph_is_the_exhaustive_best():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    starts, ends, start_ok, end_ok = random_window(rng, 8, 16, False)
    starts, ends = starts.astype("float32"), ends.astype("float32")

    @tf.function(autograph=False)
    def best(starts, ends, start_ok, end_ok):
        # Every position a candidate, as the SavedModel searches.
        return best_spans(
            starts, ends, start_ok, end_ok, 4,
            n_best_size=tf.shape(starts)[1], num_spans=1,
        )

    scores, span_starts, span_ends, valid = (
        x.numpy()[:, 0]
        for x in best(
            tf.constant(starts), tf.constant(ends),
            tf.constant(start_ok), tf.constant(end_ok),
        )
    )
    for w in range(8):
        pairs = [
            (starts[w, s] + ends[w, e], s, e)
            for s in range(16)
            for e in range(s, min(s + 4, 16))
            if start_ok[w, s] and end_ok[w, e]
        ]
        assert valid[w] == bool(pairs)
        if pairs:
            score, s, e = max(pairs, key=lambda pair: pair[0])
            assert (scores[w], span_starts[w], span_ends[w]) == (score, s, e)
        else:
            assert scores[w] == -np.inf
