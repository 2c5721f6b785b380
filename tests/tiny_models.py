"""The tests' tiny models, in one place.

`tiny_backbone` is the one tiny `ElectraBackbone` of the test suite: 2
layers, 2 heads, hidden 16, embeddings 8, feed-forward 32, 32 positions,
no dropout, on `TINY_VOCAB`. A test that needs another shape passes it
(`tiny_backbone(num_layers=1, hidden_dim=32)`); `seed` makes the random
weights reproducible. `tiny_tokenizer` is the WordPiece tokenizer of
`TINY_VOCAB`.
"""

import keras

import keras_electra
from tests.conftest import TINY_VOCAB

TINY_BACKBONE = dict(
    vocabulary_size=len(TINY_VOCAB),
    num_layers=2,
    num_heads=2,
    hidden_dim=16,
    embedding_dim=8,
    intermediate_dim=None,  # 2 x hidden_dim
    max_sequence_length=32,
    dropout=0.0,
)


def tiny_backbone(seed=None, **overrides):
    """A tiny `ElectraBackbone` (`TINY_BACKBONE`, with `overrides`)."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    config = {**TINY_BACKBONE, **overrides}
    if config["intermediate_dim"] is None:
        config["intermediate_dim"] = 2 * config["hidden_dim"]
    return keras_electra.ElectraBackbone(**config)


def tiny_tokenizer(vocabulary=TINY_VOCAB):
    return keras_electra.ElectraTokenizer(vocabulary=vocabulary)
