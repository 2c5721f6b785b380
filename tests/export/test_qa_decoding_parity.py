"""Question answering decodes spans twice: `decode_answers` (NumPy, what
`ElectraQuestionAnswerer.answer` uses, `keras_electra/models/qa_decoding.py`)
and the SavedModel's TensorFlow head (`keras_electra/export/serving_heads.py`,
one window per question). On one window both must pick the same span and
score from the same logits."""

import keras
import numpy as np
import pytest

import keras_electra
from keras_electra.export.serving_heads import serving_head_class
from keras_electra.models.qa_decoding import decode_answers
from tests.conftest import TINY_VOCAB

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="serving heads build TensorFlow graphs (the exporter runs them "
    "under the TensorFlow backend only)",
)

SEQUENCE_LENGTH = 24
MAX_ANSWER_LENGTH = 4
QUESTIONS = ["who sat?", "what was lazy", "Who sät?", "the", "a fox?"]
CONTEXTS = [
    "The cat sat on the mat.",
    "the dog was lazy, and the fox jumped over the lazy dog",
    "Thé cät sät on the mät.",
    "a",
    "The quick brown fox jumped over the lazy dogs.",
]


def test_served_spans_equal_decode_answers():
    import tensorflow as tf

    tokenizer = keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)
    preprocessor = keras_electra.ElectraQuestionAnswererPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH, max_query_length=8
    )
    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=len(TINY_VOCAB),
        num_layers=1,
        num_heads=1,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=SEQUENCE_LENGTH,
    )
    task = keras_electra.ElectraQuestionAnswerer(
        backbone, preprocessor=preprocessor
    )
    head = serving_head_class(task)(
        task, {"max_answer_length": MAX_ANSWER_LENGTH}
    )
    # As in the exporter: the head's ops run in a graph.
    served = tf.function(lambda q, c: head.pack((q, c)), autograph=False)(
        tf.constant(QUESTIONS), tf.constant(CONTEXTS)
    )
    decode = tf.function(head.outputs, autograph=False)
    features = preprocessor.featurize(QUESTIONS, CONTEXTS)
    # One window per question: both pack the same tokens.
    assert features.example_index.tolist() == list(range(len(QUESTIONS)))
    np.testing.assert_array_equal(
        served["token_ids"].numpy(), features.x["token_ids"]
    )
    rng = np.random.default_rng(0)
    for _ in range(20):
        logits = rng.normal(size=(len(QUESTIONS), 2, SEQUENCE_LENGTH))
        logits = logits.astype("float32")
        outputs = decode(tf.constant(logits), served)
        expected = decode_answers(
            features,
            logits[:, 0],
            logits[:, 1],
            n_best_size=SEQUENCE_LENGTH,  # every candidate
            max_answer_length=MAX_ANSWER_LENGTH,
        )
        for i, result in enumerate(expected):
            answer = outputs["answer"][i].numpy().decode("utf-8")
            assert answer == result["text"], (i, answer, result["text"])
            np.testing.assert_allclose(
                outputs["score"][i].numpy(), result["score"], rtol=1e-6
            )
            start, end = result["n_best"][0]["start"], result["n_best"][0]["end"]
            assert CONTEXTS[i][start:end] == answer
