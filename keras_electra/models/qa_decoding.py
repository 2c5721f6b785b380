"""From start/end logits to answer text (SQuAD 1.1 and 2.0).

As in Google's `qa_metrics.py` (non-joint prediction) and BERT's
`run_squad.py`: in every window (feature) of an example, the `n_best_size`
best start and end positions are paired; a pair is kept if both lie in the
context, the start is in the window where it has the most context, the end
is not before the start and the span is at most `max_answer_length` tokens.
Pairs are ranked by `start_logit + end_logit` and mapped back to the exact
context characters through the token offsets; duplicate texts are dropped.

The search in one window, `best_spans`, is TensorFlow ops: `decode_answers`
runs it eagerly, the SavedModel's question answering inside its graph.

SQuAD 2.0: the null score of an example is the smallest
`start_logit[CLS] + end_logit[CLS]` over its windows; the prediction is ""
(no answer) when `null_score - best_span_score > null_score_diff_threshold`.
"""

import numpy as np
import tensorflow as tf

# Pairs searched by one call of `best_spans` in `decode_answers` (its
# memory is `[windows, n_best_size, n_best_size]`).
_PAIRS_PER_CALL = 1 << 20


def best_spans(
    start_logits,
    end_logits,
    start_allowed,
    end_allowed,
    max_answer_length,
    n_best_size,
    num_spans=None,
):
    """The best answer spans of every window, by Google's rule, in
    TensorFlow ops (eager, or inside a graph).

    The `n_best_size` highest start logits are paired with the
    `n_best_size` highest end logits (ties: the lower position first); a
    pair `(start, end)` is kept if `start_allowed[start]`,
    `end_allowed[end]` and `0 <= end - start < max_answer_length`, and
    scores `start_logit + end_logit`.

    Args:
        start_logits, end_logits: float `[windows, seq]`.
        start_allowed, end_allowed: bool `[windows, seq]`, where a span may
            start and end (context tokens; for starts, Google also asks for
            the window with the token's most context).
        max_answer_length: int. Longest span, in tokens.
        n_best_size: int (or int32 scalar tensor). Start and end candidates
            per window; at least `seq` searches every span.
        num_spans: int. Spans returned per window; defaults to every pair,
            `min(n_best_size, seq) ** 2`.

    Returns:
        `(scores, starts, ends, valid)`, `[windows, num_spans]`, best score
        first (ties in the order the pairs were formed: start rank, then
        end rank): the score (`-inf` where not `valid`), the start and end
        positions (int32), and whether the pair is kept.
    """
    start_logits = tf.convert_to_tensor(start_logits)
    end_logits = tf.convert_to_tensor(end_logits, start_logits.dtype)
    k = tf.minimum(n_best_size, tf.shape(start_logits)[1])
    # `top_k` puts equal values in position order, as a stable sort.
    top_start_logits, top_starts = tf.math.top_k(start_logits, k)
    top_end_logits, top_ends = tf.math.top_k(end_logits, k)
    length = top_ends[:, None, :] - top_starts[:, :, None]
    valid = (
        tf.gather(start_allowed, top_starts, batch_dims=1)[:, :, None]
        & tf.gather(end_allowed, top_ends, batch_dims=1)[:, None, :]
        & (length >= 0)
        & (length < max_answer_length)
    )
    scores = top_start_logits[:, :, None] + top_end_logits[:, None, :]
    scores = tf.where(valid, scores, tf.constant(-np.inf, scores.dtype))
    scores = tf.reshape(scores, [tf.shape(scores)[0], k * k])
    valid = tf.reshape(valid, tf.shape(scores))
    scores, best = tf.math.top_k(
        scores, k * k if num_spans is None else tf.minimum(num_spans, k * k)
    )
    return (
        scores,
        tf.gather(top_starts, best // k, batch_dims=1),
        tf.gather(top_ends, best % k, batch_dims=1),
        tf.gather(valid, best, batch_dims=1),
    )


def _softmax(scores):
    scores = np.asarray(scores, "float64")
    if scores.size == 0:
        return scores
    e = np.exp(scores - scores.max())
    return e / e.sum()


def decode_answers(
    features,
    start_logits,
    end_logits,
    n_best_size=20,
    max_answer_length=30,
    version_2=False,
    null_score_diff_threshold=0.0,
):
    """Answer of every example from the logits of its windows.

    Args:
        features: the `QuestionAnsweringFeatures` the logits were computed on.
        start_logits, end_logits: arrays `[num_features, seq]`.
        n_best_size: int. Start/end candidates per window and answers kept.
        max_answer_length: int. Longest answer, in tokens.
        version_2: bool. Allow "no answer" (SQuAD 2.0).
        null_score_diff_threshold: float. The no-answer threshold (Google
            tunes it on dev data; `qa_na_threshold` is -2.75 there for its
            answerability classifier).

    Returns:
        One dict per example: `text` (the answer; "" for no answer),
        `score` (`start_logit + end_logit` of the best span), `n_best`
        (list of dicts with `text`, `score`, `start_logit`, `end_logit`,
        `probability`, `start`, `end` character offsets) and, with
        `version_2`, `null_score_diff`.
    """
    start_logits = np.asarray(start_logits, "float64")
    end_logits = np.asarray(end_logits, "float64")
    num_features = len(features.example_index)
    if start_logits.shape[0] != num_features or end_logits.shape[0] != num_features:
        raise ValueError(
            f"Got logits for {start_logits.shape[0]}/{end_logits.shape[0]} "
            f"windows but the features have {num_features}."
        )
    # Every window's spans, best first (`best_spans`).
    end_allowed = features.offsets[..., 0] >= 0  # context tokens
    start_allowed = end_allowed & features.max_context
    pairs = min(n_best_size, start_logits.shape[1]) ** 2
    step = max(1, _PAIRS_PER_CALL // pairs)
    inputs = (start_logits, end_logits, start_allowed, end_allowed)
    parts = [
        best_spans(
            *(values[begin : begin + step] for values in inputs),
            max_answer_length,
            n_best_size,
        )
        for begin in range(0, max(num_features, 1), step)
    ]
    scores, span_starts, span_ends, valid = (
        np.concatenate([part[i].numpy() for part in parts]) for i in range(4)
    )
    by_example = [[] for _ in features.contexts]
    for f, example in enumerate(features.example_index):
        by_example[example].append(f)

    results = []
    for example, feature_ids in enumerate(by_example):
        context = features.contexts[example]
        candidates = []
        null_score = None
        for f in feature_ids:
            offsets = features.offsets[f]
            starts, ends = start_logits[f], end_logits[f]
            feature_null = starts[0] + ends[0]
            if null_score is None or feature_null < null_score:
                null_score = feature_null
            for j in np.flatnonzero(valid[f]):
                s, e = span_starts[f, j], span_ends[f, j]
                candidates.append(
                    (scores[f, j], starts[s], ends[e],
                     int(offsets[s, 0]), int(offsets[e, 1]))
                )
        # Stable: equal scores keep the windows' order.
        candidates.sort(key=lambda c: c[0], reverse=True)
        n_best, seen = [], set()
        for score, start_logit, end_logit, char_start, char_end in candidates:
            text = context[char_start:char_end]
            if text in seen:
                continue
            seen.add(text)
            n_best.append(
                {
                    "text": text,
                    "score": float(score),
                    "start_logit": float(start_logit),
                    "end_logit": float(end_logit),
                    "start": char_start,
                    "end": char_end,
                }
            )
            if len(n_best) >= n_best_size:
                break
        for entry, p in zip(n_best, _softmax([e["score"] for e in n_best])):
            entry["probability"] = float(p)
        best = n_best[0] if n_best else {"text": "", "score": float("-inf")}
        result = {"text": best["text"], "score": best["score"], "n_best": n_best}
        if version_2:
            diff = float(null_score - best["score"]) if n_best else float("inf")
            result["null_score_diff"] = diff
            if diff > null_score_diff_threshold:
                result["text"] = ""
        results.append(result)
    return results
