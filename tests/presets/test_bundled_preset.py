"""The bundled pre-trained preset `electra_tiny_gutenberg_en`.

It ships in the wheel, so every class loads it by name offline, and its
weights are real: on held-out chapters (never pre-trained on) its
discriminator ranks replaced tokens above original ones and its generator
predicts masked tokens far better than the same architecture with random
weights (the reference here).
"""

import os

import keras
import numpy as np
import pytest

import keras_electra
from keras_electra import data as bundled
from keras_electra.pretraining import PretrainingData
from keras_electra.pretraining.evaluation import held_out_rtd_metrics

NAME = "electra_tiny_gutenberg_en"


@pytest.fixture(scope="module")
def held_out_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("held_out")
    paths = []
    for i, chapter in enumerate(bundled.held_out_documents()[::4]):
        path = directory / f"chapter_{i:03d}.txt"
        path.write_text("\n".join(chapter) + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths


def test_the_name_is_registered_and_listed():
    assert NAME in keras_electra.ElectraBackbone.presets
    assert NAME in keras_electra.ElectraClassifier.presets


def test_every_class_loads_it_by_name():
    backbone = keras_electra.ElectraBackbone.from_preset(NAME)
    tokenizer = keras_electra.ElectraTokenizer.from_preset(NAME)
    assert tokenizer.vocabulary_size() == backbone.vocabulary_size
    # Its own vocabulary, learned from the novels (not BERT's 30,522).
    assert 4000 <= tokenizer.vocabulary_size() <= 8192
    classifier = keras_electra.ElectraClassifier.from_preset(NAME, num_classes=3)
    logits = classifier.predict(["It is a truth universally acknowledged."])
    assert logits.shape == (1, 3)
    generator = keras_electra.ElectraMaskedLM.from_preset(NAME)
    assert generator.backbone.vocabulary_size == backbone.vocabulary_size
    for cls in (
        keras_electra.ElectraDiscriminator,
        keras_electra.ElectraTextClassifierPreprocessor,
        keras_electra.ElectraMaskedLMPreprocessor,
    ):
        cls.from_preset(NAME)
    token_classifier = keras_electra.ElectraTokenClassifier.from_preset(
        NAME, num_classes=5
    )
    assert token_classifier.backbone.count_params() == backbone.count_params()


def test_shipped_weights_detect_replaced_tokens_on_held_out_chapters(
    held_out_files,
):
    pretrainer = keras_electra.ElectraPretrainer.from_preset(NAME, seed=0)
    random_pair = keras_electra.ElectraPretrainer.from_preset(
        NAME, seed=0, load_weights=False
    )
    data = PretrainingData(
        held_out_files, pretrainer.tokenizer, sequence_length=128,
        batch_size=16, seed=0,
    )
    batches = [
        {k: keras.ops.convert_to_numpy(v) for k, v in b.items()}
        for b, _ in zip(data.dataset(), range(2))
    ]
    keras.utils.set_random_seed(0)
    trained = held_out_rtd_metrics(pretrainer, batches)
    keras.utils.set_random_seed(0)
    untrained = held_out_rtd_metrics(random_pair, batches)
    print(trained, untrained)
    assert 0.4 < untrained["discriminator_auc"] < 0.6
    assert trained["discriminator_auc"] > 0.75
    assert trained["generator_accuracy"] > untrained["generator_accuracy"] + 0.1


def test_it_is_small_enough_to_ship():
    from keras_electra.presets import bundled_preset_dir

    directory = bundled_preset_dir(NAME)
    size = sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(directory)
        for name in names
    )
    # 13.4 MB: a pair saved with all weights tied stores the shared
    # network twice (see the model card); under 14 MB.
    assert size < 14 * 2**20
    card = open(os.path.join(directory, "README.md"), encoding="utf-8").read()
    assert "Held-out replaced token detection" in card
    assert "tools/pretrain_bundled_model.py" in card
