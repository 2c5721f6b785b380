import json
import os
import types

import keras
import numpy as np
import pytest
from keras import ops

import keras_electra
from keras_electra.pretraining import generator_backbone_for
from tests.pretraining.helpers import packed_batch
from tests.pretraining.helpers import DISCRIMINATOR
from tests.pretraining.helpers import tiny_pretrainer
from tests.tiny_models import tiny_backbone
from tests.tiny_models import tiny_tokenizer

METRICS = {
    "loss",
    "generator_loss",
    "generator_accuracy",
    "discriminator_loss",
    "discriminator_accuracy",
    "discriminator_precision",
    "discriminator_recall",
}


def numpy_of(variables):
    return [ops.convert_to_numpy(v).copy() for v in variables]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny pretrainer, its weights before training, and 3 fit steps."""
    pretrainer = tiny_pretrainer(seed=0)
    pretrainer.compile(learning_rate=1e-2, num_train_steps=10, warmup_steps=0)
    shared_before = numpy_of(pretrainer.embeddings.weights)
    own_before = numpy_of(pretrainer.generator.backbone.embeddings.weights)
    seed_before = numpy_of([pretrainer.seed_generator.state])[0]
    batch = packed_batch(batch=4, seq=16)
    history = pretrainer.fit(batch, batch_size=4, epochs=3, verbose=0)
    return {
        "pretrainer": pretrainer,
        "batch": batch,
        "history": history.history,
        "shared_before": shared_before,
        "own_before": own_before,
        "seed_before": seed_before,
        "dir": tmp_path_factory.mktemp("presets"),
    }


def test_one_set_of_embeddings_is_shared(trained):
    pretrainer = trained["pretrainer"]
    shared = pretrainer.discriminator.backbone.embeddings
    assert pretrainer.embeddings is shared
    head = pretrainer.generator.masked_lm_head
    assert head.token_embedding is shared.token_embedding
    # The generator's own embedding layer is frozen and unused.
    own = pretrainer.generator.backbone.embeddings
    assert own is not shared and not own.trainable
    trainable = {id(v) for v in pretrainer.trainable_variables}
    assert all(id(w) in trainable for w in shared.weights)
    assert not any(id(w) in trainable for w in own.weights)
    assert len(trainable) == len(pretrainer.trainable_variables)
    # Separate stacks; the generator keeps its projection 16 -> 8.
    assert pretrainer.generator.backbone.embeddings_projection.units == 8


def test_generator_is_fed_by_the_shared_embeddings(trained):
    pretrainer = trained["pretrainer"]
    batch = trained["batch"]
    masked = pretrainer.mask(batch)
    args = (
        masked["token_ids"],
        batch["segment_ids"],
        batch["padding_mask"],
        masked["mask_positions"],
    )
    generator_logits = pretrainer.replaced_token_detection_layer.generator_logits
    before = ops.convert_to_numpy(generator_logits(*args, training=False))
    layer_norm = pretrainer.embeddings.layer_norm
    gamma = ops.convert_to_numpy(layer_norm.gamma)
    layer_norm.gamma.assign(gamma * 2.0)
    after = ops.convert_to_numpy(generator_logits(*args, training=False))
    layer_norm.gamma.assign(gamma)
    assert np.abs(before - after).max() > 1e-3


def test_fit_trains_both_and_shows_metrics(trained):
    history = trained["history"]
    assert set(history) == METRICS
    for name, values in history.items():
        assert np.all(np.isfinite(values)), name
    np.testing.assert_allclose(
        history["loss"],
        np.array(history["generator_loss"])
        + 50.0 * np.array(history["discriminator_loss"]),
        rtol=1e-5,
    )
    pretrainer = trained["pretrainer"]
    shared_after = numpy_of(pretrainer.embeddings.weights)
    assert not np.allclose(shared_after[0], trained["shared_before"][0])
    for before, after in zip(
        trained["own_before"],
        numpy_of(pretrainer.generator.backbone.embeddings.weights),
    ):
        np.testing.assert_array_equal(before, after)
    # Every step drew fresh noise from the model's seed generator.
    seed_after = ops.convert_to_numpy(pretrainer.seed_generator.state)
    assert not np.array_equal(seed_after, trained["seed_before"])


def test_metrics_follow_their_definitions(trained):
    pretrainer = trained["pretrainer"]
    batch = trained["batch"]
    y_pred = pretrainer(batch, training=False)
    pretrainer.reset_metrics()
    logs = pretrainer.compute_metrics(batch, None, y_pred)
    out = {k: ops.convert_to_numpy(v) for k, v in y_pred.items()}
    used = out["mask_weights"] > 0
    expected_gen = (out["generator_predictions"] == out["mask_ids"])[used].mean()
    real = batch["padding_mask"] > 0
    predicted = out["discriminator_logits"] > 0
    replaced = out["replaced"] > 0
    correct = predicted == replaced
    assert replaced[real].sum() > 0
    np.testing.assert_allclose(logs["generator_accuracy"], expected_gen, rtol=1e-6)
    np.testing.assert_allclose(
        logs["discriminator_accuracy"], correct[real].mean(), rtol=1e-6
    )
    np.testing.assert_allclose(
        logs["discriminator_recall"], correct[real & replaced].mean(), rtol=1e-6
    )
    if (real & predicted).any():
        expected_precision = correct[real & predicted].mean()
    else:
        expected_precision = 0.0
    np.testing.assert_allclose(
        logs["discriminator_precision"], expected_precision, rtol=1e-6
    )
    np.testing.assert_allclose(
        logs["generator_loss"], out["generator_loss"], rtol=1e-6
    )


def test_generator_sized_from_the_discriminator():
    # Only the discriminator's settings are read.
    discriminator = types.SimpleNamespace(
        vocabulary_size=30,
        num_layers=2,
        hidden_dim=512,
        embedding_dim=16,
        dropout=0.1,
        max_sequence_length=16,
        num_segments=2,
        dtype_policy=None,
    )
    generator = generator_backbone_for(discriminator, hidden_fraction=0.25)
    assert generator.hidden_dim == 128
    assert generator.num_heads == 2  # max(1, 128 // 64)
    assert generator.intermediate_dim == 512
    assert generator.num_layers == 2
    assert generator.embedding_dim == 16
    half = generator_backbone_for(discriminator, 1 / 32, layers_fraction=0.5)
    assert (half.hidden_dim, half.num_heads, half.num_layers) == (16, 1, 1)


def test_presets_load_as_discriminator_classifier_and_generator(trained):
    pretrainer = trained["pretrainer"]
    directory = trained["dir"]
    discriminator_dir = str(directory / "discriminator_only")
    generator_dir = str(directory / "generator_only")
    pretrainer.save_discriminator_preset(discriminator_dir)
    pretrainer.save_generator_preset(generator_dir)
    batch = trained["batch"]

    discriminator = keras_electra.ElectraDiscriminator.from_preset(
        discriminator_dir
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(discriminator(batch)),
        ops.convert_to_numpy(pretrainer.discriminator(batch)),
        atol=1e-6,
    )
    backbone = keras_electra.ElectraBackbone.from_preset(discriminator_dir)
    classifier = keras_electra.ElectraClassifier.from_preset(
        discriminator_dir, num_classes=3
    )
    for loaded in (backbone, classifier.backbone):
        for a, b in zip(loaded.weights, pretrainer.backbone.weights):
            np.testing.assert_array_equal(
                ops.convert_to_numpy(a), ops.convert_to_numpy(b)
            )
    assert classifier.predict(["the quick fox"], verbose=0).shape == (1, 3)

    generator = keras_electra.ElectraMaskedLM.from_preset(generator_dir)
    for a, b in zip(
        generator.backbone.embeddings.weights, pretrainer.embeddings.weights
    ):
        np.testing.assert_array_equal(
            ops.convert_to_numpy(a), ops.convert_to_numpy(b)
        )
    masked = {
        k: ops.convert_to_numpy(v) for k, v in pretrainer.mask(batch).items()
    }
    x = dict(batch, token_ids=masked["token_ids"])
    x["mask_positions"] = masked["mask_positions"]
    expected = pretrainer.replaced_token_detection_layer.generator_logits(
        masked["token_ids"],
        batch["segment_ids"],
        batch["padding_mask"],
        masked["mask_positions"],
        training=False,
    )
    np.testing.assert_allclose(
        ops.convert_to_numpy(generator(x)),
        ops.convert_to_numpy(expected),
        atol=1e-5,
    )
    # Saving left the pre-training tie in place.
    head = pretrainer.generator.masked_lm_head
    assert head.token_embedding is pretrainer.embeddings.token_embedding


def assert_same_losses(model, reference, batch):
    """`model` and `reference` give the same RTD losses on `batch`, with the
    same masking and Gumbel noise injected."""
    masked = {
        k: ops.convert_to_numpy(v) for k, v in reference.mask(batch).items()
    }
    num_slots = masked["mask_positions"].shape[1]
    vocabulary_size = reference.backbone.vocabulary_size
    noise = np.random.default_rng(0).gumbel(
        size=(len(batch["token_ids"]), num_slots, vocabulary_size)
    ).astype("float32")
    expected = reference.replaced_token_detection(batch, masked, noise)
    got = model.replaced_token_detection(batch, masked, noise)
    for key in ("generator_loss", "discriminator_loss", "loss"):
        np.testing.assert_allclose(
            ops.convert_to_numpy(got[key]),
            ops.convert_to_numpy(expected[key]),
            rtol=1e-5,
            err_msg=key,
        )
    return masked


def test_pair_round_trip_through_from_preset(trained):
    pretrainer = trained["pretrainer"]
    pair_dir = str(trained["dir"] / "pair")
    pretrainer.save_to_preset(pair_dir)
    with open(os.path.join(pair_dir, "pretraining_pair.json")) as f:
        description = json.load(f)
    assert description["discriminator"] == "discriminator"
    assert description["global_step"] == 3

    batch = trained["batch"]
    for loaded in (
        keras_electra.ElectraPretrainer.from_preset(pair_dir, seed=1),
        keras_electra.ElectraPretrainer.from_preset(
            os.path.join(pair_dir, "discriminator"),
            generator_preset=os.path.join(pair_dir, "generator"),
        ),
    ):
        assert not loaded.tie_all_weights
        assert_same_losses(loaded, pretrainer, batch)


def test_config_round_trip(trained):
    pretrainer = trained["pretrainer"]
    config = pretrainer.get_config()
    restored = keras_electra.ElectraPretrainer.from_config(
        json.loads(json.dumps(keras.saving.serialize_keras_object(config)))
    )
    assert restored.generator.backbone.hidden_dim == 8
    assert restored.discriminator_weight == 50.0
    assert restored.seed == pretrainer.seed
    assert restored.embeddings is restored.discriminator.backbone.embeddings


def test_clear_errors():
    tokenizer = tiny_tokenizer()
    discriminator = tiny_backbone(**DISCRIMINATOR)
    wrong = keras_electra.ElectraBackbone(
        vocabulary_size=discriminator.vocabulary_size,
        num_layers=1,
        num_heads=1,
        hidden_dim=8,
        embedding_dim=12,
        max_sequence_length=32,
    )
    with pytest.raises(ValueError, match="embedding_dim"):
        keras_electra.ElectraPretrainer(discriminator, wrong, tokenizer=tokenizer)
    with pytest.raises(ValueError, match="tokenizer"):
        keras_electra.ElectraPretrainer(discriminator)
    with pytest.raises(ValueError, match="generator"):
        keras_electra.ElectraPretrainer.from_preset(
            "/nonexistent/discriminator"
        )


# === Tying all weights (the paper's section 3.2) ===


@pytest.fixture(scope="module")
def tied(tmp_path_factory):
    """A tiny pretrainer with all weights tied, after 3 fit steps."""
    pretrainer = tiny_pretrainer(seed=0, tie_all_weights=True)
    pretrainer.compile(learning_rate=1e-2, num_train_steps=10, warmup_steps=0)
    batch = packed_batch(batch=4, seq=16)
    before = numpy_of(pretrainer.backbone.weights)
    pretrainer.fit(batch, batch_size=4, epochs=3, verbose=0)
    return {
        "pretrainer": pretrainer,
        "batch": batch,
        "before": before,
        "dir": tmp_path_factory.mktemp("tied"),
    }


def test_tie_all_weights_trains_one_backbone_with_both_losses(tied):
    pretrainer = tied["pretrainer"]
    assert pretrainer.tie_all_weights
    assert pretrainer.generator.backbone is pretrainer.backbone
    assert pretrainer.embeddings is pretrainer.backbone.embeddings
    # Everything in the one backbone trains, embeddings included, and each
    # weight is trained once.
    trainable = {id(v) for v in pretrainer.trainable_variables}
    assert all(id(w) in trainable for w in pretrainer.backbone.weights)
    assert len(trainable) == len(pretrainer.trainable_variables)
    for before, weight in zip(tied["before"], pretrainer.backbone.weights):
        if weight.path.endswith("key/bias"):
            continue  # Softmax ignores it: its gradient is exactly 0.
        after = ops.convert_to_numpy(weight)
        assert not np.allclose(before, after), weight.path


def test_tied_generator_loss_alone_trains_the_discriminator_layers():
    # With the discriminator's loss weighted 0, only the masked-LM loss has
    # a gradient. Tied, it moves the discriminator's own transformer layers
    # (Adam steps of about the learning rate); untied, only weight decay
    # touches them (about 1e-4 of their size).
    def largest_move(tie_all_weights):
        pretrainer = tiny_pretrainer(
            seed=0,
            tie_all_weights=tie_all_weights,
            discriminator_weight=0.0,
            dropout=0.0,
        )
        pretrainer.compile(
            learning_rate=1e-2, num_train_steps=10, warmup_steps=0
        )
        layer = pretrainer.backbone.get_layer("transformer_layer_0")
        before = numpy_of(layer.trainable_weights)
        pretrainer.fit(
            packed_batch(batch=4, seq=16), batch_size=4, epochs=1, verbose=0
        )
        return max(
            np.abs(ops.convert_to_numpy(w) - b).max()
            for w, b in zip(layer.trainable_weights, before)
        )

    assert largest_move(True) > 1e-2
    assert largest_move(False) < 1e-4


def test_tied_pair_round_trips_tied(tied):
    pretrainer = tied["pretrainer"]
    pair_dir = str(tied["dir"] / "pair")
    pretrainer.save_to_preset(pair_dir)
    with open(os.path.join(pair_dir, "pretraining_pair.json")) as f:
        assert json.load(f)["tied_all_weights"] is True

    batch = tied["batch"]
    loaded = keras_electra.ElectraPretrainer.from_preset(pair_dir, seed=1)
    assert loaded.tie_all_weights
    masked = assert_same_losses(loaded, pretrainer, batch)
    untied = keras_electra.ElectraPretrainer.from_preset(
        pair_dir, tie_all_weights=False
    )
    assert not untied.tie_all_weights
    assert_same_losses(untied, pretrainer, batch)
    # The standalone generator preset is the same masked LM.
    generator = keras_electra.ElectraMaskedLM.from_preset(
        os.path.join(pair_dir, "generator")
    )
    inputs = dict(batch, mask_positions=masked["mask_positions"])
    np.testing.assert_allclose(
        ops.convert_to_numpy(generator(inputs)),
        ops.convert_to_numpy(pretrainer.generator(inputs)),
        atol=1e-5,
    )

    config = json.loads(
        json.dumps(keras.saving.serialize_keras_object(pretrainer.get_config()))
    )
    restored = keras_electra.ElectraPretrainer.from_config(config)
    assert restored.tie_all_weights
    assert restored.embeddings.trainable


def test_tie_all_weights_errors(trained):
    tokenizer = tiny_tokenizer()
    discriminator = tiny_backbone(**DISCRIMINATOR)
    separate = generator_backbone_for(discriminator)
    with pytest.raises(ValueError, match="tie_all_weights"):
        keras_electra.ElectraPretrainer(
            discriminator, separate, tokenizer=tokenizer, tie_all_weights=True
        )
    pair_dir = str(trained["dir"] / "untied_pair")
    trained["pretrainer"].save_to_preset(pair_dir)
    with pytest.raises(ValueError, match="not a pair saved with all weights"):
        keras_electra.ElectraPretrainer.from_preset(
            pair_dir, tie_all_weights=True
        )
