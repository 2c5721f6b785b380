"""Label names travel with the model (`label_names`).

The reference is transformers: a fine-tuned `ElectraForSequenceClassification`
with `id2label`, its own tokenizer, and `model.config.id2label[argmax]`
(the transformers ELECTRA guide's recipe).
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import torch
import transformers

import keras_electra
from keras_electra.conversion.transformers_loader import (
    save_transformers_checkpoint,
)
from tests.conftest import TINY_VOCAB
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.tiny_models import tiny_backbone

NAMES = ["anger", "joy", "sadness"]
TEXTS = ["the quick brown fox jumped", "a cat sat on the mat", "the dog was lazy"]
OTHER_BACKEND = {"jax": "torch", "torch": "tensorflow", "tensorflow": "jax"}


def hf_tokenizer(directory):
    return transformers.ElectraTokenizer(os.path.join(directory, "vocab.txt"))


def hf_probabilities(hf, directory, texts):
    """transformers' own pipeline: its tokenizer, its model, softmax."""
    encoded = hf_tokenizer(directory)(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = hf(**encoded).logits
    return torch.softmax(logits.double(), -1).numpy()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    config = tiny_hf_config()
    config.id2label = dict(enumerate(NAMES))
    config.label2id = {n: i for i, n in enumerate(NAMES)}
    hf = randomize_(
        transformers.ElectraForSequenceClassification(config).eval(), seed=4
    )
    directory = save_hf_checkpoint(hf, str(tmp_path_factory.mktemp("emotion")))
    return hf, directory


def test_id2label_loads_predicts_saves_and_reloads_under_another_backend(
    checkpoint, tmp_path
):
    hf, directory = checkpoint
    classifier = keras_electra.ElectraClassifier.from_preset(directory)
    assert classifier.label_names == NAMES
    assert classifier.num_classes == 3

    expected = hf_probabilities(hf, directory, TEXTS)
    predicted = classifier.predict_labels(TEXTS)
    assert [label for label, _ in predicted] == [
        hf.config.id2label[int(i)] for i in expected.argmax(-1)
    ]
    np.testing.assert_allclose(
        [p for _, p in predicted], expected.max(-1), atol=1e-5
    )
    # top_k > 1: lists of (label, probability), most likely first.
    top2 = classifier.predict_labels(TEXTS, top_k=2)
    for ranked, row in zip(top2, expected):
        order = np.argsort(-row)[:2]
        assert [label for label, _ in ranked] == [NAMES[i] for i in order]
        np.testing.assert_allclose([p for _, p in ranked], row[order], atol=1e-5)
    label, probability = classifier.predict_labels(TEXTS[0])
    assert label == predicted[0][0]

    # A Keras preset keeps the names; another backend reloads them.
    preset = str(tmp_path / "keras_preset")
    classifier.save_to_preset(preset)
    with open(os.path.join(preset, "task.json")) as f:
        assert json.load(f)["config"]["label_names"] == NAMES
    script = tmp_path / "reload.py"
    script.write_text(
        "import json, sys\n"
        "import keras, keras_electra\n"
        "c = keras_electra.ElectraClassifier.from_preset(sys.argv[1])\n"
        "print(json.dumps({'backend': keras.config.backend(),\n"
        "    'names': c.label_names,\n"
        "    'predicted': c.predict_labels(json.loads(sys.argv[2]))}))\n"
    )
    backend = OTHER_BACKEND[keras.config.backend()]
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-P", str(script), preset, json.dumps(TEXTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reloaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert reloaded["backend"] == backend
    assert reloaded["names"] == NAMES
    assert [label for label, _ in reloaded["predicted"]] == [
        label for label, _ in predicted
    ]
    np.testing.assert_allclose(
        [p for _, p in reloaded["predicted"]], expected.max(-1), atol=1e-5
    )


def test_predict_labels_on_sentence_pairs(checkpoint):
    hf, directory = checkpoint
    classifier = keras_electra.ElectraClassifier.from_preset(directory)
    first, second = TEXTS[:2], ["a lazy dog", "the fox sat"]
    encoded = hf_tokenizer(directory)(
        first, second, padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        expected = torch.softmax(hf(**encoded).logits.double(), -1).numpy()
    predicted = classifier.predict_labels((first, second))
    assert [label for label, _ in predicted] == [
        NAMES[i] for i in expected.argmax(-1)
    ]
    np.testing.assert_allclose(
        [p for _, p in predicted], expected.max(-1), atol=1e-5
    )


def test_export_writes_id2label_and_label2id(checkpoint, tmp_path):
    hf, directory = checkpoint
    classifier = keras_electra.ElectraClassifier.from_preset(directory)
    out = save_transformers_checkpoint(classifier, str(tmp_path / "hf"))
    again = transformers.ElectraForSequenceClassification.from_pretrained(out)
    assert again.config.id2label == dict(enumerate(NAMES))
    assert again.config.label2id == {n: i for i, n in enumerate(NAMES)}
    np.testing.assert_allclose(
        hf_probabilities(again.eval(), out, TEXTS),
        hf_probabilities(hf, directory, TEXTS),
        atol=1e-6,
    )
    # And back into Keras with the names.
    reloaded = keras_electra.ElectraClassifier.from_preset(out)
    assert reloaded.label_names == NAMES


def test_transformers_default_names_mean_no_names(tmp_path):
    config = tiny_hf_config()
    config.num_labels = 2  # id2label: LABEL_0, LABEL_1
    assert config.id2label == {0: "LABEL_0", 1: "LABEL_1"}
    hf = randomize_(transformers.ElectraForSequenceClassification(config).eval())
    directory = save_hf_checkpoint(hf, str(tmp_path / "unnamed"))
    classifier = keras_electra.ElectraClassifier.from_preset(directory)
    assert classifier.label_names is None
    expected = hf_probabilities(hf, directory, TEXTS[:2])
    predicted = classifier.predict_labels(TEXTS[:2])
    # Without names the labels are the class ids as strings.
    assert [label for label, _ in predicted] == [
        str(i) for i in expected.argmax(-1)
    ]
    # Exported without names, transformers gets its own defaults back.
    out = save_transformers_checkpoint(classifier, str(tmp_path / "hf"))
    again = transformers.ElectraForSequenceClassification.from_pretrained(out)
    assert again.config.id2label == {0: "LABEL_0", 1: "LABEL_1"}


def test_label_names_are_checked_and_kept_in_the_config():
    backbone = tiny_backbone(num_layers=1, max_sequence_length=16)
    with pytest.raises(ValueError, match="`label_names` has 2 names but"):
        keras_electra.ElectraClassifier(
            backbone, num_classes=3, label_names=["a", "b"]
        )
    with pytest.raises(ValueError, match="list of strings"):
        keras_electra.ElectraClassifier(
            backbone, num_classes=2, label_names=[0, 1]
        )
    with pytest.raises(ValueError, match="`label_names` has 2 names but"):
        keras_electra.ElectraTokenClassifier(
            backbone, num_classes=3, label_names=["O", "B-X"]
        )
    classifier = keras_electra.ElectraClassifier(backbone, label_names=NAMES)
    assert classifier.num_classes == 3
    config = classifier.get_config()
    assert config["label_names"] == NAMES
    restored = keras_electra.ElectraClassifier.from_config(config)
    assert restored.label_names == NAMES
    with pytest.raises(ValueError, match="regression"):
        keras_electra.ElectraClassifier(
            backbone,
            num_classes=1,
            preprocessor=keras_electra.ElectraTextClassifierPreprocessor(
                keras_electra.ElectraTokenizer(vocabulary=TINY_VOCAB),
                sequence_length=8,
            ),
        ).predict_labels(["the cat"])


TAGS = ["O", "B-ANIMAL", "I-ANIMAL"]


def test_token_classifier_names_from_id2label_and_per_word_labels(tmp_path):
    config = tiny_hf_config()
    config.id2label = dict(enumerate(TAGS))
    config.label2id = {t: i for i, t in enumerate(TAGS)}
    hf = randomize_(
        transformers.ElectraForTokenClassification(config).eval(), seed=5
    )
    directory = save_hf_checkpoint(hf, str(tmp_path / "tagger"))
    tagger = keras_electra.ElectraTokenClassifier.from_preset(directory)
    assert tagger.label_names == TAGS

    # transformers: each word's label at its first WordPiece.
    sentences = [["the", "cats", "sat"], ["a", "lazy", "dog", "jumped"]]
    encoded = hf_tokenizer(directory)(
        sentences, is_split_into_words=True, padding=True, return_tensors="pt"
    )
    with torch.no_grad():
        probabilities = torch.softmax(hf(**encoded).logits.double(), -1)
    expected = []
    for i, words in enumerate(sentences):
        first = {}
        for position, word in enumerate(encoded.word_ids(i)):
            if word is not None and word not in first:
                first[word] = position
        rows = [probabilities[i, first[w]].numpy() for w in range(len(words))]
        expected.append(
            [(hf.config.id2label[int(r.argmax())], r.max()) for r in rows]
        )
    predicted = tagger.predict_labels(sentences)
    for ours, theirs in zip(predicted, expected):
        assert [t for t, _ in ours] == [t for t, _ in theirs]
        np.testing.assert_allclose(
            [p for _, p in ours], [p for _, p in theirs], atol=1e-5
        )
    assert tagger.predict_tags(sentences) == [
        [t for t, _ in row] for row in expected
    ]

    # Keras preset and transformers export keep the names.
    tagger.save_to_preset(str(tmp_path / "keras"))
    reloaded = keras_electra.ElectraTokenClassifier.from_preset(
        str(tmp_path / "keras")
    )
    assert reloaded.label_names == TAGS
    out = save_transformers_checkpoint(tagger, str(tmp_path / "hf"))
    again = transformers.ElectraForTokenClassification.from_pretrained(out)
    assert again.config.id2label == dict(enumerate(TAGS))
    assert again.config.label2id == {t: i for i, t in enumerate(TAGS)}


def test_cli_uses_the_model_names_and_still_reads_an_old_side_file(
    checkpoint, tmp_path
):
    from keras_electra.cli import finetune

    hf, directory = checkpoint
    named = keras_electra.ElectraClassifier.from_preset(directory)
    named.save_to_preset(str(tmp_path / "named"))
    _, names = finetune.load_classifier(str(tmp_path / "named"))
    assert names == NAMES

    # A run made before names were kept in the model: a side file.
    old = keras_electra.ElectraClassifier(
        named.backbone, num_classes=3, preprocessor=named.preprocessor
    )
    assert old.label_names is None
    old.save_to_preset(str(tmp_path / "old"))
    with open(tmp_path / "old" / finetune.LABEL_NAMES_FILE, "w") as f:
        json.dump(["x", "y", "z"], f)
    _, names = finetune.load_classifier(str(tmp_path / "old"))
    assert names == ["x", "y", "z"]
