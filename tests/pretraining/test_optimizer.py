import keras
import numpy as np
from keras import ops

from keras_electra.pretraining import ElectraAdamW
from keras_electra.pretraining import ElectraLearningRateSchedule
from tests.pretraining.helpers import tiny_pretrainer


def google_learning_rate(step, lr, num_train_steps, warmup_steps, power=1.0):
    """optimization.create_optimizer: polynomial_decay x min(1, step/warmup)."""
    decayed = lr * (1 - min(step, num_train_steps) / num_train_steps) ** power
    if warmup_steps:
        decayed *= min(1.0, step / warmup_steps)
    return decayed


def google_adamw_steps(params, grads_per_step, decay, schedule, rate=0.01):
    """Google's AdamWeightDecayOptimizer after tf.clip_by_global_norm(1.0)."""
    params = [p.astype("float64") for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for step, grads in enumerate(grads_per_step):
        norm = np.sqrt(sum((g.astype("float64") ** 2).sum() for g in grads))
        grads = [g * 1.0 / max(norm, 1.0) for g in grads]
        lr = schedule(step)
        for i, g in enumerate(grads):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g**2
            update = m[i] / (np.sqrt(v[i]) + 1e-6)
            if decay[i]:
                update = update + rate * params[i]
            params[i] = params[i] - lr * update
    return params


def test_schedule_matches_googles_formula():
    for power in (1.0, 2.0):
        schedule = ElectraLearningRateSchedule(
            2e-3, num_train_steps=100, warmup_steps=10, power=power
        )
        for step in (0, 1, 5, 10, 11, 50, 99, 100, 130):
            expected = google_learning_rate(step, 2e-3, 100, 10, power)
            got = float(ops.convert_to_numpy(schedule(step)))
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
    no_warmup = ElectraLearningRateSchedule(1.0, num_train_steps=4)
    assert float(ops.convert_to_numpy(no_warmup(0))) == 1.0
    assert float(ops.convert_to_numpy(no_warmup(3))) == 0.25


def test_update_rule_matches_googles_adamw():
    rng = np.random.default_rng(0)
    shapes = {"kernel": (3, 4), "bias": (4,), "gamma": (4,)}
    values = {k: rng.normal(size=s).astype("float32") for k, s in shapes.items()}
    kernel = keras.Variable(values["kernel"], name="kernel")
    bias = keras.Variable(values["bias"], name="bias")
    with keras.name_scope("layer_norm"):
        gamma = keras.Variable(values["gamma"], name="gamma")
    variables = [kernel, bias, gamma]
    # Large and small gradients: clipping is active on some steps only.
    grads_per_step = [
        [rng.normal(size=shapes[k]).astype("float32") * scale for k in shapes]
        for scale in (3.0, 0.05, 1.5, 0.2, 0.01)
    ]
    schedule = ElectraLearningRateSchedule(
        0.1, num_train_steps=10, warmup_steps=2
    )
    optimizer = ElectraAdamW(schedule, weight_decay_rate=0.01)
    for grads in grads_per_step:
        optimizer.apply([ops.convert_to_tensor(g) for g in grads], variables)

    assert [optimizer.decays(v) for v in variables] == [True, False, False]
    expected = google_adamw_steps(
        [values["kernel"], values["bias"], values["gamma"]],
        grads_per_step,
        decay=[True, False, False],
        schedule=lambda s: google_learning_rate(s, 0.1, 10, 2),
    )
    for variable, want in zip(variables, expected):
        np.testing.assert_allclose(
            ops.convert_to_numpy(variable), want, rtol=1e-5, atol=1e-6
        )
    assert int(ops.convert_to_numpy(optimizer.iterations)) == 5


def test_no_weight_decay_exactly_for_layer_norms_and_biases():
    pretrainer = tiny_pretrainer()
    optimizer = ElectraAdamW()
    excluded = set()
    for layer in pretrainer._flatten_layers():
        if isinstance(layer, keras.layers.LayerNormalization):
            excluded.update(id(w) for w in layer.weights)
        bias = getattr(layer, "bias", None)
        if isinstance(bias, keras.Variable):
            excluded.add(id(bias))
    head = pretrainer.generator.masked_lm_head
    excluded.add(id(head._bias))
    variables = pretrainer.trainable_variables
    assert len(variables) > 30
    for variable in variables:
        assert optimizer.decays(variable) == (id(variable) not in excluded), (
            variable.path
        )


def test_serialization_round_trip():
    schedule = ElectraLearningRateSchedule(1e-3, 50, warmup_steps=5, power=2.0)
    optimizer = ElectraAdamW(schedule, weight_decay_rate=0.02, epsilon=1e-7)
    restored = ElectraAdamW.from_config(optimizer.get_config())
    config = restored.get_config()
    assert config["weight_decay_rate"] == 0.02
    assert config["epsilon"] == 1e-7
    assert config["global_clipnorm"] == 1.0
    assert config["learning_rate"]["config"]["power"] == 2.0
