"""The bundled pre-trained preset `electra_tiny_gutenberg_en`.

It ships in the wheel, so every class loads it by name offline, and its
weights are real: on held-out chapters (never pre-trained on) its
discriminator ranks replaced tokens above original ones and its generator
predicts masked tokens far better than the same architecture with random
weights (the reference here).
"""

import io
import os
import zipfile

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


def test_the_shared_vocabulary_is_linked_from_its_one_copy():
    from keras_electra.presets.resolver import BUNDLED_DIR

    directory = keras_electra.presets.bundled_preset_dir(NAME)
    # Completed in the test's cache, pointing into the package.
    assert directory.startswith(os.environ["KERAS_ELECTRA_CACHE"])
    vocabulary = os.path.join("assets", "tokenizer", "vocabulary.txt")
    assert os.path.samefile(
        os.path.join(directory, "generator", vocabulary),
        os.path.join(BUNDLED_DIR, NAME, "discriminator", vocabulary),
    )
    assert keras_electra.presets.bundled_preset_dir(NAME) == directory
    generator = keras_electra.ElectraMaskedLM.from_preset(NAME)
    discriminator = keras_electra.ElectraDiscriminator.from_preset(NAME)
    assert (
        generator.preprocessor.tokenizer.get_vocabulary()
        == discriminator.preprocessor.tokenizer.get_vocabulary()
    )
    # Google's recipe: a half-width generator that shares the embeddings.
    assert generator.backbone.hidden_dim * 2 == discriminator.backbone.hidden_dim
    for a, b in zip(
        generator.backbone.embeddings.weights,
        discriminator.backbone.embeddings.weights,
    ):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    pretrainer = keras_electra.ElectraPretrainer.from_preset(NAME)
    assert not pretrainer.tie_all_weights


def test_an_incomplete_package_names_the_missing_file(monkeypatch, tmp_path):
    from keras_electra.presets import resolver

    monkeypatch.setitem(
        resolver.BUNDLED_PRESETS,
        NAME,
        {
            **resolver.BUNDLED_PRESETS[NAME],
            "shared_files": {"generator/model.weights.h5": "gone.h5"},
        },
    )
    monkeypatch.setenv("KERAS_ELECTRA_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="gone.h5.*Reinstall"):
        resolver.bundled_preset_dir(NAME)
    assert not os.listdir(tmp_path / "bundled")  # nothing half-made


def test_an_unwritable_cache_falls_back_to_a_temporary_directory(
    monkeypatch, tmp_path
):
    from keras_electra.presets import resolver

    def refuse(*args, **kwargs):
        raise PermissionError("read-only cache")

    monkeypatch.setattr(resolver, "write_into_cache", refuse)
    directory = resolver.bundled_preset_dir(NAME)
    assert not directory.startswith(os.environ["KERAS_ELECTRA_CACHE"])
    assert os.path.isfile(
        os.path.join(directory, "generator", "model.weights.h5")
    )


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
        for b, _ in zip(data.dataset(), range(4))
    ]
    keras.utils.set_random_seed(0)
    trained = held_out_rtd_metrics(pretrainer, batches)
    keras.utils.set_random_seed(0)
    untrained = held_out_rtd_metrics(random_pair, batches)
    print(trained, untrained)
    # Weak but real: 0.577-0.581 on the three backends (random weights
    # 0.46-0.54); a judge that sees only each piece's rarity gets 0.57.
    # The model card and the learning curve say what it buys downstream.
    assert 0.4 < untrained["discriminator_auc"] < 0.6
    assert trained["discriminator_auc"] > 0.555
    assert trained["generator_accuracy"] > untrained["generator_accuracy"] + 0.1


def test_it_is_small_enough_to_ship():
    from keras_electra.presets.resolver import BUNDLED_DIR

    packaged = os.path.join(BUNDLED_DIR, NAME)
    # The "about 10 MB in the wheel": the files as the wheel (a
    # zip) stores them. The raw files are 10.5 MiB.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for root, _, names in os.walk(packaged):
            for name in names:
                wheel.write(os.path.join(root, name))
    assert buffer.tell() < 10 * 2**20
    # Each shared file is stored once.
    assert not os.path.exists(
        os.path.join(packaged, "generator", "assets", "tokenizer", "vocabulary.txt")
    )
    directory = keras_electra.presets.bundled_preset_dir(NAME)
    card = open(os.path.join(directory, "README.md"), encoding="utf-8").read()
    assert "Held-out replaced token detection" in card
    assert "tools/pretrain_bundled_model.py" in card
