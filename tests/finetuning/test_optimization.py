import collections

import keras
import numpy as np
import pytest
from keras import ops
from keras_hub.src.tests.test_case import TestCase

from keras_electra import ElectraBackbone
from keras_electra import ElectraClassifier
from keras_electra.finetuning import ElectraAdamW
from keras_electra.finetuning import ElectraLearningRateSchedule
from keras_electra.finetuning import LayerwiseAdamW
from keras_electra.finetuning import LayerwiseSGD
from keras_electra.finetuning import create_optimizer
from keras_electra.finetuning import layer_depths
from keras_electra.finetuning import layerwise_lr_multipliers
from keras_electra.finetuning import with_layerwise_lr_decay
from tests.conftest import padded_batch

NUM_LAYERS = 3


def google_get_layer_lrs(learning_rate, layer_decay, n_layers):
    """Google's `model/optimization.py:_get_layer_lrs`, transcribed."""
    key_to_depths = collections.OrderedDict(
        {
            "/embeddings/": 0,
            "/embeddings_project/": 0,
            "task_specific/": n_layers + 2,
        }
    )
    for layer in range(n_layers):
        key_to_depths["encoder/layer_" + str(layer) + "/"] = layer + 1
    return {
        key: learning_rate * (layer_decay ** (n_layers + 2 - depth))
        for key, depth in key_to_depths.items()
    }


def google_name(path):
    """The variable scope our variable has in Google's TF1 graph."""
    if path.startswith("embeddings/"):
        return "electra/embeddings/" + path
    if path.startswith("embeddings_projection/"):
        return "electra/embeddings_project/" + path
    if path.startswith("transformer_layer_"):
        index = path.split("/")[0].rsplit("_", 1)[1]
        return f"electra/encoder/layer_{index}/" + path
    return "task_specific/" + path


def tiny_classifier(num_classes=3):
    backbone = ElectraBackbone(
        vocabulary_size=30,
        num_layers=NUM_LAYERS,
        num_heads=2,
        hidden_dim=16,
        embedding_dim=8,
        intermediate_dim=32,
        max_sequence_length=16,
        dropout=0.0,
    )
    return ElectraClassifier(backbone, num_classes=num_classes, dropout=0.0)


def known_gradients(variables, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=v.shape).astype("float32") for v in variables]


class LayerwiseDecayTest(TestCase):
    def test_depths_and_multipliers_follow_google(self):
        model = tiny_classifier()
        depths = layer_depths(model)
        self.assertEqual(set(depths), {v.path for v in model.trainable_variables})
        # Every depth Google knows appears: 0 (embeddings + projection),
        # 1..L (layers), L + 2 (head).
        self.assertEqual(
            sorted(set(depths.values())), [0, 1, 2, 3, NUM_LAYERS + 2]
        )
        multipliers = layerwise_lr_multipliers(model, decay=0.8)
        lrs = google_get_layer_lrs(1.0, 0.8, NUM_LAYERS)
        for path, multiplier in multipliers.items():
            name = google_name(path)
            matches = [lr for key, lr in lrs.items() if key in name]
            self.assertEqual(len(matches), 1, name)
            self.assertAllClose(multiplier, matches[0], atol=1e-12)
        # The head trains at the full rate, the top layer at decay ** 2.
        self.assertEqual(
            multipliers["classification_head/out_proj/kernel"], 1.0
        )
        top = f"transformer_layer_{NUM_LAYERS - 1}/feedforward_output_dense/kernel"
        self.assertAllClose(multipliers[top], 0.8**2)

    def test_large_defaults(self):
        model = tiny_classifier()
        multipliers = layerwise_lr_multipliers(model)  # default: 0.8
        self.assertAllClose(
            multipliers["embeddings/token_embedding/embeddings"],
            0.8 ** (NUM_LAYERS + 2),
        )
        with pytest.raises(ValueError, match="in \\(0, 1\\]"):
            layerwise_lr_multipliers(model, decay=1.5)

    def test_sgd_applies_each_variables_learning_rate(self):
        model = tiny_classifier()
        variables = model.trainable_variables
        multipliers = layerwise_lr_multipliers(model, decay=0.5)
        optimizer = LayerwiseSGD(learning_rate=0.1, lr_multipliers=multipliers)
        before = [ops.convert_to_numpy(v) for v in variables]
        grads = known_gradients(variables)
        optimizer.apply([ops.convert_to_tensor(g) for g in grads], variables)
        for v, b, g in zip(variables, before, grads):
            expected = b - 0.1 * multipliers[v.path] * g
            self.assertAllClose(ops.convert_to_numpy(v), expected, atol=1e-6)

    def test_layerwise_sgd_through_compile_and_fit(self):
        # One `train_on_batch` with Layerwise SGD moves each variable by its
        # multiplier times what plain SGD (same lr, same start) moves it.
        batch = padded_batch(30, batch=4, seq=8)
        labels = np.array([0, 1, 2, 1])
        model = tiny_classifier()
        start = [ops.convert_to_numpy(v) for v in model.trainable_variables]

        def step(optimizer):
            for v, s in zip(model.trainable_variables, start):
                v.assign(s)
            model.compile(
                optimizer=optimizer,
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True
                ),
            )
            model.train_on_batch(batch, labels)
            return [
                ops.convert_to_numpy(v) - s
                for v, s in zip(model.trainable_variables, start)
            ]

        plain = step(keras.optimizers.SGD(0.5))
        multipliers = layerwise_lr_multipliers(model, decay=0.5)
        layerwise = step(LayerwiseSGD(0.5, lr_multipliers=multipliers))
        moved = 0
        for v, p, lw in zip(model.trainable_variables, plain, layerwise):
            self.assertAllClose(lw, multipliers[v.path] * p, atol=1e-6)
            moved += np.abs(p).max() > 1e-7
        self.assertGreater(moved, len(plain) // 2)

    def test_wrapped_adamw_scales_weight_decay_too(self):
        # With zero gradients AdamW only decays: w -= lr * mult * wd * w.
        model = tiny_classifier()
        optimizer = with_layerwise_lr_decay(
            keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.2),
            model,
            decay=0.5,
        )
        self.assertIsInstance(optimizer, LayerwiseAdamW)
        self.assertAllClose(optimizer.weight_decay, 0.2)
        variables = model.trainable_variables
        before = [ops.convert_to_numpy(v) for v in variables]
        zeros = [ops.zeros(v.shape) for v in variables]
        optimizer.apply(zeros, variables)
        for v, b in zip(variables, before):
            mult = optimizer.lr_multipliers[v.path]
            self.assertAllClose(
                ops.convert_to_numpy(v), b * (1 - 0.1 * mult * 0.2), atol=1e-6
            )

    def test_unknown_variable_is_an_error(self):
        model = tiny_classifier()
        optimizer = LayerwiseSGD(0.1, lr_multipliers={"nothing": 1.0})
        with pytest.raises(ValueError, match="No learning-rate multiplier"):
            optimizer.build(model.trainable_variables)
        with pytest.raises(ValueError, match="Layer-wise learning rates are"):
            with_layerwise_lr_decay(keras.optimizers.RMSprop(), model)


class ElectraAdamWTest(TestCase):
    def test_matches_googles_formula(self):
        # Google's AdamWeightDecayOptimizer (no bias correction, decoupled
        # decay except LayerNorm/bias, per-layer lr), after
        # tf.clip_by_global_norm(grads, 1.0), in float64 numpy.
        model = tiny_classifier()
        variables = model.trainable_variables
        multipliers = layerwise_lr_multipliers(model, decay=0.8)
        optimizer = ElectraAdamW(
            learning_rate=0.01,
            weight_decay_rate=0.1,
            lr_multipliers=multipliers,
        )
        params = [ops.convert_to_numpy(v).astype("float64") for v in variables]
        m = [np.zeros_like(p) for p in params]
        v2 = [np.zeros_like(p) for p in params]
        for step in range(3):
            grads = [g * 3.0 for g in known_gradients(variables, seed=step)]
            optimizer.apply([ops.convert_to_tensor(g) for g in grads], variables)
            norm = np.sqrt(sum((g.astype("float64") ** 2).sum() for g in grads))
            scale = 1.0 / max(norm, 1.0)
            for i, var in enumerate(variables):
                g = grads[i] * scale
                m[i] = 0.9 * m[i] + 0.1 * g
                v2[i] = 0.999 * v2[i] + 0.001 * g * g
                update = m[i] / (np.sqrt(v2[i]) + 1e-6)
                name = google_name(var.path)
                if not any(k in name for k in ("LayerNorm", "layer_norm", "bias")):
                    update += 0.1 * params[i]
                params[i] = params[i] - 0.01 * multipliers[var.path] * update
        for var, p in zip(variables, params):
            self.assertAllClose(ops.convert_to_numpy(var), p, atol=2e-6)
        decays = {v.path: optimizer.uses_weight_decay(v) for v in variables}
        self.assertFalse(decays["embeddings/layer_norm/gamma"])
        self.assertFalse(decays["classification_head/out_proj/bias"])
        self.assertTrue(decays["embeddings/token_embedding/embeddings"])

    def test_bias_correction_is_torch_adamw(self):
        import torch

        model = tiny_classifier()
        variables = model.trainable_variables
        optimizer = ElectraAdamW(
            learning_rate=0.01,
            weight_decay_rate=0.1,
            bias_correction=True,
            global_clipnorm=None,
            exclude_from_weight_decay=(),
            default_lr_multiplier=1.0,
        )
        params = [
            torch.tensor(ops.convert_to_numpy(v), requires_grad=True)
            for v in variables
        ]
        reference = torch.optim.AdamW(
            params, lr=0.01, eps=1e-6, weight_decay=0.1
        )
        for step in range(3):
            grads = known_gradients(variables, seed=step)
            optimizer.apply([ops.convert_to_tensor(g) for g in grads], variables)
            for p, g in zip(params, grads):
                p.grad = torch.tensor(g)
            reference.step()
        for var, p in zip(variables, params):
            self.assertAllClose(
                ops.convert_to_numpy(var), p.detach().numpy(), atol=1e-6
            )

    def test_create_optimizer_and_serialization(self):
        model = tiny_classifier()
        optimizer = create_optimizer(model, num_train_steps=100)
        self.assertIsInstance(optimizer, ElectraAdamW)
        self.assertAllClose(optimizer.global_clipnorm, 1.0)
        self.assertAllClose(optimizer.weight_decay_rate, 0.01)
        self.assertFalse(optimizer.bias_correction)
        restored = keras.optimizers.deserialize(
            keras.optimizers.serialize(optimizer)
        )
        self.assertIsInstance(restored, ElectraAdamW)
        self.assertEqual(restored.lr_multipliers, optimizer.lr_multipliers)
        self.assertAllClose(
            ops.convert_to_numpy(restored.learning_rate), 0.0  # step 0
        )
        # The default compile of the tasks uses it.
        self.assertIsInstance(model.optimizer, ElectraAdamW)


class ScheduleTest(TestCase):
    def test_warmup_then_linear_decay(self):
        # Google: lr * (1 - step / N) * min(1, step / warmup).
        schedule = ElectraLearningRateSchedule(
            1e-3, num_train_steps=100, warmup_proportion=0.1
        )
        for step, expected in [
            (0, 0.0),
            (5, 1e-3 * 0.95 * 0.5),
            (10, 1e-3 * 0.9),
            (50, 1e-3 * 0.5),
            (100, 0.0),
            (150, 0.0),
        ]:
            self.assertAllClose(
                ops.convert_to_numpy(schedule(step)), expected, atol=1e-9
            )
        # The larger of `warmup_steps` and the proportion wins.
        longer = ElectraLearningRateSchedule(
            1e-3, 100, warmup_steps=20, warmup_proportion=0.1
        )
        self.assertAllClose(
            ops.convert_to_numpy(longer(10)), 1e-3 * 0.9 * 0.5, atol=1e-9
        )
        with pytest.raises(ValueError, match="num_train_steps"):
            ElectraLearningRateSchedule(1e-3, 0)
