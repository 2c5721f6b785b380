"""Small models and batches shared by the pre-training tests."""

import os

import numpy as np

import keras_electra
from tests.conftest import TEST_DATA
from tests.conftest import TINY_VOCAB
from tests.tiny_models import tiny_backbone
from tests.tiny_models import tiny_tokenizer

CORPUS = os.path.join(TEST_DATA, "corpus")
# TINY_VOCAB's special tokens.
PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4


# The pre-training tests' discriminator: the shared tiny backbone with 1
# layer, hidden 32, embeddings 16 and dropout.
DISCRIMINATOR = dict(num_layers=1, hidden_dim=32, embedding_dim=16, dropout=0.1)


def tiny_pretrainer(seed=0, tokenizer=None, dtype=None, dropout=0.1, **kwargs):
    """Discriminator hidden 32 (1 layer); generator hidden 8 (fraction 1/4)."""
    tokenizer = tokenizer or tiny_tokenizer()
    backbone = tiny_backbone(
        **{**DISCRIMINATOR, "dropout": dropout},
        vocabulary_size=tokenizer.vocabulary_size(),
        dtype=dtype,
    )
    return keras_electra.ElectraPretrainer(
        backbone, tokenizer=tokenizer, seed=seed, **kwargs
    )


def packed_batch(batch=4, seq=16, vocab_size=len(TINY_VOCAB), seed=0):
    """`[CLS] a [SEP] b [SEP]` rows of different lengths, then padding."""
    rng = np.random.default_rng(seed)
    token_ids = np.zeros((batch, seq), "int32")
    segment_ids = np.zeros((batch, seq), "int32")
    padding_mask = np.zeros((batch, seq), "int32")
    for i in range(batch):
        n = seq - 2 * i if seq - 2 * i >= 6 else 6
        split = n // 2
        row = rng.integers(MASK + 1, vocab_size, size=n)
        row[0], row[split], row[n - 1] = CLS, SEP, SEP
        token_ids[i, :n] = row
        segment_ids[i, split + 1 : n] = 1
        padding_mask[i, :n] = 1
    return {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
    }
