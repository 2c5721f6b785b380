"""Preprocessors pad a batch to its longest sequence, rounded up to a
bucket; numbers do not depend on the padded length.

Before (8fd2f05) every batch was padded to `sequence_length` (512 for
Google's checkpoints), so a one-sentence request paid for 512 tokens.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_electra

PRESET = "electra_tiny_gutenberg_en"  # bundled: 128 positions
SHORT = "it is a truth universally acknowledged"
LONG = " ".join(["the man was at the door of the house"] * 4)


def numpy(x):
    return {k: keras.ops.convert_to_numpy(v) for k, v in x.items()}


@pytest.fixture(scope="module")
def classifier():
    return keras_electra.ElectraClassifier.from_preset(PRESET, num_classes=3)


@pytest.fixture(scope="module")
def discriminator():
    return keras_electra.ElectraDiscriminator.from_preset(PRESET)


def test_a_batch_is_padded_to_its_bucket(classifier):
    preprocessor = classifier.preprocessor
    assert preprocessor.padding == "longest"
    assert preprocessor.pad_to_multiple_of == 16
    short = numpy(preprocessor([SHORT]))
    real = int(short["padding_mask"].sum())
    assert real < 16
    assert short["token_ids"].shape == (1, 16)
    both = numpy(preprocessor([SHORT, LONG]))
    longest = int(both["padding_mask"].sum(-1).max())
    assert longest > 16
    assert both["token_ids"].shape == (2, -(-longest // 16) * 16)
    for key in ("segment_ids", "padding_mask"):
        assert both[key].shape == both["token_ids"].shape
    # The same inside a tf.data pipeline (a graph): the shape is dynamic.
    dataset = tf.data.Dataset.from_tensor_slices([SHORT]).batch(1)
    (packed,) = list(dataset.map(preprocessor))
    assert packed["token_ids"].shape == (1, 16)


def test_fixed_padding_and_the_maximum(classifier):
    preprocessor = classifier.preprocessor
    cls = type(preprocessor)

    def make(**kwargs):
        return cls(preprocessor.tokenizer, sequence_length=128, **kwargs)

    fixed = make(padding="max_length")
    assert fixed.get_config()["padding"] == "max_length"
    assert numpy(fixed([SHORT]))["token_ids"].shape == (1, 128)
    # `sequence_length` stays the maximum.
    text = " ".join(["word"] * 300)
    assert numpy(make()([text]))["token_ids"].shape == (1, 128)
    assert numpy(make(pad_to_multiple_of=5)([SHORT]))["token_ids"].shape[1] == 10
    with pytest.raises(ValueError, match="padding"):
        make(padding="x")


def padded_to(x, length, pad_id=0):
    """`x` padded (with padding, as the packer pads) to `length`."""
    extra = length - x["token_ids"].shape[-1]
    widths = [(0, 0)] * (x["token_ids"].ndim - 1) + [(0, extra)]
    return {
        "token_ids": np.pad(x["token_ids"], widths, constant_values=pad_id),
        "segment_ids": np.pad(x["segment_ids"], widths),
        "padding_mask": np.pad(x["padding_mask"], widths),
    }


def test_padding_does_not_change_real_positions(classifier, discriminator):
    """The same text packed at 16 and at 128 positions: every real
    position's output, and the sentence's class scores, agree."""
    x = numpy(classifier.preprocessor([SHORT]))
    wide = padded_to(x, 128, classifier.preprocessor.tokenizer.pad_token_id)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(classifier(x)),
        keras.ops.convert_to_numpy(classifier(wide)),
        atol=1e-6,
    )
    real = x["padding_mask"][0].astype(bool)
    narrow_tokens = keras.ops.convert_to_numpy(discriminator(x))[0]
    wide_tokens = keras.ops.convert_to_numpy(discriminator(wide))[0]
    np.testing.assert_allclose(
        narrow_tokens[real], wide_tokens[: len(real)][real], atol=1e-6
    )


def test_predict_joins_batches_of_different_lengths(discriminator):
    """Per-token outputs of batches padded to different buckets are joined,
    padded to the longest; each row's real positions are its own."""
    texts = [SHORT, LONG]
    joined = discriminator.predict(texts, batch_size=1, verbose=0)
    alone = [discriminator.predict([t], verbose=0)[0] for t in texts]
    assert joined.shape == (2, max(a.shape[0] for a in alone))
    for row, single in zip(joined, alone):
        np.testing.assert_allclose(row[: len(single)], single, atol=1e-5)
        assert not row[len(single):].any()
    # A tf.data pipeline (Keras' own predict) pads to `sequence_length`.
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(1)
    from_dataset = discriminator.predict(dataset, verbose=0)
    assert from_dataset.shape == (2, 128)
    for row, single in zip(from_dataset, alone):
        np.testing.assert_allclose(row[: len(single)], single, atol=1e-5)


def test_in_memory_predict_equals_the_pipeline(classifier):
    texts = [SHORT, LONG, "a third one"]
    fast = classifier.predict(texts, batch_size=2, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(2)
    np.testing.assert_allclose(
        fast, classifier.predict(dataset, verbose=0), atol=1e-5
    )
    labels = classifier.predict_labels(texts, top_k=3)
    probabilities = np.exp(fast) / np.exp(fast).sum(-1, keepdims=True)
    for row, ranked in zip(probabilities, labels):
        assert [p for _, p in ranked] == pytest.approx(
            sorted(row, reverse=True), abs=1e-5
        )
