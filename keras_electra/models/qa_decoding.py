"""From start/end logits to answer text (SQuAD 1.1 and 2.0).

As in Google's `qa_metrics.py` (non-joint prediction) and BERT's
`run_squad.py`: in every window (feature) of an example, the `n_best_size`
best start and end positions are paired; a pair is kept if both lie in the
context, the start is in the window where it has the most context, the end
is not before the start and the span is at most `max_answer_length` tokens.
Pairs are ranked by `start_logit + end_logit` and mapped back to the exact
context characters through the token offsets; duplicate texts are dropped.

SQuAD 2.0: the null score of an example is the smallest
`start_logit[CLS] + end_logit[CLS]` over its windows; the prediction is ""
(no answer) when `null_score - best_span_score > null_score_diff_threshold`.
"""

import numpy as np


def _softmax(scores):
    scores = np.asarray(scores, "float64")
    if scores.size == 0:
        return scores
    e = np.exp(scores - scores.max())
    return e / e.sum()


def _top_indices(logits, n):
    return np.argsort(-logits, kind="stable")[:n]


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
            for s in _top_indices(starts, n_best_size):
                if offsets[s, 0] < 0 or not features.max_context[f, s]:
                    continue
                for e in _top_indices(ends, n_best_size):
                    if offsets[e, 0] < 0 or e < s:
                        continue
                    if e - s + 1 > max_answer_length:
                        continue
                    candidates.append(
                        (starts[s] + ends[e], starts[s], ends[e],
                         int(offsets[s, 0]), int(offsets[e, 1]))
                    )
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
