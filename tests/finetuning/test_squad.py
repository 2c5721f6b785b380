"""SQuAD metrics, WordPiece offsets and span decoding on real SQuAD text."""

import os

import numpy as np
import pytest

from keras_electra import ElectraQuestionAnswererPreprocessor
from keras_electra import ElectraTokenizer
from keras_electra.metrics.squad import evaluate_v1
from keras_electra.metrics.squad import evaluate_v2
from keras_electra.metrics.squad import exact_match_score
from keras_electra.metrics.squad import f1_score
from keras_electra.metrics.squad import normalize_answer
from keras_electra.metrics.squad import read_squad
from keras_electra.models.qa_decoding import decode_answers
from tests.conftest import TEST_DATA
from tests.conftest import VOCAB_PATH

SQUAD_SAMPLE = os.path.join(TEST_DATA, "qa", "squad_sample.json")


def load_sample():
    flat = read_squad(SQUAD_SAMPLE)
    return (flat["dataset"], flat["ids"], flat["questions"], flat["contexts"],
            flat["answers"])


@pytest.fixture(scope="module")
def tokenizer():
    with open(VOCAB_PATH, encoding="utf-8") as f:
        vocabulary = [line.rstrip("\n") for line in f]
    return ElectraTokenizer(vocabulary=vocabulary)


# === Official metrics, on hand-computed examples ===


def test_normalize_exact_match_and_f1():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an Apple a day") == "apple day"
    assert exact_match_score("the Eiffel Tower", "Eiffel tower.") == 1.0
    assert exact_match_score("Eiffel", "Eiffel Tower") == 0.0
    # precision 1/3, recall 1 -> F1 0.5.
    assert f1_score("tower in paris", "the tower") == pytest.approx(0.5)
    # Bag of words: common = {y: 2}; precision = recall = 2/3.
    assert f1_score("x y y", "y y z") == pytest.approx(2 / 3)
    # Empty answers: 0 in v1; in v2 1 only if both are empty.
    assert f1_score("", "") == 0.0
    assert f1_score("", "", version_2=True) == 1.0
    assert f1_score("", "paris", version_2=True) == 0.0
    assert f1_score("the", "", version_2=True) == 1.0  # "the" normalises to ""


def test_v1_on_the_sample():
    dataset, ids, _, _, answers = load_sample()
    gold = {qid: a[0]["text"] for qid, a in zip(ids, answers)}
    assert evaluate_v1(dataset, gold) == {"exact_match": 100.0, "f1": 100.0}
    # One answer replaced by a partial one: EM loses 1/5; F1 of
    # "Saint Bernadette" vs "Saint Bernadette Soubirous" is 2 * 1 * 2/3 /
    # (1 + 2/3) = 0.8.
    partial = dict(gold)
    partial[ids[0]] = "Saint Bernadette"
    scores = evaluate_v1(dataset, partial)
    assert scores["exact_match"] == pytest.approx(80.0)
    assert scores["f1"] == pytest.approx(100 * (4 + 0.8) / 5)
    # A missing prediction counts 0.
    del partial[ids[1]]
    assert evaluate_v1(dataset, partial)["exact_match"] == pytest.approx(60.0)


def test_v2_no_answer_scoring():
    dataset = {
        "data": [
            {
                "paragraphs": [
                    {
                        "context": "Paris is in France.",
                        "qas": [
                            {"id": "a", "answers": [{"text": "France"}]},
                            {"id": "b", "answers": []},
                            {"id": "c", "answers": [{"text": "Paris"}]},
                        ],
                    }
                ]
            }
        ]
    }
    predictions = {"a": "France", "b": "", "c": "Lyon"}
    scores = evaluate_v2(dataset, predictions)
    assert scores["exact"] == pytest.approx(200 / 3)
    assert scores["HasAns_exact"] == pytest.approx(50.0)
    assert scores["NoAns_exact"] == pytest.approx(100.0)
    assert (scores["HasAns_total"], scores["NoAns_total"]) == (2, 1)
    # With no-answer probabilities above the threshold for "c", it is
    # answered "" (wrong for a HasAns question, still 0) and "b" stays 1.
    probabilities = {"a": 0.1, "b": 0.9, "c": 0.8}
    scores = evaluate_v2(dataset, predictions, probabilities, 0.5)
    assert scores["exact"] == pytest.approx(200 / 3)
    # Best threshold (official search): abstain on everything with
    # probability above 0.1 -> a right (1), b right (1), c abstained (0):
    # 2 / 3, at threshold 0.1.
    assert scores["best_exact"] == pytest.approx(200 / 3)
    assert scores["best_exact_thresh"] == pytest.approx(0.1)


# === WordPiece offsets ===

TRICKY = [
    "Héllo, wörld! (1895-1943) naïve café—costs $5.50; e-mail: a@b.c",
    "Multiple   spaces\tand\nnewlines, CJK 北京大学 and “quotes”.",
    "supercalifragilisticexpialidocious " + "x" * 120 + " end",
    "Father Julius Nieuwland's neoprene; U.S.A. 3.14% über-Straße",
]


def test_offsets_match_huggingface_tokenizers(tokenizer):
    # The Rust `tokenizers` BertWordPiece implementation is an independent
    # reference for both the ids and the character offsets.
    from tokenizers import BertWordPieceTokenizer

    reference = BertWordPieceTokenizer(VOCAB_PATH, lowercase=True)
    _, _, questions, contexts, _ = load_sample()
    for text in TRICKY + questions + contexts[:1] + contexts[-1:]:
        ids, starts, ends = tokenizer.tokenize_with_offsets(text)
        offsets = list(zip(starts, ends))
        expected = reference.encode(text, add_special_tokens=False)
        assert ids == expected.ids, text
        assert offsets == [tuple(o) for o in expected.offsets], text


def test_ids_match_electra_tokenizer(tokenizer):
    for text in TRICKY + ["Say [MASK] here."]:
        ids, _, _ = tokenizer.tokenize_with_offsets(text)
        expected = np.asarray(tokenizer(text)).tolist()
        assert ids == expected, text


def test_offsets_in_tensorflow_match_python(tokenizer):
    # `tokenize_with_offsets` on a string tensor (TF ops, as in the served
    # SavedModel) gives the ids and, in bytes, the spans of Python strings.
    import tensorflow as tf

    _, _, questions, contexts, _ = load_sample()
    texts = TRICKY + ["Say [MASK] here."] + questions + contexts[:1]
    ids, starts, ends = tokenizer.tokenize_with_offsets(tf.constant(texts))
    for i, text in enumerate(texts):
        expected_ids, char_starts, char_ends = tokenizer.tokenize_with_offsets(
            text
        )

        def in_bytes(chars):
            return [len(text[:c].encode("utf-8")) for c in chars]

        assert ids[i].numpy().tolist() == expected_ids, text
        assert starts[i].numpy().tolist() == in_bytes(char_starts), text
        assert ends[i].numpy().tolist() == in_bytes(char_ends), text


# === Windows, labels and decoding on squad_sample.json ===


def test_single_window_labels_map_back_to_the_answers(tokenizer):
    _, _, questions, contexts, answers = load_sample()
    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer, sequence_length=384, max_query_length=64
    )
    features = preprocessor.featurize(questions, contexts, answers)
    # Cut to the longest window, rounded up to a multiple of 16
    # (`padding="longest"`, the default); `"max_length"` keeps 384.
    width = features.x["token_ids"].shape[1]
    longest = int(features.x["padding_mask"].sum(axis=1).max())
    assert features.x["token_ids"].shape == (5, width)
    assert width % 16 == 0 and longest <= width < longest + 16
    assert width < 384
    preprocessor.padding = "max_length"
    full = preprocessor.featurize(questions, contexts, answers)
    assert full.x["token_ids"].shape == (5, 384)
    np.testing.assert_array_equal(full.x["token_ids"][:, :width],
                                  features.x["token_ids"])
    assert features.example_index.tolist() == [0, 1, 2, 3, 4]
    for f, (start, end) in enumerate(features.y):
        context = contexts[f]
        text = context[features.offsets[f, start, 0] : features.offsets[f, end, 1]]
        assert text == answers[f][0]["text"]
        # [CLS] question [SEP] context [SEP], segments 0 then 1.
        q_len = int((features.x["segment_ids"][f] == 0).sum()) - (
            width - int(features.x["padding_mask"][f].sum())
        )
        assert features.x["token_ids"][f, 0] == tokenizer.cls_token_id
        assert features.x["token_ids"][f, q_len - 1] == tokenizer.sep_token_id
        assert (features.offsets[f, :q_len] == -1).all()


def test_strided_windows_and_gold_logits_decode_to_gold_text(tokenizer):
    _, _, questions, contexts, answers = load_sample()
    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer, sequence_length=64, doc_stride=16, max_query_length=24
    )
    features = preprocessor.featurize(questions, contexts, answers)
    examples = features.example_index
    assert len(examples) > 5  # contexts of ~150 tokens need several windows
    for e in range(5):
        rows = np.flatnonzero(examples == e)
        # Windows start every doc_stride (16) context tokens, overlap, and
        # the last one ends at the last context token.
        _, starts, ends = tokenizer.tokenize_with_offsets(contexts[e])
        all_offsets = list(zip(starts, ends))
        starts = []
        for r in rows:
            window = [tuple(o) for o in features.offsets[r] if o[0] >= 0]
            first = all_offsets.index(window[0])
            assert all_offsets[first : first + len(window)] == window
            starts.append(first)
        assert starts == [16 * k for k in range(len(rows))]
        assert window[-1] == all_offsets[-1]
        assert any(features.y[r].any() for r in rows), e
    # Gold logits: a peak at each window's label (CLS where the answer is
    # not inside). Decoding must give back the gold text.
    n, seq = features.x["token_ids"].shape
    start = np.zeros((n, seq))
    end = np.zeros((n, seq))
    start[np.arange(n), features.y[:, 0]] = 10.0
    end[np.arange(n), features.y[:, 1]] = 10.0
    results = decode_answers(features, start, end, max_answer_length=30)
    for e, result in enumerate(results):
        assert result["text"] == answers[e][0]["text"]
        probabilities = [c["probability"] for c in result["n_best"]]
        assert probabilities == sorted(probabilities, reverse=True)
        assert len({c["text"] for c in result["n_best"]}) == len(result["n_best"])


def test_span_constraints_and_no_answer(tokenizer):
    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer, sequence_length=32
    )
    context = "Ada Lovelace wrote the first program in 1843 for the engine."
    features = preprocessor.featurize(["Who wrote it?"], [context])
    offsets = [tuple(o) for o in features.offsets[0]]
    starting = {s: i for i, (s, e) in enumerate(offsets) if s >= 0}
    ending = {e: i for i, (s, e) in enumerate(offsets) if s >= 0}
    ada, lovelace = starting[0], ending[len("Ada Lovelace")]
    engine = starting[context.index("engine")]
    start = np.zeros((1, 32))
    end = np.zeros((1, 32))
    start[0, ada], start[0, engine] = 5.0, 9.0
    end[0, ada], end[0, lovelace] = 1.0, 9.0
    # (engine, Lovelace) scores 18 but ends before it starts: skipped.
    result = decode_answers(features, start, end, n_best_size=32)[0]
    assert result["text"] == "Ada Lovelace"
    assert result["score"] == pytest.approx(14.0)
    # "Ada Lovelace" is 2+ tokens: with max_answer_length=1 the best
    # one-token span is "engine" (9 + 0) ahead of "Ada" (5 + 1).
    short = decode_answers(
        features, start, end, n_best_size=32, max_answer_length=1
    )[0]
    assert short["text"] == "engine"
    # SQuAD 2.0: a strong [CLS] score means no answer, unless the
    # threshold is above the score difference.
    start[0, 0] = end[0, 0] = 20.0
    v2 = decode_answers(features, start, end, version_2=True)[0]
    assert v2["text"] == ""
    assert v2["null_score_diff"] == pytest.approx(40.0 - 14.0)
    lenient = decode_answers(
        features, start, end, version_2=True, null_score_diff_threshold=30.0
    )[0]
    assert lenient["text"] == "Ada Lovelace"


def test_preprocessor_errors(tokenizer):
    preprocessor = ElectraQuestionAnswererPreprocessor(
        tokenizer, sequence_length=8, max_query_length=64
    )
    with pytest.raises(ValueError, match="no room for the context"):
        preprocessor.featurize(["a b c d e f g h i"], ["x"])
    with pytest.raises(ValueError, match="answer_start"):
        preprocessor.featurize(["q"], ["x"], answers=[{"text": "x"}])
    with pytest.warns(UserWarning, match="skipped"):
        features = ElectraQuestionAnswererPreprocessor(
            tokenizer, sequence_length=32
        ).featurize(
            ["q", "q"],
            ["Paris is here.", "Rome is there."],
            answers=[
                {"text": "Paris", "answer_start": 0},
                {"text": "Lyon", "answer_start": 0},
            ],
        )
    assert features.skipped == [1]
    assert set(features.example_index.tolist()) == {0}
