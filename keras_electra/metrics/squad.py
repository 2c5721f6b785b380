"""SQuAD exact match and F1, as the official v1.1 and v2.0 scripts compute them.

Answers are normalised (lower case, punctuation and the articles a/an/the
removed, whitespace collapsed) before comparing. Exact match is 1 when the
normalised strings are equal; F1 is the harmonic mean of the precision and
recall of the normalised tokens (a bag of words). Each question scores the
best value over its gold answers, and the totals are percentages.

SQuAD 2.0 differences (official v2.0 script): gold answers that normalise to
"" are dropped, a question without gold answers is unanswerable and expects
the empty prediction, and F1 against an empty side is 1 only if both sides
are empty. With `no_answer_probabilities`, a prediction is replaced by ""
when its probability exceeds `no_answer_threshold`, and the best threshold
is searched as in the official script.

`read_squad` flattens the same SQuAD JSON (1.1 or 2.0) into parallel lists
of questions, contexts and gold answers, for prediction.
"""

import collections
import json
import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text):
    """Lower case, drop punctuation and articles, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _tokens(text):
    return normalize_answer(text).split() if text else []


def exact_match_score(prediction, gold):
    """1.0 if the normalised answers are equal, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction, gold, version_2=False):
    """Token-overlap F1 of two answers (the official formula).

    With `version_2=True`, an empty answer on either side scores 1.0 only if
    both are empty (SQuAD 2.0); SQuAD 1.1 scores it 0.0.
    """
    pred_tokens, gold_tokens = _tokens(prediction), _tokens(gold)
    if version_2 and (not pred_tokens or not gold_tokens):
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_tokens)
    recall = num_same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def read_squad(path_or_dataset):
    """Flatten a SQuAD JSON (1.1 or 2.0) into parallel lists.

    Returns a dict with `ids`, `questions`, `contexts` and `answers` (for
    each question its list of `{"text", "answer_start"}` gold answers;
    empty for unanswerable SQuAD 2.0 questions), and `dataset` (the JSON).
    """
    dataset = path_or_dataset
    if isinstance(path_or_dataset, str):
        with open(path_or_dataset, encoding="utf-8") as f:
            dataset = json.load(f)
    out = {"ids": [], "questions": [], "contexts": [], "answers": []}
    for article in dataset["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                out["ids"].append(qa["id"])
                out["questions"].append(qa["question"])
                out["contexts"].append(paragraph["context"])
                answers = [] if qa.get("is_impossible") else qa.get("answers", [])
                out["answers"].append(answers)
    out["dataset"] = dataset
    return out


def _questions(dataset):
    """(id, gold answer texts, has_answer) for every question of a dataset."""
    if isinstance(dataset, dict):
        dataset = dataset["data"]
    for article in dataset:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                yield qa["id"], [a["text"] for a in qa.get("answers", [])]


def evaluate_v1(dataset, predictions):
    """SQuAD v1.1 `{"exact_match", "f1"}` in percent.

    Args:
        dataset: the SQuAD JSON (dict with `"data"`, or its `"data"` list).
        predictions: dict of question id -> predicted answer text. Missing
            questions score 0.
    """
    exact = f1 = total = 0
    for qid, golds in _questions(dataset):
        total += 1
        if qid not in predictions:
            continue
        prediction = predictions[qid]
        exact += max(exact_match_score(prediction, g) for g in golds)
        f1 += max(f1_score(prediction, g) for g in golds)
    total = max(total, 1)
    return {"exact_match": 100.0 * exact / total, "f1": 100.0 * f1 / total}


def _v2_raw_scores(dataset, predictions):
    exact, f1, has_answer = {}, {}, {}
    for qid, golds in _questions(dataset):
        has_answer[qid] = bool(golds)
        golds = [g for g in golds if normalize_answer(g)] or [""]
        if qid not in predictions:
            continue
        prediction = predictions[qid]
        exact[qid] = max(exact_match_score(prediction, g) for g in golds)
        f1[qid] = max(f1_score(prediction, g, version_2=True) for g in golds)
    return exact, f1, has_answer


def _apply_threshold(scores, no_answer_probabilities, has_answer, threshold):
    out = {}
    for qid, score in scores.items():
        if no_answer_probabilities[qid] > threshold:
            out[qid] = float(not has_answer[qid])
        else:
            out[qid] = score
    return out


def _best_threshold(predictions, scores, no_answer_probabilities, has_answer):
    """The official script's search over no-answer thresholds."""
    num_no_answer = sum(1 for q in has_answer if not has_answer[q])
    current = best = num_no_answer
    best_threshold = 0.0
    for qid in sorted(
        no_answer_probabilities, key=lambda q: no_answer_probabilities[q]
    ):
        if qid not in scores:
            continue
        if has_answer[qid]:
            diff = scores[qid]
        elif predictions[qid]:
            diff = -1
        else:
            diff = 0
        current += diff
        if current > best:
            best = current
            best_threshold = no_answer_probabilities[qid]
    return 100.0 * best / len(scores), best_threshold


def evaluate_v2(dataset, predictions, no_answer_probabilities=None,
                no_answer_threshold=1.0):
    """SQuAD v2.0 scores in percent, as the official script reports them.

    As in the official script, `exact`/`f1`/`total` cover the questions that
    have a prediction.

    Args:
        dataset: the SQuAD 2.0 JSON (dict with `"data"` or its list).
        predictions: dict of question id -> answer text ("" = no answer).
        no_answer_probabilities: optional dict of question id -> score that
            the question has no answer (the official `na_prob` file).
        no_answer_threshold: predict "" where that score is above it.

    Returns:
        `exact`, `f1`, `total`, `HasAns_*` and `NoAns_*` breakdowns; with
        `no_answer_probabilities` also `best_exact(_thresh)` and
        `best_f1(_thresh)`.
    """
    exact, f1, has_answer = _v2_raw_scores(dataset, predictions)
    if not exact:
        raise ValueError("No prediction matches a question of the dataset.")
    probabilities = no_answer_probabilities
    if probabilities is None:
        probabilities = {qid: 0.0 for qid in predictions}
    exact_t = _apply_threshold(exact, probabilities, has_answer,
                               no_answer_threshold)
    f1_t = _apply_threshold(f1, probabilities, has_answer, no_answer_threshold)

    def summary(prefix, qids):
        n = len(qids)
        return {
            f"{prefix}exact": 100.0 * sum(exact_t[q] for q in qids) / n,
            f"{prefix}f1": 100.0 * sum(f1_t[q] for q in qids) / n,
            f"{prefix}total": n,
        }

    results = summary("", list(exact_t))
    has = [q for q in has_answer if has_answer[q] and q in exact_t]
    no = [q for q in has_answer if not has_answer[q] and q in exact_t]
    if has:
        results.update(summary("HasAns_", has))
    if no:
        results.update(summary("NoAns_", no))
    if no_answer_probabilities is not None:
        best, threshold = _best_threshold(
            predictions, exact, no_answer_probabilities, has_answer
        )
        results["best_exact"], results["best_exact_thresh"] = best, threshold
        best, threshold = _best_threshold(
            predictions, f1, no_answer_probabilities, has_answer
        )
        results["best_f1"], results["best_f1_thresh"] = best, threshold
    return results
