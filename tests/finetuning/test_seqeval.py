import pytest

from keras_electra.metrics.seqeval import entity_scores
from keras_electra.metrics.seqeval import get_entities


def test_bio_entities():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "O", "B-ORG"]
    assert get_entities(tags) == [
        ("PER", 0, 1),
        ("LOC", 3, 3),
        ("LOC", 4, 5),
        ("ORG", 7, 7),
    ]


def test_conlleval_rules_for_ill_formed_sequences():
    # I- after O starts an entity; a type change splits it (conlleval).
    assert get_entities(["O", "I-PER", "I-PER", "I-LOC"]) == [
        ("PER", 1, 2),
        ("LOC", 3, 3),
    ]
    assert get_entities(["B-PER", "I-LOC"]) == [("PER", 0, 0), ("LOC", 1, 1)]
    # IOBES / BILOU.
    assert get_entities(["S-PER", "B-LOC", "E-LOC", "U-ORG"]) == [
        ("PER", 0, 0),
        ("LOC", 1, 2),
        ("ORG", 3, 3),
    ]
    # Hyphenated types (WNUT's "geo-loc") keep their hyphen.
    assert get_entities(["B-geo-loc", "I-geo-loc"]) == [("geo-loc", 0, 1)]


def test_seqeval_documented_example():
    # seqeval's README example: f1 = precision = recall = 0.5.
    gold = [
        ["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"],
        ["B-PER", "I-PER", "O"],
    ]
    pred = [
        ["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"],
        ["B-PER", "I-PER", "O"],
    ]
    scores = entity_scores(gold, pred)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(0.5)
    assert scores["per_type"]["PER"]["f1"] == pytest.approx(1.0)
    assert scores["per_type"]["MISC"]["f1"] == 0.0


def test_hand_counted_scores():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-LOC"]]
    # Gold: PER(0,1), LOC(3,3), ORG(0,0) = 3. Predicted: PER, ORG(3,3),
    # ORG(0,0), LOC(1,1) = 4. Correct: PER, ORG(0,0) = 2.
    scores = entity_scores(gold, pred)
    assert (scores["num_gold"], scores["num_predicted"], scores["num_correct"]) == (3, 4, 2)
    p, r = 2 / 4, 2 / 3
    assert scores["f1"] == pytest.approx(2 * p * r / (p + r))
    assert scores["per_type"]["LOC"]["support"] == 1
    # Nothing predicted: all zeros, no division error.
    assert entity_scores(gold, [["O"] * 4, ["O"] * 2])["f1"] == 0.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="not a chunk tag"):
        get_entities(["PER"])
    with pytest.raises(ValueError, match="Sentence 0"):
        entity_scores([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="gold sentences"):
        entity_scores([["O"]], [])
