"""Entity-level precision, recall and F1 for tagged sequences (NER).

The chunking rules are conlleval's (the CoNLL-2000 evaluation script),
which the `seqeval` package uses by default: a chunk starts at `B-`/`S-`,
at an `I-`/`E-` after `O`, `E-` or `S-`, or where the type changes; it ends
before a `B-`/`S-`/`O`, after an `E-`/`S-`, or where the type changes. So
`I-X` after `O` starts an entity (IOB1-tolerant), and BIO, IOB1, IOBES and
BILOU-style `E-`/`S-` tags all work. An entity counts as correct only if its
type, start and end all match.
"""

import collections

OUTSIDE = "O"


def _split_tag(tag):
    if tag in (OUTSIDE, ".", ""):
        return OUTSIDE, ""
    prefix, sep, entity_type = tag.partition("-")
    if not sep or prefix not in ("B", "I", "E", "S", "L", "U"):
        raise ValueError(
            f"Tag {tag!r} is not a chunk tag: expected 'O' or "
            "'<B|I|E|S>-<type>' (e.g. 'B-PER')."
        )
    # BILOU: L(ast) is E, U(nit) is S.
    return {"L": "E", "U": "S"}.get(prefix, prefix), entity_type


def _ends_chunk(prev_prefix, prefix, prev_type, entity_type):
    if prev_prefix in ("E", "S"):
        return True
    if prev_prefix in ("B", "I") and prefix in ("B", "S", OUTSIDE):
        return True
    return prev_prefix != OUTSIDE and prev_type != entity_type


def _starts_chunk(prev_prefix, prefix, prev_type, entity_type):
    if prefix in ("B", "S"):
        return True
    if prev_prefix in ("E", "S", OUTSIDE) and prefix in ("E", "I"):
        return True
    return prefix != OUTSIDE and prev_type != entity_type


def get_entities(tags):
    """The entities of one tag sequence, as `(type, start, end)` (inclusive).

    Example:
    ```python
    get_entities(["B-PER", "I-PER", "O", "B-LOC"])
    # [("PER", 0, 1), ("LOC", 3, 3)]
    ```
    """
    entities = []
    prev_prefix, prev_type, start = OUTSIDE, "", None
    for i, tag in enumerate(list(tags) + [OUTSIDE]):
        prefix, entity_type = _split_tag(tag)
        if start is not None and _ends_chunk(
            prev_prefix, prefix, prev_type, entity_type
        ):
            entities.append((prev_type, start, i - 1))
            start = None
        if _starts_chunk(prev_prefix, prefix, prev_type, entity_type):
            start = i
        prev_prefix, prev_type = prefix, entity_type
    return entities


def _prf(correct, predicted, gold):
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision + recall
        else 0.0
    )
    return precision, recall, f1


def entity_scores(gold_tags, predicted_tags):
    """Micro-averaged entity precision/recall/F1, and the same per type.

    Args:
        gold_tags: list of sentences, each a list of tag strings.
        predicted_tags: the predictions, same shape.

    Returns:
        A dict with `precision`, `recall`, `f1` (fractions in [0, 1]),
        `num_gold`, `num_predicted`, `num_correct` and `per_type`, which maps
        each entity type to its `precision`, `recall`, `f1` and `support`
        (number of gold entities).

    Example:
    ```python
    gold = [["B-PER", "I-PER", "O"], ["B-LOC"]]
    pred = [["B-PER", "I-PER", "O"], ["B-ORG"]]
    entity_scores(gold, pred)["f1"]  # 0.5
    ```
    """
    if len(gold_tags) != len(predicted_tags):
        raise ValueError(
            f"{len(gold_tags)} gold sentences but {len(predicted_tags)} "
            "predicted ones."
        )
    counts = collections.defaultdict(lambda: [0, 0, 0])  # correct, pred, gold
    for i, (gold, pred) in enumerate(zip(gold_tags, predicted_tags)):
        if len(gold) != len(pred):
            raise ValueError(
                f"Sentence {i} has {len(gold)} gold tags but {len(pred)} "
                "predicted tags."
            )
        gold_entities = set(get_entities(gold))
        pred_entities = set(get_entities(pred))
        for entity in pred_entities:
            counts[entity[0]][1] += 1
            counts[entity[0]][0] += entity in gold_entities
        for entity in gold_entities:
            counts[entity[0]][2] += 1
    correct = sum(c[0] for c in counts.values())
    predicted = sum(c[1] for c in counts.values())
    gold = sum(c[2] for c in counts.values())
    precision, recall, f1 = _prf(correct, predicted, gold)
    per_type = {}
    for entity_type, (c, p, g) in sorted(counts.items()):
        tp, tr, tf1 = _prf(c, p, g)
        per_type[entity_type] = {
            "precision": tp,
            "recall": tr,
            "f1": tf1,
            "support": g,
        }
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "num_gold": gold,
        "num_predicted": predicted,
        "num_correct": correct,
        "per_type": per_type,
    }
