"""Each task's post-processing is defined once, with TensorFlow ops.

`decode_outputs` (and the masked LM's `mask_features`, the token
classifier preprocessor's `pack_words`) are what the serving SavedModel
returns (`keras_electra/export/serving_heads.py` only wires them) and what
the text-level methods (`predict_labels`, `predict_tags`, `fill_mask`,
`detect_replaced`) read. Here they are checked against hand-written
references, and the text-level methods against them, on every backend.
"""

import numpy as np
import pytest
from keras import ops

import keras_electra
from tests.conftest import TINY_VOCAB
from tests.tiny_models import tiny_backbone
from tests.tiny_models import tiny_tokenizer

TAGS = ["O", "B-ANIMAL", "I-ANIMAL"]
PAD, CLS, SEP, MASK = 0, 2, 3, 4
THE, CAT, SAT, S = (TINY_VOCAB.index(t) for t in ("the", "cat", "sat", "##s"))


def text_preprocessor(sequence_length=16):
    return keras_electra.ElectraTextClassifierPreprocessor(
        tiny_tokenizer(), sequence_length=sequence_length
    )


def numpy_of(decoded):
    return {key: np.asarray(value) for key, value in decoded.items()}


def softmax(x):
    x = np.asarray(x, "float64")
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# --- ElectraClassifier ---


def classifier(**kwargs):
    return keras_electra.ElectraClassifier(
        tiny_backbone(0), preprocessor=text_preprocessor(), dropout=0.0,
        **kwargs,
    )


def test_classifier_decodes_logits_by_name():
    task = classifier(num_classes=3, label_names=["x", "y", "z"])
    logits = np.array([[0.0, 2.0, 1.0], [3.0, 3.0, -1.0]], "float32")
    decoded = numpy_of(task.decode_outputs(logits))
    assert sorted(decoded) == [
        "label", "label_id", "logits", "probabilities", "score"
    ]
    np.testing.assert_allclose(decoded["probabilities"], softmax(logits), 1e-6)
    # Ties: the lower id first.
    assert decoded["label_id"].tolist() == [1, 0]
    assert decoded["label"].tolist() == [b"y", b"x"]
    np.testing.assert_allclose(decoded["score"], softmax(logits).max(-1), 1e-6)
    assert decoded["score"].dtype == np.float32

    top = numpy_of(task.decode_outputs(logits.astype("float64"), top_k=2))
    assert top["label_id"].tolist() == [[1, 2], [0, 1]]
    assert top["label"].tolist() == [[b"y", b"z"], [b"x", b"y"]]
    assert top["score"].dtype == np.float64
    # Export's `label_names` option wins over the task's.
    named = numpy_of(task.decode_outputs(logits, label_names=["a", "b", "c"]))
    assert named["label"].tolist() == [b"b", b"a"]


def test_classifier_decodes_each_activation():
    logits = np.array([[0.1, 0.7, 0.2]], "float32")
    unnamed = numpy_of(classifier(num_classes=3).decode_outputs(logits))
    assert unnamed["label"].tolist() == [b"1"]
    softmaxed = numpy_of(
        classifier(num_classes=3, activation="softmax").decode_outputs(logits)
    )
    assert sorted(softmaxed) == ["label", "label_id", "probabilities", "score"]
    np.testing.assert_allclose(softmaxed["score"], [0.7], 1e-6)
    sigmoid = numpy_of(
        classifier(num_classes=3, activation="sigmoid").decode_outputs(logits)
    )
    assert sorted(sigmoid) == ["label", "label_id", "outputs", "score"]
    np.testing.assert_allclose(sigmoid["score"], [0.7], 1e-6)
    regression = numpy_of(classifier(num_classes=1).decode_outputs(logits[:, :1]))
    assert sorted(regression) == ["score"]
    np.testing.assert_allclose(regression["score"], [0.1], 1e-6)


def test_predict_labels_reads_decode_outputs():
    task = classifier(num_classes=3, label_names=["x", "y", "z"])
    texts = ["the cat sat", "a dog was lazy"]
    logits = ops.convert_to_numpy(task.predict(texts, verbose=0))
    decoded = numpy_of(task.decode_outputs(logits.astype("float64"), top_k=3))
    ranked = task.predict_labels(texts, top_k=3)
    for row, labels, scores in zip(ranked, decoded["label"], decoded["score"]):
        assert row == [(l.decode(), float(s)) for l, s in zip(labels, scores)]
    label, score = task.predict_labels(texts[0])
    assert (label, score) == (ranked[0][0][0], pytest.approx(ranked[0][0][1]))


# --- ElectraTokenClassifier ---


def tagger(sequence_length=16):
    return keras_electra.ElectraTokenClassifier(
        tiny_backbone(0),
        num_classes=3,
        label_names=TAGS,
        preprocessor=keras_electra.ElectraTokenClassifierPreprocessor(
            tiny_tokenizer(), sequence_length=sequence_length
        ),
    )


def test_token_classifier_tags_words_at_their_first_piece():
    import tensorflow as tf

    task = tagger()
    # "the cats sat": [CLS] the cat ##s sat [SEP]; "cat sat the": the
    # third word cut off by truncation; then padding.
    word_ids = np.array(
        [[-1, 0, 1, -1, 2, -1], [-1, 0, 1, -1, -1, -1]], "int32"
    )
    logits = np.full((2, 6, 3), -5.0, "float32")
    for row, position, tag in [
        (0, 1, 0), (0, 2, 1), (0, 3, 2), (0, 4, 2), (1, 1, 1), (1, 2, 2),
    ]:
        logits[row, position, tag] = 5.0
    words = tf.ragged.constant([["the", "cats", "sat"], ["cat", "sat", "the"]])
    decoded = numpy_of(
        task.decode_outputs(logits, {"words": words, "word_ids": word_ids})
    )
    assert decoded["word_tag_ids"].tolist() == [[0, 1, 2], [1, 2, 0]]
    assert decoded["word_tags"].tolist() == [
        [b"O", b"B-ANIMAL", b"I-ANIMAL"], [b"B-ANIMAL", b"I-ANIMAL", b"O"]
    ]
    best = softmax([5.0, -5.0, -5.0]).max()
    np.testing.assert_allclose(
        decoded["word_scores"], [[best] * 3, [best, best, 0.0]], rtol=1e-6
    )
    assert decoded["words"].tolist() == [
        [b"the", b"cats", b"sat"], [b"cat", b"sat", b"the"]
    ]
    # Positions past a sentence's last word: "", -1 and 0.
    short = tf.ragged.constant([["the", "cats", "sat"], ["cat"]])
    word_ids[1, 2] = -1
    decoded = numpy_of(
        task.decode_outputs(logits, {"words": short, "word_ids": word_ids})
    )
    assert decoded["word_tag_ids"].tolist() == [[0, 1, 2], [1, -1, -1]]
    assert decoded["word_tags"][1].tolist() == [b"B-ANIMAL", b"", b""]
    assert decoded["words"][1].tolist() == [b"cat", b"", b""]
    # Without words: the per-token outputs only.
    per_token = numpy_of(task.decode_outputs(logits))
    assert sorted(per_token) == ["logits", "tag_ids", "tags"]
    assert per_token["tag_ids"][0].tolist() == [0, 0, 1, 2, 2, 0]


def test_pack_words_is_the_call_and_word_ids_in_one():
    preprocessor = tagger().preprocessor
    sentences = [["the", "cats", "sat"], ["a", "dog"]]
    packed = preprocessor.pack_words(sentences)
    x = preprocessor(sentences)
    for name in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(
            ops.convert_to_numpy(packed[name]), ops.convert_to_numpy(x[name])
        )
    word_ids = ops.convert_to_numpy(packed["word_ids"])
    assert word_ids[0, :6].tolist() == [-1, 0, 1, -1, 2, -1]
    np.testing.assert_array_equal(
        word_ids, ops.convert_to_numpy(preprocessor.word_ids(sentences))
    )


def test_word_level_methods_read_decode_outputs():
    task = tagger(sequence_length=6)
    # The second sentence's last words are cut off ([CLS] + 4 pieces).
    sentences = [["the", "cats", "sat"], ["the", "cat", "sat", "on", "a", "mat"]]
    x = task.preprocessor.pack_words(sentences)
    word_ids = ops.convert_to_numpy(x.pop("word_ids"))
    logits = ops.convert_to_numpy(task.predict_on_batch(x)).astype("float64")
    import tensorflow as tf

    words = tf.ragged.constant(sentences)
    decoded = numpy_of(
        task.decode_outputs(logits, {"words": words, "word_ids": word_ids})
    )
    ids = [row[: len(s)].tolist() for row, s in zip(decoded["word_tag_ids"], sentences)]
    assert task.predict_word_labels(sentences) == ids
    assert task.predict_tags(sentences) == [[TAGS[i] for i in row] for row in ids]
    labelled = task.predict_labels(sentences, batch_size=1)
    assert [[t for t, _ in row] for row in labelled] == [
        [TAGS[i] for i in row] for row in ids
    ]
    assert np.isnan(labelled[1][-1][1]) and labelled[1][-1][0] == "O"
    np.testing.assert_allclose(
        [p for _, p in labelled[0]], decoded["word_scores"][0, :3], rtol=1e-6
    )


# --- ElectraMaskedLM ---


def masked_lm():
    return keras_electra.ElectraMaskedLM(
        tiny_backbone(0),
        keras_electra.ElectraMaskedLMPreprocessor(
            tiny_tokenizer(), sequence_length=16
        ),
    )


def test_mask_features_find_every_mask_in_order():
    task = masked_lm()
    token_ids = np.array(
        [[CLS, MASK, THE, MASK, SEP, PAD], [CLS, THE, SEP, PAD, PAD, PAD],
         [CLS, MASK, SEP, PAD, PAD, PAD]],
        "int32",
    )
    features = {"token_ids": token_ids, "padding_mask": token_ids != PAD}
    found = numpy_of(task.mask_features(features))
    assert found["mask_positions"].tolist() == [[1, 3], [0, 0], [1, 0]]
    assert found["mask_weights"].tolist() == [[1, 1], [0, 0], [1, 0]]
    assert found["mask_positions"].dtype == np.int32
    # No mask anywhere: one padding slot.
    found = numpy_of(
        task.mask_features({k: v[1:2] for k, v in features.items()})
    )
    assert found["mask_positions"].tolist() == [[0]]


def test_fill_mask_and_the_served_top_tokens_are_one_function():
    task = masked_lm()
    texts = ["the [MASK] sat on the [MASK]", "a [MASK] dog"]
    packed = text_preprocessor()(texts)
    x = numpy_of(
        task.mask_features({k: ops.convert_to_numpy(v) for k, v in packed.items()})
    )
    logits = task.predict(
        {name: x[name] for name in task.input}, verbose=0
    ).astype("float64")
    decoded = numpy_of(task.decode_outputs(logits, x, top_k=3))
    reference = softmax(logits)
    for row in range(2):
        for mask in range(2):
            order = np.argsort(-reference[row, mask], kind="stable")[:3]
            assert decoded["top_token_ids"][row, mask].tolist() == order.tolist()
            assert decoded["top_tokens"][row, mask].tolist() == [
                TINY_VOCAB[i].encode() for i in order
            ]
    filled = task.fill_mask(texts, top_k=3)
    assert [len(masks) for masks in filled] == [2, 1]
    for row, masks in enumerate(filled):
        for mask, candidates in enumerate(masks):
            assert candidates == [
                (token.decode(), float(p))
                for token, p in zip(
                    decoded["top_tokens"][row, mask],
                    decoded["top_probabilities"][row, mask],
                )
            ]
    # The top-k is at most the vocabulary.
    assert len(task.fill_mask("[MASK]", top_k=100)[0]) == len(TINY_VOCAB)


# --- ElectraDiscriminator ---


def test_discriminator_decodes_text_tokens_only():
    task = keras_electra.ElectraDiscriminator(tiny_backbone(0), text_preprocessor())
    token_ids = np.array(
        [[CLS, THE, CAT, SEP, PAD], [CLS, SAT, MASK, S, SEP]], "int32"
    )
    features = {"token_ids": token_ids, "padding_mask": token_ids != PAD}
    logits = np.array([[3.0, 1.0, -1.0, 3.0, 3.0], [3.0, -2.0, 2.0, 0.0, 3.0]])
    decoded = numpy_of(task.decode_outputs(logits, features))
    np.testing.assert_allclose(decoded["probabilities"], 1 / (1 + np.exp(-logits)))
    assert decoded["replaced"].tolist() == [
        [False, True, False, False, False], [False, False, True, False, False]
    ]
    assert decoded["tokens"].tolist() == [
        [b"[CLS]", b"the", b"cat", b"[SEP]", b""],
        [b"[CLS]", b"sat", b"[MASK]", b"##s", b"[SEP]"],
    ]
    assert np.asarray(task.text_token_mask(features)).tolist() == [
        [False, True, True, False, False], [False, True, True, True, False]
    ]

    texts = ["the cats sat", "a dog"]
    x = {k: ops.convert_to_numpy(v) for k, v in task.preprocessor(texts).items()}
    logits = np.asarray(task.predict(texts, verbose=0), "float64")
    decoded = numpy_of(task.decode_outputs(logits, x))
    text = np.asarray(task.text_token_mask(x))
    assert task.detect_replaced(texts) == [
        [(t.decode(), float(p)) for t, p in zip(tokens[keep], probs[keep])]
        for tokens, probs, keep in zip(
            decoded["tokens"], decoded["probabilities"], text
        )
    ]


# --- ElectraMultipleChoice ---


def test_multiple_choice_names_the_best_choice():
    task = keras_electra.ElectraMultipleChoice(tiny_backbone(0))
    logits = np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 0.0]], "float32")
    choices = np.array([["mat", "dog", "fox"], ["sat", "on", "the"]])
    decoded = numpy_of(task.decode_outputs(logits, {"choices": choices}))
    np.testing.assert_allclose(decoded["probabilities"], softmax(logits), 1e-6)
    assert decoded["label_id"].tolist() == [1, 0]
    assert decoded["label"].tolist() == [b"dog", b"sat"]
    np.testing.assert_allclose(decoded["score"], softmax(logits).max(-1), 1e-6)
    assert numpy_of(task.decode_outputs(logits))["label"].tolist() == [b"1", b"0"]


@pytest.mark.parametrize("method", ["predict_labels", "predict_tags"])
def test_text_methods_need_a_preprocessor(method):
    task = keras_electra.ElectraTokenClassifier(
        tiny_backbone(0), num_classes=3, label_names=TAGS
    )
    with pytest.raises(ValueError, match="preprocessor"):
        getattr(task, method)([["the"]])
