"""SavedModel export: served in a Keras-free process, equal to `predict`.

Every exportable task is built under the current Keras backend, exported
(from JAX and PyTorch through the TensorFlow subprocess; the classifier
with its own `task.export(path)`, the others together with `export_many`),
and served by `serving_process.py` in one fresh process that cannot import
Keras or keras_electra. Its outputs are compared with the task's own `predict` on
the same inputs, tokenized by the task's preprocessor (keras-hub's Python
WordPiece, independent of the in-graph TF Text one), and with NumPy
formulas for the derived outputs (softmax, argmax, top-k, spans).
"""

import importlib
import inspect
import os
import pickle
import pkgutil
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import ops

import keras_electra
import keras_electra.models
from keras_electra.export.saved_model import export_many
from keras_electra.export.serving_heads import serving_head_class
from keras_electra.models.electra_task_export import ServingExportMixin
from tests.conftest import TINY_VOCAB
from tests.span_head import solve_span_head
from tests.tiny_models import tiny_backbone

# The served outputs against Keras': 1e-5, relative to the outputs' size
# where that is above 1 (the question answerer's fitted span head gives
# logits up to about 30; float32 differs there by ~1e-6 relative).
ATOL = 1e-5
SEQUENCE_LENGTH = 16
MAX_SEQUENCE_LENGTH = 32
SERVING_PROCESS = os.path.join(os.path.dirname(__file__), "serving_process.py")
LONG = "The quick brown fox jumped over the lazy dog. " * 300

TEXTS = [
    "The quick brown fox jumped over the lazy dog.",
    "",
    "a cat sat on the mat",
    "The cats sat, and the dog was lazy.",
    LONG,
    "Dogs jumped? Unknownword ÉTÉ",
    "the",
]
MASKED_TEXTS = [
    "The quick brown [MASK] jumped over the [MASK] dog.",
    "",
    "a [MASK] sat on the mat",
    "no mask here",
    "[MASK] " * 300 + "fox",
    "the [MASK] [MASK] [MASK]",
    "[MASK]",
]
QUESTIONS = [
    "Who sat on the mat?",
    "",
    "what was lazy",
    "Who sät?",
    "what jumped " * 50,
    "the",
    "and",
]
CONTEXTS = [
    "The cat sat on the mat.",
    "",
    "the dog was lazy",
    "Thé cät sät on the mät.",
    LONG,
    "",
    "a cat, a dog, and a fox.",
]
TAGS = ["O", "B-ANIMAL", "I-ANIMAL"]
CLASSES = ["entailment", "neutral", "contradiction"]
PROMPTS = QUESTIONS
CHOICES = [[TEXTS[i], TEXTS[(i + 2) % 7], CONTEXTS[i]] for i in range(7)]


def build_tasks():
    """name -> (task, export options, string inputs of the 7-row batch)."""
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)
    text_preprocessor = keras_electra.ElectraTextClassifierPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )
    # `task.export` serves the task's own label names by default.
    classifier = keras_electra.ElectraClassifier(
        tiny_backbone(3), num_classes=3, label_names=CLASSES,
        preprocessor=text_preprocessor, dropout=0.0,
    )
    tasks = {
        "discriminator": (
            keras_electra.ElectraDiscriminator(
                tiny_backbone(1), text_preprocessor
            ),
            {},
            {"text": TEXTS},
        ),
        "masked_lm": (
            keras_electra.ElectraMaskedLM(
                tiny_backbone(2),
                keras_electra.ElectraMaskedLMPreprocessor(
                    tokenizer, sequence_length=SEQUENCE_LENGTH
                ),
            ),
            {"top_k": 3},
            {"text": MASKED_TEXTS},
        ),
        "classifier": (
            classifier,
            {"pairs": True},
            {"text_a": TEXTS, "text_b": TEXTS[::-1]},
        ),
        "multiple_choice": (
            keras_electra.ElectraMultipleChoice(
                tiny_backbone(6),
                preprocessor=keras_electra.ElectraMultipleChoicePreprocessor(
                    tokenizer, sequence_length=SEQUENCE_LENGTH
                ),
                summary_last_dropout=0.0,
            ),
            {},
            {"prompt": PROMPTS, "choices": CHOICES},
        ),
        "token_classifier": (
            keras_electra.ElectraTokenClassifier(
                tiny_backbone(4),
                preprocessor=keras_electra.ElectraTokenClassifierPreprocessor(
                    tokenizer, sequence_length=SEQUENCE_LENGTH
                ),
                label_names=TAGS,
            ),
            {},
            {"text": TEXTS},
        ),
        "question_answerer": (
            keras_electra.ElectraQuestionAnswerer(
                tiny_backbone(5),
                preprocessor=keras_electra.ElectraQuestionAnswererPreprocessor(
                    tokenizer,
                    sequence_length=24,
                    doc_stride=4,
                    max_query_length=6,
                ),
            ),
            {"max_answer_length": 4},
            {"question": QUESTIONS, "context": CONTEXTS},
        ),
    }
    # A known two-word answer in the accented example, "cät sät" (its
    # context's 2nd and 3rd words, one token each), whatever the weights:
    # a served span cut short, or empty, then differs from it.
    qa = tasks["question_answerer"][0]
    features, _ = first_windows(qa.preprocessor, QUESTIONS[3:4], CONTEXTS[3:4])
    first = int(np.flatnonzero(features["segment_ids"][0])[0])
    solve_span_head(qa, features, 0, first + 1, first + 2)
    return tasks


def token_id_cases(name):
    """Two token-id batches: 7 x 9 as int32, 1 x 20 as int64."""
    rng = np.random.default_rng(0)
    cases = []
    for batch, length, dtype in ((7, 9, "int32"), (1, 20, "int64")):
        token_ids = rng.integers(5, len(TINY_VOCAB), (batch, length))
        token_ids[:, 0] = 2  # [CLS]
        if name == "masked_lm":
            token_ids[rng.random((batch, length)) < 0.3] = 4  # [MASK]
        padding_mask = np.ones((batch, length), "int64")
        segment_ids = np.zeros((batch, length), "int64")
        for i in range(batch):
            n = length - i  # rows of different lengths
            padding_mask[i, n:] = 0
            token_ids[i, n:] = 0
            token_ids[i, n - 1] = 3  # [SEP]
            segment_ids[i, n // 2 : n] = 1
        signature = "token_ids" if dtype == "int32" else "token_ids_int64"
        inputs = {
            "token_ids": token_ids.astype(dtype),
            "segment_ids": segment_ids.astype(dtype),
            "padding_mask": padding_mask.astype(dtype),
        }
        if name == "multiple_choice":  # [1 prompt, batch choices, length]
            inputs = {k: v[None] for k, v in inputs.items()}
        cases.append((signature, inputs))
    return cases


def string_cases(strings):
    """The 7-row batch and its first row alone (batch size 1)."""
    full = {k: np.array(v, dtype=object) for k, v in strings.items()}
    first = {k: v[:1] for k, v in full.items()}
    return [("serving_default", full), ("serving_default", first)]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    tasks = build_tasks()
    for task, _, _ in tasks.values():
        # The references run each input shape once: compiling them with XLA
        # (JAX's default) would cost far more than running these tiny
        # models op by op.
        task.jit_compile = False
    # The classifier through the method users call (from JAX and PyTorch,
    # its own TensorFlow subprocess), compiled with XLA; the others in one
    # batch, without.
    classifier, classifier_options, _ = tasks["classifier"]
    written = classifier.export(
        os.path.join(tmp, "classifier"), jit_compile=True,
        **classifier_options
    )
    assert written == os.path.join(tmp, "classifier")
    export_many(
        [
            (task, os.path.join(tmp, name), options)
            for name, (task, options, _) in tasks.items()
            if name != "classifier"
        ]
    )
    calls = []
    for name, (_, _, strings) in tasks.items():
        for signature, inputs in string_cases(strings) + token_id_cases(name):
            calls.append(
                {"model": name, "signature": signature, "inputs": inputs}
            )
    requests = {
        "models": {name: os.path.join(tmp, name) for name in tasks},
        "calls": calls,
    }
    requests_path = os.path.join(tmp, "requests.pkl")
    results_path = os.path.join(tmp, "results.pkl")
    with open(requests_path, "wb") as f:
        pickle.dump(requests, f)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    process = subprocess.run(
        [sys.executable, SERVING_PROCESS, requests_path, results_path],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    with open(results_path, "rb") as f:
        results = pickle.load(f)
    by_model = {name: [] for name in tasks}
    for call, outputs in zip(calls, results["calls"]):
        assert "error" not in outputs, (call["model"], outputs["error"])
        by_model[call["model"]].append(
            (call["signature"], call["inputs"], outputs)
        )
    return {
        "tasks": tasks, "outputs": by_model, "imported": results["imported"],
        "paths": requests["models"],
    }


def predict(task, features):
    """`task.predict` on ready features (the preprocessor set aside)."""
    preprocessor = task.preprocessor
    task.preprocessor = None
    try:
        features = {k: np.asarray(v).astype("int32") for k, v in features.items()}
        return ops.convert_to_numpy(task.predict(features, verbose=0))
    finally:
        task.preprocessor = preprocessor


def numpy_features(x):
    return {k: np.asarray(ops.convert_to_numpy(v)).astype("int32") for k, v in x.items()}


def assert_close(name, actual, expected):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (name, actual.shape, expected.shape)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(actual), finite, err_msg=name)
    np.testing.assert_array_equal(actual[~finite], expected[~finite], name)
    diff = float(np.max(np.abs(actual[finite] - expected[finite]), initial=0))
    scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0)))
    print(f"{name}: max |diff| {diff:.2e} (scale {scale:.1f})")
    assert diff <= ATOL * scale, (name, diff, scale)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def string_features(task, name, inputs):
    """Reference packing by the task's preprocessor (eager, Python)."""
    preprocessor = task.preprocessor
    if name == "masked_lm":
        if preprocessor.packer is None:
            preprocessor.build(None)
        ids, segments = preprocessor.packer(
            preprocessor.tokenizer(list(inputs["text"]))
        )
        ids = np.asarray(ops.convert_to_numpy(ids))
        return {
            "token_ids": ids,
            "segment_ids": np.asarray(ops.convert_to_numpy(segments)),
            "padding_mask": (ids != 0).astype("int32"),
        }
    if name == "token_classifier":
        words = [text.split() for text in inputs["text"]]
        return numpy_features(preprocessor(words))
    if name == "classifier":
        return numpy_features(
            preprocessor(x=(list(inputs["text_a"]), list(inputs["text_b"])))
        )
    if name == "multiple_choice":
        choices = [list(row) for row in inputs["choices"]]
        return numpy_features(preprocessor(x=(list(inputs["prompt"]), choices)))
    return numpy_features(preprocessor(list(inputs["text"])))


def test_serving_process_has_no_keras(served):
    assert served["imported"] == []


def xla_functions(path):
    """Names of the SavedModel's functions marked for XLA compilation."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        saved.ParseFromString(f.read())
    return [
        function.signature.name
        for graph in saved.meta_graphs
        for function in graph.graph_def.library.function
        if function.attr["_XlaMustCompile"].b
    ]


def test_jit_compile_marks_the_model_for_xla_and_nothing_else(served):
    """`export(jit_compile=True)` (the classifier here; its outputs are
    checked against the task below) compiles the model's part with XLA;
    the default leaves every function to TensorFlow's executor, as
    TensorFlow Serving needs without `--xla_cpu_compilation_enabled`."""
    for name, path in served["paths"].items():
        marked = xla_functions(path)
        if name == "classifier":
            assert marked, "the classifier was exported with jit_compile=True"
        else:
            assert marked == [], (name, marked)


def served_cases(served, name):
    """(signature, inputs, features, outputs) of each call to one task.

    For strings, `features` are the preprocessor's packing, which the
    served `token_ids` must equal (the same WordPiece as in training).
    """
    task = served["tasks"][name][0]
    for signature, inputs, outputs in served["outputs"][name]:
        if signature == "serving_default":
            features = None  # question answering: windows, see its test
            if name != "question_answerer":
                features = string_features(task, name, inputs)
                np.testing.assert_array_equal(
                    outputs["token_ids"], features["token_ids"], err_msg=name
                )
        else:
            features = {k: v.astype("int32") for k, v in inputs.items()}
        yield signature, inputs, features, outputs


def test_discriminator(served):
    task = served["tasks"]["discriminator"][0]
    for signature, _, features, outputs in served_cases(served, "discriminator"):
        logits = predict(task, features)
        assert_close(f"discriminator {signature} logits", outputs["logits"], logits)
        probabilities = 1 / (1 + np.exp(-logits))
        assert_close("discriminator probabilities", outputs["probabilities"], probabilities)
        ids = features["token_ids"]
        real = (features["padding_mask"] > 0) & ~np.isin(ids, [2, 3, 0])
        np.testing.assert_array_equal(outputs["replaced"], real & (probabilities > 0.5))
        tokens = np.where(features["padding_mask"] > 0, np.array(TINY_VOCAB)[ids], "")
        np.testing.assert_array_equal(outputs["tokens"], tokens)
    # The very long text was truncated to the packed length, without error.
    (_, _, outputs) = served["outputs"]["discriminator"][0]
    assert outputs["token_ids"].shape == (7, SEQUENCE_LENGTH)
    assert outputs["token_ids"][4, -1] == 3  # [SEP] after truncation


def test_masked_lm(served):
    task = served["tasks"]["masked_lm"][0]
    for signature, _, features, outputs in served_cases(served, "masked_lm"):
        ids = features["token_ids"]
        is_mask = (ids == 4) & (features["padding_mask"] > 0)
        counts = is_mask.sum(1)
        slots = max(int(counts.max()), 1)
        positions = np.zeros((len(ids), slots), "int32")
        for i, row in enumerate(is_mask):
            positions[i, : counts[i]] = np.flatnonzero(row)
        weights = (np.arange(slots)[None] < counts[:, None]).astype("float32")
        np.testing.assert_array_equal(outputs["mask_positions"], positions)
        np.testing.assert_array_equal(outputs["mask_weights"], weights)
        logits = predict(task, {**features, "mask_positions": positions})
        assert_close(f"masked_lm {signature} logits", outputs["logits"], logits)
        probabilities = softmax(logits.astype("float64"))
        top = np.argsort(-probabilities, axis=-1, kind="stable")[..., :3]
        np.testing.assert_array_equal(outputs["top_token_ids"], top)
        assert_close(
            "masked_lm top_probabilities",
            outputs["top_probabilities"],
            np.take_along_axis(probabilities, top, -1),
        )
        np.testing.assert_array_equal(outputs["top_tokens"], np.array(TINY_VOCAB)[top])
    # `fill_mask` reads the served outputs' function (`decode_outputs`).
    signature, inputs, outputs = served["outputs"]["masked_lm"][0]
    assert signature == "serving_default"
    counts = outputs["mask_weights"].sum(1).astype(int)
    rows = np.flatnonzero(counts)
    filled = task.fill_mask([inputs["text"][i] for i in rows], top_k=3)
    for i, masks in zip(rows, filled):
        assert len(masks) == counts[i]
        for j, candidates in enumerate(masks):
            assert [t for t, _ in candidates] == list(outputs["top_tokens"][i, j])
            assert_close(
                "fill_mask top_probabilities",
                [p for _, p in candidates],
                outputs["top_probabilities"][i, j],
            )


def test_classifier_on_sentence_pairs(served):
    task = served["tasks"]["classifier"][0]
    for signature, _, features, outputs in served_cases(served, "classifier"):
        logits = predict(task, features)
        assert_close(f"classifier {signature} logits", outputs["logits"], logits)
        probabilities = softmax(logits.astype("float64"))
        assert_close("classifier probabilities", outputs["probabilities"], probabilities)
        np.testing.assert_array_equal(outputs["label_id"], probabilities.argmax(-1))
        np.testing.assert_array_equal(
            outputs["label"], np.array(CLASSES)[probabilities.argmax(-1)]
        )
        assert_close("classifier score", outputs["score"], probabilities.max(-1))


def test_token_classifier_tags_words(served):
    task = served["tasks"]["token_classifier"][0]
    for signature, inputs, features, outputs in served_cases(served, "token_classifier"):
        logits = predict(task, features)
        assert_close(f"token_classifier {signature} logits", outputs["logits"], logits)
        np.testing.assert_array_equal(outputs["tag_ids"], logits.argmax(-1))
        np.testing.assert_array_equal(
            outputs["tags"], np.array(TAGS)[logits.argmax(-1)]
        )
        if signature != "serving_default" or len(inputs["text"]) == 1:
            continue
        sentences = [text.split() for text in inputs["text"]]
        expected = task.predict_tags(sentences)
        width = max(len(s) for s in sentences)
        assert outputs["words"].shape == (len(sentences), width)
        for i, (words, tags) in enumerate(zip(sentences, expected)):
            n = len(words)
            assert list(outputs["words"][i, :n]) == words
            assert list(outputs["word_tags"][i, :n]) == tags
            assert list(outputs["word_tags"][i, n:]) == [""] * (width - n)
            assert list(outputs["word_tag_ids"][i, n:]) == [-1] * (width - n)


def test_multiple_choice(served):
    task = served["tasks"]["multiple_choice"][0]
    cases = list(served_cases(served, "multiple_choice"))
    for signature, inputs, features, outputs in cases:
        logits = predict(task, features)
        assert logits.ndim == 2
        assert_close(f"multiple_choice {signature} logits", outputs["logits"], logits)
        probabilities = softmax(logits.astype("float64"))
        assert_close("multiple_choice probabilities", outputs["probabilities"], probabilities)
        best = logits.argmax(-1)
        np.testing.assert_array_equal(outputs["label_id"], best)
        assert_close("multiple_choice score", outputs["score"], probabilities.max(-1))
        if signature == "serving_default":
            choices = np.array([list(row) for row in inputs["choices"]])
            expected = choices[np.arange(len(best)), best]
        else:
            expected = best.astype(str)
        np.testing.assert_array_equal(outputs["label"], expected)
    # The full batch: [7 prompts, 3 choices, SEQUENCE_LENGTH].
    assert cases[0][3]["token_ids"].shape == (7, 3, SEQUENCE_LENGTH)


def first_windows(preprocessor, questions, contexts):
    """Features of each example's first window, and its window count.

    `featurize` fails on an empty context, so such a window (`[CLS]
    question [SEP] [SEP]`, no context) is packed here by hand.
    """
    seq = preprocessor.sequence_length
    filled = [i for i, c in enumerate(contexts) if c]
    windows = preprocessor.featurize(
        [questions[i] for i in filled], [contexts[i] for i in filled]
    )
    features = {k: np.zeros((len(questions), seq), "int32") for k in windows.x}
    counts = np.ones(len(questions), "int32")
    for i, question in enumerate(questions):
        if i in filled:
            example = filled.index(i)
            rows = np.flatnonzero(windows.example_index == example)
            counts[i] = len(rows)
            for key in features:
                # `featurize` pads to its windows' bucket; here to `seq`.
                window = windows.x[key][rows[0]]
                features[key][i, : len(window)] = window
        else:
            ids = preprocessor.tokenizer(question)
            ids = [2] + list(ops.convert_to_numpy(ids))[:6] + [3, 3]
            features["token_ids"][i, : len(ids)] = ids
            features["segment_ids"][i, len(ids) - 1] = 1
            features["padding_mask"][i, : len(ids)] = 1
    return features, counts


def test_question_answerer(served):
    task = served["tasks"]["question_answerer"][0]
    preprocessor = task.preprocessor
    for signature, inputs, features, outputs in served_cases(served, "question_answerer"):
        if signature == "serving_default":
            questions = list(inputs["question"])
            contexts = list(inputs["context"])
            # Serving answers from the first window of every example.
            features, windows = first_windows(preprocessor, questions, contexts)
            # Served requests are padded to their bucket, not to `seq`.
            served_length = outputs["token_ids"].shape[1]
            assert not features["padding_mask"][:, served_length:].any()
            features = {k: v[:, :served_length] for k, v in features.items()}
            np.testing.assert_array_equal(outputs["token_ids"], features["token_ids"])
        logits = predict(task, features)
        assert_close(f"question_answerer {signature} start", outputs["start_logits"], logits[:, 0])
        assert_close(f"question_answerer {signature} end", outputs["end_logits"], logits[:, 1])
        if signature != "serving_default":
            continue
        for i, (question, context) in enumerate(zip(questions, contexts)):
            if not context:
                assert outputs["answer"][i] == ""
                assert outputs["score"][i] == -np.inf
                continue
            if windows[i] > 1:
                continue  # `answer()` also searches later windows
            expected = task.answer(
                question, context, n_best_size=24, max_answer_length=4
            )
            assert outputs["answer"][i] == expected["text"], (i, expected)
            assert_close("question_answerer score", outputs["score"][i], expected["score"])
        if len(questions) > 3:
            # Exact, accented text: the words of the served span, cut from
            # the original context by Python (each word is one token here).
            context = CONTEXTS[3]
            words = [m.span() for m in re.finditer(r"\w+|[^\w\s]", context)]
            first = int(np.flatnonzero(features["segment_ids"][3])[0])
            assert features["token_ids"][3, first + len(words)] == 3  # [SEP]
            start = int(outputs["start_index"][3]) - first
            end = int(outputs["end_index"][3]) - first
            assert 0 <= start <= end < len(words), (start, end)
            span = context[words[start][0] : words[end][1]]
            assert span == "cät sät", span  # the answer the head was given
            assert outputs["answer"][3] == span, (outputs["answer"][3], span)


def test_export_checks_its_arguments(tmp_path):
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)
    preprocessor = keras_electra.ElectraTextClassifierPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )
    task = keras_electra.ElectraDiscriminator(tiny_backbone(0), preprocessor)
    with pytest.raises(ValueError, match="no serving head"):
        keras_electra.export_saved_model(task.backbone, tmp_path / "a")
    with pytest.raises(ValueError, match="sequence_length"):
        task.export(tmp_path / "a", sequence_length=64)
    with pytest.raises(ValueError, match="top_k"):
        task.export(tmp_path / "a", top_k=0)
    with pytest.raises(ValueError, match="takes no `label_names`"):
        task.export(tmp_path / "a", label_names=["pos"])
    with pytest.raises(ValueError, match="input_signature"):
        task.export(tmp_path / "a", input_signature=[])
    with pytest.raises(TypeError, match="unknown_option"):
        task.export(tmp_path / "a", unknown_option=1)
    with pytest.raises(ValueError, match="jit_compile"):
        task.export(tmp_path / "a", jit_compile="yes")
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        task.export(tmp_path / "exists")
    classifier = keras_electra.ElectraClassifier(
        task.backbone, num_classes=2, preprocessor=preprocessor
    )
    with pytest.raises(ValueError, match="list of strings"):
        classifier.export(tmp_path / "a", label_names="pos")
    classifier.label_names = ["a", "b", "c"]  # the default: the task's own
    with pytest.raises(ValueError, match="has 3 names"):
        classifier.export(tmp_path / "a")
    task.preprocessor = None
    with pytest.raises(ValueError, match="preprocessor"):
        task.export(tmp_path / "a")
    assert not (tmp_path / "a").exists()
    assert os.listdir(tmp_path) == ["exists"]  # no staging left behind


def test_other_formats_go_to_keras_formats_or_keras_export(tmp_path, monkeypatch):
    """`format=` other than "serving": Keras' formats go to
    `export_keras_format` (written by Keras' TensorFlow backend from every
    backend), any other format to `keras.Model.export`, unchanged."""
    from keras_electra.export import keras_formats

    calls = []

    def keras_export(self, filepath, format="tf_saved_model", verbose=None,
                     input_signature=None, **kwargs):
        calls.append(("keras", self, filepath, format, verbose, kwargs))
        return "keras"

    def keras_format(task, filepath, format, verbose=None,
                     input_signature=None, **kwargs):
        calls.append(("formats", task, filepath, format, verbose, kwargs))
        return "formats"

    monkeypatch.setattr(keras.Model, "export", keras_export)
    monkeypatch.setattr(keras_formats, "export_keras_format", keras_format)
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB)
    task = keras_electra.ElectraMaskedLM(
        tiny_backbone(0),
        keras_electra.ElectraMaskedLMPreprocessor(tokenizer, sequence_length=8),
    )
    for format in keras_formats.KERAS_FORMATS + ("some_future_format",):
        result = task.export(
            tmp_path / format, format=format, verbose=False, opset_version=18
        )
        route = (
            "formats" if format in keras_formats.KERAS_FORMATS else "keras"
        )
        assert result == route
        assert calls.pop() == (
            route, task, tmp_path / format, format, False,
            {"opset_version": 18},
        )
    assert not calls
    assert not os.listdir(tmp_path)


def exportable_task_classes():
    """Every `keras_hub` `Task` subclass defined in `keras_electra.models`."""
    from keras_hub.models import Task

    classes = set()
    for info in pkgutil.iter_modules(keras_electra.models.__path__):
        module = importlib.import_module(f"keras_electra.models.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Task) and cls.__module__ == module.__name__:
                classes.add(cls)
    return sorted(classes, key=lambda cls: cls.__name__)


def test_every_served_task_exports_strings_by_default():
    served = []
    for cls in exportable_task_classes():
        try:
            serving_head_class(cls)
        except ValueError:
            # No serving head: `export` stays Keras' own (not an error).
            assert cls.export is keras.Model.export, cls
            continue
        served.append(cls.__name__)
        assert cls.export is ServingExportMixin.export, cls
        assert inspect.signature(cls.export).parameters["format"].default == (
            "serving"
        )
    assert {
        "ElectraClassifier",
        "ElectraDiscriminator",
        "ElectraMaskedLM",
        "ElectraMultipleChoice",
        "ElectraQuestionAnswerer",
        "ElectraTokenClassifier",
    } <= set(served)
