"""ONE end-to-end check that replaced token detection learns (slow)."""

import time

import keras
import pytest

import keras_electra
from keras_electra.pretraining import PretrainingData
from tests.conftest import VOCAB_PATH
from tests.pretraining.helpers import CORPUS

STEPS = 300
STEPS_PER_EPOCH = 50


@pytest.mark.slow
def test_pretraining_on_the_corpus_learns():
    keras.utils.set_random_seed(0)
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=VOCAB_PATH)
    discriminator = keras_electra.ElectraBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=64,
        embedding_dim=32,
        intermediate_dim=128,
        max_sequence_length=64,
    )
    pretrainer = keras_electra.ElectraPretrainer(
        discriminator, tokenizer=tokenizer, seed=0
    )
    pretrainer.compile(
        learning_rate=2e-3, num_train_steps=STEPS, warmup_steps=30
    )
    data = PretrainingData(
        CORPUS, tokenizer, sequence_length=64, batch_size=16, seed=0
    )
    start = time.time()
    history = pretrainer.fit(
        data.dataset(),
        steps_per_epoch=STEPS_PER_EPOCH,
        epochs=STEPS // STEPS_PER_EPOCH,
        verbose=0,
    ).history
    print(f"{STEPS} steps in {time.time() - start:.1f}s")
    for name, values in history.items():
        print(name, " ".join(f"{v:.3f}" for v in values))
    first, last = (
        {k: v[i] for k, v in history.items()} for i in (0, -1)
    )
    # The generator learns the most frequent words and more.
    assert first["generator_accuracy"] < 0.05
    assert last["generator_accuracy"] > first["generator_accuracy"] + 0.05
    assert last["generator_loss"] < first["generator_loss"] - 1.5
    # The discriminator finds replaced tokens (accuracy on them = recall).
    assert last["discriminator_recall"] > first["discriminator_recall"] + 0.2
    assert last["discriminator_loss"] < first["discriminator_loss"]
