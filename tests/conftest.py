"""Shared fixtures: small transformers ELECTRA checkpoints made locally.

No hub access: transformers models are built from configs with random
weights and `save_pretrained` to temporary directories, which our
`from_preset` then loads.
"""

import gzip
import hashlib
import os
import tempfile

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tests' own data (see tests/data/README.md): everything the tests read
# is inside the repository, as a user's clone has it.
TEST_DATA = os.path.join(REPO, "tests", "data")


def _uncased_vocab_file():
    """BERT's uncased vocabulary as a plain text file.

    The package bundles it gzipped (`keras_electra/data/uncased_vocab.txt.gz`);
    tokenizers want a plain file, so it is unpacked once into the temporary
    directory (atomically: test workers in other processes may race).
    """
    source = os.path.join(REPO, "keras_electra", "data", "uncased_vocab.txt.gz")
    with gzip.open(source, "rb") as f:
        content = f.read()
    digest = hashlib.md5(content).hexdigest()
    target = os.path.join(
        tempfile.gettempdir(), f"keras_electra_tests_uncased_vocab_{digest}.txt"
    )
    if not os.path.exists(target):
        fd, partial = tempfile.mkstemp(dir=os.path.dirname(target))
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(partial, target)
    return target


VOCAB_PATH = _uncased_vocab_file()
TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
    "the", "quick", "brown", "fox", "jumped", "over", "lazy", "dog", ".",
    "a", "cat", "sat", "on", "mat", "##s", "##ed", ",", "is", "was", "and",
]


def pytest_collection_modifyitems(config, items):
    # keras-hub's TestCase derives from tf.test.TestCase, whose
    # `test_session` helper pytest would collect (and report as skipped).
    items[:] = [item for item in items if item.name != "test_session"]


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Keep converted presets out of the user's cache."""
    os.environ["KERAS_ELECTRA_CACHE"] = str(tmp_path_factory.mktemp("cache"))


def tiny_hf_config(embedding_size=16, hidden_size=32, vocab_size=None):
    from transformers import ElectraConfig

    return ElectraConfig(
        vocab_size=vocab_size or len(TINY_VOCAB),
        embedding_size=embedding_size,
        hidden_size=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )


def save_hf_checkpoint(model, directory, vocabulary=TINY_VOCAB, bin=False):
    """`save_pretrained` + vocab; `bin=True` writes `pytorch_model.bin`."""
    import torch

    os.makedirs(directory, exist_ok=True)
    if bin:
        model.config.save_pretrained(directory)
        path = os.path.join(directory, "pytorch_model.bin")
        torch.save(model.state_dict(), path)
    else:
        model.save_pretrained(directory)
    with open(os.path.join(directory, "vocab.txt"), "w") as f:
        f.write("\n".join(vocabulary) + "\n")
    return directory


def randomize_(model, seed=0):
    """Random values for every parameter, biases and LayerNorms included.

    transformers initialises biases to 0 and LayerNorm to (1, 0), which
    would hide a bias or LayerNorm mapped to the wrong place.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g) * 0.1
            p.copy_(noise + 1.0 if "LayerNorm.weight" in name else noise)
    return model


def padded_batch(vocab_size, batch=3, seq=12, seed=0):
    """A batch with padding: row i has `seq - 3 * i` real tokens."""
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, vocab_size, size=(batch, seq)).astype("int32")
    padding_mask = np.zeros((batch, seq), "int32")
    segment_ids = np.zeros((batch, seq), "int32")
    for i in range(batch):
        n = seq - 3 * i
        padding_mask[i, :n] = 1
        segment_ids[i, n // 2 : n] = 1
        token_ids[i, n:] = 0
    return {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": padding_mask,
    }


def torch_inputs(batch):
    import torch

    return dict(
        input_ids=torch.tensor(batch["token_ids"], dtype=torch.long),
        token_type_ids=torch.tensor(batch["segment_ids"], dtype=torch.long),
        attention_mask=torch.tensor(batch["padding_mask"], dtype=torch.long),
    )
