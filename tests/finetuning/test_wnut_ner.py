"""End to end: a tiny random ELECTRA learns WNUT-16 NER above chance.

WNUT-16 (tweets, BIO tags, 10 entity types) from tests/data. A 2-layer,
hidden-64 model trained from scratch for 3 epochs on 2,094 tweets reaches
an entity F1 of about 0.13-0.17 on 300 held-out tweets (measured on all
three backends); chance (random tags drawn from the training tag
frequencies) is about 0.01, and always predicting "O" gives 0.
"""

import collections
import os

import keras
import numpy as np
import pytest
from keras import ops

from keras_electra import ElectraBackbone
from keras_electra import ElectraTokenClassifier
from keras_electra import ElectraTokenClassifierPreprocessor
from keras_electra import ElectraTokenizer
from keras_electra.finetuning import create_optimizer
from keras_electra.finetuning import entity_scores
from keras_electra.finetuning import read_conll
from keras_electra.finetuning import vocabulary_from_words
from tests.conftest import TEST_DATA

WNUT = os.path.join(TEST_DATA, "ner", "wnut16_train.conll.gz")
# Entity words weigh this much more than "O" words in the loss: with 95 %
# "O" a tiny model otherwise sits on "all O" for several epochs.
ENTITY_WEIGHT = 5.0


@pytest.mark.slow
def test_tiny_model_learns_wnut16():
    sentences = read_conll(WNUT)
    assert len(sentences) == 2394
    train, test = sentences[:2094], sentences[-300:]
    labels = sorted({t for _, tags in sentences for t in tags},
                    key=lambda t: (t != "O", t))
    label_ids = {t: i for i, t in enumerate(labels)}

    keras.utils.set_random_seed(0)
    # Cased words of the training tweets plus characters for the rest.
    tokenizer = ElectraTokenizer(
        vocabulary=vocabulary_from_words(w for words, _ in train for w in words),
        lowercase=False,
    )
    preprocessor = ElectraTokenClassifierPreprocessor(tokenizer, 32)
    # Preprocess once (not every epoch) and weight entity words up.
    x, y, weights = preprocessor(
        x=[w for w, _ in train],
        y=[[label_ids[t] for t in tags] for _, tags in train],
    )
    x = {k: ops.convert_to_numpy(v) for k, v in x.items()}
    y = ops.convert_to_numpy(y)
    weights = ops.convert_to_numpy(weights) * np.where(y > 0, ENTITY_WEIGHT, 1)

    backbone = ElectraBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=4,
        hidden_dim=64,
        intermediate_dim=128,
        max_sequence_length=32,
        dropout=0.0,
    )
    tagger = ElectraTokenClassifier(backbone, label_names=labels)
    tagger.compile(
        optimizer=create_optimizer(
            tagger,
            learning_rate=2e-3,
            layerwise_lr_decay=1.0,  # no pre-trained layers to protect
            bias_correction=True,
        )
    )
    tagger.fit(x, y, sample_weight=weights, batch_size=32, epochs=3, verbose=0)

    tagger.preprocessor = preprocessor
    gold = [tags for _, tags in test]
    scores = tagger.evaluate_entities([w for w, _ in test], gold)
    rng = np.random.default_rng(0)
    frequencies = collections.Counter(t for _, tags in train for t in tags)
    names = list(frequencies)
    p = np.array([frequencies[n] for n in names], "float64")
    chance = entity_scores(
        gold,
        [list(rng.choice(names, size=len(tags), p=p / p.sum())) for tags in gold],
    )
    print(
        f"WNUT-16 entity F1 {scores['f1']:.4f} (precision "
        f"{scores['precision']:.4f}, recall {scores['recall']:.4f}); "
        f"chance {chance['f1']:.4f}"
    )
    assert chance["f1"] < 0.03
    assert scores["f1"] > 0.07
