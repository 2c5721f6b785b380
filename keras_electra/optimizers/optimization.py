"""ELECTRA's optimizer and schedule, for pre-training and fine-tuning.

`ElectraAdamW` with `ElectraLearningRateSchedule` is Google's optimizer of
both phases (`ElectraPretrainer.compile()` uses it); fine-tuning adds
layer-wise learning rates (`create_optimizer`, what the task classes'
`compile()` uses).

Google's recipe (`model/optimization.py`, `configure_finetuning.py`):

- Adam with decoupled weight decay 0.01 (not on LayerNorm or biases),
  beta_1 0.9, beta_2 0.999, epsilon 1e-6 and no bias correction;
- gradients clipped to a global norm of 1.0;
- learning rate 1e-4 (5e-5 for large), linear warm-up over the first 10 %
  of the steps and linear decay to 0;
- layer-wise learning-rate decay 0.8 (0.9 for large): a variable at depth
  `d` trains with `lr * decay ** (L + 2 - d)`, where the embeddings (and the
  embedding projection) are at depth 0, transformer layer `i` at depth
  `i + 1` and the task head at depth `L + 2` (`_get_layer_lrs`). The last
  transformer layer thus gets `decay ** 2` and the head the full rate.

Per-variable learning rates work with `compile()` on every backend: the
optimizers here scale each variable's update by a multiplier keyed by the
variable's path (`variable.path`), looked up when the optimizer is built.
"""

import contextlib

import keras
from keras import ops

# Google excludes these from weight decay (matched on the variable path).
EXCLUDE_FROM_WEIGHT_DECAY = ("LayerNorm", "layer_norm", "bias")
# Google's defaults (`configure_finetuning.py`).
DEFAULT_LEARNING_RATE = 1e-4
LARGE_LEARNING_RATE = 5e-5
DEFAULT_LAYERWISE_LR_DECAY = 0.8
LARGE_LAYERWISE_LR_DECAY = 0.9
DEFAULT_WEIGHT_DECAY_RATE = 0.01
DEFAULT_WARMUP_PROPORTION = 0.1
# ELECTRA-large has 24 layers; Google's "large" hyperparameters apply.
LARGE_NUM_LAYERS = 24


def _backbone_of(model):
    backbone = getattr(model, "backbone", None) or model
    if not hasattr(backbone, "transformer_layers"):
        raise ValueError(
            "Layer-wise learning rates need an ELECTRA model: an "
            "`ElectraBackbone` or a task with a `.backbone`. Received: "
            f"{type(model).__name__}."
        )
    return backbone


def is_large(model):
    """Whether Google's "large" fine-tuning hyperparameters apply."""
    return _backbone_of(model).num_layers >= LARGE_NUM_LAYERS


def default_learning_rate(model):
    """Google's peak learning rate: 1e-4, or 5e-5 for ELECTRA-large."""
    return LARGE_LEARNING_RATE if is_large(model) else DEFAULT_LEARNING_RATE


def default_layerwise_lr_decay(model):
    """Google's layer-wise decay: 0.8, or 0.9 for ELECTRA-large."""
    if is_large(model):
        return LARGE_LAYERWISE_LR_DECAY
    return DEFAULT_LAYERWISE_LR_DECAY


def layer_depths(model):
    """Depth of every trainable variable of `model`, keyed by its path.

    Google's `_get_layer_lrs`: embeddings and the embedding projection are
    depth 0, transformer layer `i` is depth `i + 1`, everything outside the
    backbone (the task head) is depth `num_layers + 2`.
    """
    backbone = _backbone_of(model)
    num_layers = len(backbone.transformer_layers)
    depth_by_id = {}
    groups = [(backbone.embeddings, 0)]
    if backbone.embeddings_projection is not None:
        groups.append((backbone.embeddings_projection, 0))
    groups += [
        (layer, i + 1) for i, layer in enumerate(backbone.transformer_layers)
    ]
    for layer, depth in groups:
        for variable in layer.weights:
            depth_by_id[id(variable)] = depth
    backbone_ids = {id(v) for v in backbone.weights}

    depths = {}
    for variable in model.trainable_variables:
        if id(variable) in depth_by_id:
            depth = depth_by_id[id(variable)]
        elif id(variable) in backbone_ids:
            raise ValueError(
                f"Backbone variable `{variable.path}` is neither in the "
                "embeddings nor in a transformer layer; its layer-wise "
                "learning rate is undefined."
            )
        else:
            depth = num_layers + 2
        if variable.path in depths and depths[variable.path] != depth:
            raise ValueError(
                f"Two variables share the path `{variable.path}` but sit at "
                "different depths; give their layers distinct names."
            )
        depths[variable.path] = depth
    return depths


def layerwise_lr_multipliers(model, decay=None):
    """Learning-rate multiplier of every trainable variable, keyed by path.

    `decay ** (num_layers + 2 - depth)` (Google's `_get_layer_lrs`). `decay`
    defaults to 0.8 (0.9 for ELECTRA-large); 1.0 gives every variable 1.
    """
    if decay is None:
        decay = default_layerwise_lr_decay(model)
    if not 0.0 < decay <= 1.0:
        raise ValueError(
            f"`layerwise_lr_decay` must be in (0, 1]. Received: {decay}"
        )
    top = len(_backbone_of(model).transformer_layers) + 2
    return {
        path: float(decay ** (top - depth))
        for path, depth in layer_depths(model).items()
    }


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraLearningRateSchedule(
    keras.optimizers.schedules.LearningRateSchedule
):
    """Linear warm-up, then polynomial (linear) decay to 0, as in Google's code.

    `lr(step) = learning_rate * (1 - min(step, N) / N) ** power
    * min(1, step / warmup_steps)`, with `N = num_train_steps` and
    `warmup_steps = max(warmup_steps, warmup_proportion * N)`. As in Google's
    code the first step (step 0) has learning rate 0.

    Args:
        learning_rate: float. The peak learning rate.
        num_train_steps: int. Total number of training steps.
        warmup_steps: int. Warm-up steps.
        warmup_proportion: float. Warm-up as a share of `num_train_steps`
            (Google: 0.1); the larger of the two warm-ups is used.
        power: float. 1.0 decays linearly.

    Example:
    ```python
    schedule = ElectraLearningRateSchedule(1e-4, num_train_steps=1000)
    float(schedule(100))  # 1e-4 * 0.9: end of warm-up, 10 % decayed
    ```
    """

    def __init__(
        self,
        learning_rate,
        num_train_steps,
        warmup_steps=0,
        warmup_proportion=0.0,
        power=1.0,
    ):
        if num_train_steps is None or num_train_steps <= 0:
            raise ValueError(
                "`num_train_steps` must be a positive number of steps. "
                f"Received: {num_train_steps}"
            )
        if warmup_steps < 0 or warmup_proportion < 0:
            raise ValueError(
                "`warmup_steps` and `warmup_proportion` must be >= 0. "
                f"Received: warmup_steps={warmup_steps}, "
                f"warmup_proportion={warmup_proportion}"
            )
        self.learning_rate = learning_rate
        self.num_train_steps = num_train_steps
        self.warmup_steps = warmup_steps
        self.warmup_proportion = warmup_proportion
        self.power = power

    @property
    def total_warmup_steps(self):
        return max(self.warmup_steps, self.num_train_steps * self.warmup_proportion)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        done = ops.minimum(step, float(self.num_train_steps))
        lr = self.learning_rate * ops.power(
            1.0 - done / float(self.num_train_steps), self.power
        )
        warmup = float(self.total_warmup_steps)
        if warmup > 0:
            lr = lr * ops.minimum(1.0, step / warmup)
        return lr

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "num_train_steps": self.num_train_steps,
            "warmup_steps": self.warmup_steps,
            "warmup_proportion": self.warmup_proportion,
            "power": self.power,
        }


def _no_grad():
    """Keeps torch's autograd out of optimizer updates (a no-op elsewhere)."""
    if keras.config.backend() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


class LayerwiseLearningRateMixin:
    """Gives an optimizer one learning-rate multiplier per variable.

    Put it first in the bases of a Keras optimizer. `lr_multipliers` maps
    variable paths to multipliers (see `layerwise_lr_multipliers`); every
    variable the optimizer is built with must have one, unless
    `default_lr_multiplier` is set. The update of each variable (and its
    weight decay, if any) uses `learning_rate * multiplier`.
    """

    def __init__(self, *args, lr_multipliers=None, default_lr_multiplier=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        if not lr_multipliers and default_lr_multiplier is None:
            # No multipliers at all: every variable trains at the rate.
            default_lr_multiplier = 1.0
        self.lr_multipliers = dict(lr_multipliers or {})
        self.default_lr_multiplier = default_lr_multiplier

    def build(self, variables):
        missing = [
            v.path
            for v in variables
            if v.path not in self.lr_multipliers
            and self.default_lr_multiplier is None
        ]
        if missing:
            raise ValueError(
                f"No learning-rate multiplier for {len(missing)} variable(s): "
                f"{', '.join(missing[:10])}"
                f"{' ...' if len(missing) > 10 else ''}. Build the "
                "multipliers from the model you train "
                "(`layerwise_lr_multipliers(model)`) or set "
                "`default_lr_multiplier`."
            )
        super().build(variables)
        self._multiplier_by_key = {
            self._var_key(v): float(
                self.lr_multipliers.get(v.path, self.default_lr_multiplier)
            )
            for v in variables
        }

    def lr_multiplier(self, variable):
        """The multiplier of a variable the optimizer was built with."""
        return self._multiplier_by_key[self._var_key(variable)]

    def update_step(self, gradient, variable, learning_rate):
        scaled = ops.multiply(
            ops.cast(learning_rate, variable.dtype),
            ops.cast(self.lr_multiplier(variable), variable.dtype),
        )
        return super().update_step(gradient, variable, scaled)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        # One `update_step` per variable on every backend (the torch
        # optimizers' fused `_parallel_update_step` has one learning rate),
        # except where the optimizer updates a group of variables at once
        # (`AdamWeightDecay` on torch): one group per multiplier.
        if keras.config.backend() == "tensorflow":
            # Keeps tf.distribute's update path; it calls `update_step`.
            return super()._backend_update_step(
                grads, trainable_variables, learning_rate
            )
        if getattr(self, "_updates_groups", False):
            groups = {}
            for grad, variable in zip(grads, trainable_variables):
                group = groups.setdefault(self.lr_multiplier(variable), ([], []))
                group[0].append(grad)
                group[1].append(variable)
            for multiplier, (group_grads, variables) in groups.items():
                dtype = variables[0].dtype
                scaled = ops.multiply(
                    ops.cast(learning_rate, dtype), ops.cast(multiplier, dtype)
                )
                self._update_group(group_grads, variables, scaled)
            return
        with _no_grad():
            for grad, variable in zip(grads, trainable_variables):
                self.update_step(grad, variable, learning_rate)

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        with _no_grad():
            for variable in variables:
                if self._use_weight_decay(variable):
                    lr = ops.cast(self.learning_rate, variable.dtype)
                    lr = lr * self.lr_multiplier(variable)
                    wd = ops.cast(self.weight_decay, variable.dtype)
                    variable.assign(variable - variable * wd * lr)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "lr_multipliers": dict(self.lr_multipliers),
                "default_lr_multiplier": self.default_lr_multiplier,
            }
        )
        return config


def _densify_embedding_gradients(grads):
    """Dense gradients for TensorFlow's `tf.IndexedSlices` (embedding lookups).

    Keras' TensorFlow ops square an `IndexedSlices` row by row, so its
    global norm counts a token seen twice as two rows instead of one summed
    row, and gradient clipping then scales differently from the dense
    gradient's norm (Google's TPU code and PyTorch use the dense one).
    """
    if keras.config.backend() != "tensorflow":
        return grads
    import tensorflow as tf

    return [
        tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
        for g in grads
    ]


@keras.saving.register_keras_serializable(package="keras_electra")
class AdamWeightDecay(keras.optimizers.Optimizer):
    """Google's `AdamWeightDecayOptimizer` (one learning rate).

    ```
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    update = m / (sqrt(v) + epsilon)            # no bias correction
    update += weight_decay_rate * w             # unless excluded
    w -= lr * update
    ```
    With `bias_correction=True`, `m` and `v` are divided by
    `1 - beta ** t` first: this is exactly `torch.optim.AdamW`.
    `ElectraAdamW` adds per-variable learning rates.
    """

    def __init__(
        self,
        learning_rate=DEFAULT_LEARNING_RATE,
        weight_decay_rate=DEFAULT_WEIGHT_DECAY_RATE,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        exclude_from_weight_decay=EXCLUDE_FROM_WEIGHT_DECAY,
        bias_correction=False,
        global_clipnorm=1.0,
        name="adam_weight_decay",
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            global_clipnorm=global_clipnorm,
            name=name,
            **kwargs,
        )
        self.weight_decay_rate = weight_decay_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.exclude_from_weight_decay_patterns = tuple(
            exclude_from_weight_decay or ()
        )
        self.bias_correction = bias_correction

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(
            variables, ["m", "v"]
        )
        self._decay_by_key = {self._var_key(v): self.decays(v) for v in variables}

    def decays(self, variable):
        """Whether `variable` gets weight decay (its path is not excluded)."""
        if not self.weight_decay_rate:
            return False
        path = getattr(variable, "path", None) or variable.name
        return not any(p in path for p in self.exclude_from_weight_decay_patterns)

    def uses_weight_decay(self, variable):
        """Whether `variable` (one the optimizer was built with) decays."""
        return self._decay_by_key[self._var_key(variable)]

    def _clip_gradients(self, grads):
        return super()._clip_gradients(_densify_embedding_gradients(grads))

    @property
    def _updates_groups(self):
        return keras.config.backend() == "torch"

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if self._updates_groups:
            return self._update_group(grads, trainable_variables, learning_rate)
        return super()._backend_update_step(
            grads, trainable_variables, learning_rate
        )

    def _update_group(self, grads, variables, learning_rate):
        """`update_step` for a list of variables with one learning rate, in
        torch's multi-tensor (`_foreach_`) ops.

        Only on torch, which runs every Keras op eagerly from Python: the
        per-variable `update_step` (some 15 ops each) cost 0.19 s of a
        3-second ELECTRA-small pre-training step (402 variables;
        `cProfile`). Keras' own torch optimizers (`TorchParallelOptimizer`)
        avoid that the same way. The arithmetic is `update_step`'s; where
        torch fuses a multiply into an add, the result may differ in the
        last bit (the optimizer and step-parity tests hold at their
        tolerances).
        """
        import torch

        dtype = variables[0].dtype
        lr = ops.cast(learning_rate, dtype)
        params = [v.value for v in variables]
        indices = [self._get_variable_index(v) for v in variables]
        m = [self._momentums[i].value for i in indices]
        v = [self._velocities[i].value for i in indices]
        g = [ops.cast(grad, dtype) for grad in grads]
        with torch.no_grad():
            torch._foreach_mul_(m, self.beta_1)
            torch._foreach_add_(m, g, alpha=1.0 - self.beta_1)
            torch._foreach_mul_(v, self.beta_2)
            torch._foreach_addcmul_(v, g, g, value=1.0 - self.beta_2)
            m_hat, v_hat = m, v
            if self.bias_correction:
                t = ops.cast(self.iterations + 1, dtype)
                beta_1 = ops.cast(self.beta_1, dtype)
                beta_2 = ops.cast(self.beta_2, dtype)
                m_hat = torch._foreach_div(m, 1.0 - ops.power(beta_1, t))
                v_hat = torch._foreach_div(v, 1.0 - ops.power(beta_2, t))
            denominator = torch._foreach_sqrt(v_hat)
            torch._foreach_add_(denominator, self.epsilon)
            updates = torch._foreach_div(m_hat, denominator)
            decaying = [
                i for i, var in enumerate(variables) if self.uses_weight_decay(var)
            ]
            if decaying:
                torch._foreach_add_(
                    [updates[i] for i in decaying],
                    [params[i] for i in decaying],
                    alpha=self.weight_decay_rate,
                )
            torch._foreach_mul_(updates, lr)
            torch._foreach_sub_(params, updates)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(gradient, dtype)
        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        # `1 - beta` in Python (as Google's code does): in float32,
        # 1 - 0.999 is off by 1e-5 (relative), which shows in `v`.
        one_minus_beta_1 = ops.cast(1.0 - self.beta_1, dtype)
        one_minus_beta_2 = ops.cast(1.0 - self.beta_2, dtype)
        self.assign(m, beta_1 * m + one_minus_beta_1 * g)
        self.assign(v, beta_2 * v + one_minus_beta_2 * ops.square(g))
        m_hat, v_hat = m, v
        if self.bias_correction:
            t = ops.cast(self.iterations + 1, dtype)
            m_hat = m / (1.0 - ops.power(beta_1, t))
            v_hat = v / (1.0 - ops.power(beta_2, t))
        update = m_hat / (ops.sqrt(v_hat) + ops.cast(self.epsilon, dtype))
        if self.uses_weight_decay(variable):
            update = update + ops.cast(self.weight_decay_rate, dtype) * variable
        self.assign_sub(variable, lr * update)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "weight_decay_rate": self.weight_decay_rate,
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "exclude_from_weight_decay": list(
                    self.exclude_from_weight_decay_patterns
                ),
                "bias_correction": self.bias_correction,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraAdamW(LayerwiseLearningRateMixin, AdamWeightDecay):
    """Google's `AdamWeightDecayOptimizer`, with per-variable learning rates.

    For each variable, with `lr` scaled by the variable's multiplier:
    ```
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g ** 2
    update = m / (sqrt(v) + epsilon)            # no bias correction
    update += weight_decay_rate * w             # unless excluded
    w -= lr * update
    ```
    With `bias_correction=True`, `m` and `v` are divided by
    `1 - beta ** t` first: this is exactly `torch.optim.AdamW`.

    Args:
        learning_rate: float or `LearningRateSchedule` (see
            `ElectraLearningRateSchedule`).
        weight_decay_rate: float. Decoupled weight decay (Google: 0.01).
        beta_1, beta_2, epsilon: Adam's constants (Google: 0.9, 0.999, 1e-6).
        exclude_from_weight_decay: substrings of variable paths that get no
            weight decay (Google: LayerNorm and biases).
        bias_correction: bool. `False` as in Google's code; `True` as in
            `torch.optim.AdamW`.
        lr_multipliers: dict of variable path -> learning-rate multiplier
            (see `layerwise_lr_multipliers`). Without it every variable
            trains at the learning rate (as in pre-training).
        default_lr_multiplier: float or `None`. The multiplier of variables
            missing from `lr_multipliers`; `None` makes them an error.
        global_clipnorm: float. Gradient clipping by global norm (Google:
            1.0). Other `keras.optimizers.Optimizer` arguments pass through.

    Example:
    ```python
    optimizer = ElectraAdamW(
        learning_rate=ElectraLearningRateSchedule(1e-4, num_train_steps=1000,
                                                  warmup_proportion=0.1),
        lr_multipliers=layerwise_lr_multipliers(classifier, decay=0.8),
    )
    classifier.compile(optimizer=optimizer)
    ```
    """

    def __init__(self, *args, name="electra_adamw", **kwargs):
        super().__init__(*args, name=name, **kwargs)


def _layerwise_class(base):
    cls = type(
        f"Layerwise{base.__name__}",
        (LayerwiseLearningRateMixin, base),
        {
            "__doc__": (
                f"`keras.optimizers.{base.__name__}` with one learning-rate "
                "multiplier per variable (see `LayerwiseLearningRateMixin`)."
            ),
            "__module__": __name__,
        },
    )
    return keras.saving.register_keras_serializable(package="keras_electra")(
        cls
    )


# Keras optimizers whose `update_step` takes the learning rate it is given.
LayerwiseSGD = _layerwise_class(keras.optimizers.SGD)
LayerwiseAdam = _layerwise_class(keras.optimizers.Adam)
LayerwiseAdamW = _layerwise_class(keras.optimizers.AdamW)
LAYERWISE_OPTIMIZERS = {
    "SGD": LayerwiseSGD,
    "Adam": LayerwiseAdam,
    "AdamW": LayerwiseAdamW,
    "ElectraAdamW": ElectraAdamW,
}


def with_layerwise_lr_decay(optimizer, model, decay=None):
    """A copy of `optimizer` with Google's layer-wise learning rates.

    Args:
        optimizer: a `keras.optimizers.SGD`, `Adam`, `AdamW` or
            `ElectraAdamW` (not yet built).
        model: the ELECTRA task or backbone it will train.
        decay: float. The layer-wise decay; defaults to 0.8 (0.9 for large).

    Returns:
        A new optimizer with the same configuration whose variables train
        with `lr * decay ** (num_layers + 2 - depth)`.

    Example:
    ```python
    optimizer = with_layerwise_lr_decay(keras.optimizers.AdamW(1e-4), model)
    model.compile(optimizer=optimizer, loss=...)
    ```
    """
    name = None
    for cls in type(optimizer).__mro__:
        if cls.__name__ in LAYERWISE_OPTIMIZERS:
            name = cls.__name__
            break
    if name is None:
        raise ValueError(
            "Layer-wise learning rates are available for "
            f"{', '.join(sorted(LAYERWISE_OPTIMIZERS))}. Received: "
            f"{type(optimizer).__name__}."
        )
    config = optimizer.get_config()
    config.pop("lr_multipliers", None)
    config.pop("default_lr_multiplier", None)
    config["learning_rate"] = optimizer._learning_rate
    if isinstance(optimizer._learning_rate, keras.Variable):
        config["learning_rate"] = float(
            ops.convert_to_numpy(optimizer._learning_rate)
        )
    return LAYERWISE_OPTIMIZERS[name](
        lr_multipliers=layerwise_lr_multipliers(model, decay), **config
    )


def create_optimizer(
    model,
    learning_rate=None,
    num_train_steps=None,
    warmup_proportion=DEFAULT_WARMUP_PROPORTION,
    warmup_steps=0,
    weight_decay_rate=DEFAULT_WEIGHT_DECAY_RATE,
    layerwise_lr_decay=None,
    clip_norm=1.0,
    bias_correction=False,
):
    """Google's fine-tuning optimizer for `model`.

    `ElectraAdamW` with layer-wise learning rates, gradient clipping and,
    when `num_train_steps` is given, warm-up plus linear decay.

    Args:
        model: the ELECTRA task (or backbone) to train.
        learning_rate: peak learning rate; 1e-4 (5e-5 for large) by default.
        num_train_steps: int or `None`. Total steps; `None` keeps the
            learning rate constant.
        warmup_proportion: float. Share of steps spent warming up.
        warmup_steps: int. Minimum number of warm-up steps.
        weight_decay_rate: float. Decoupled weight decay.
        layerwise_lr_decay: float. Per-layer decay; 0.8 (0.9 for large) by
            default, 1.0 turns it off.
        clip_norm: float or `None`. Global-norm gradient clipping.
        bias_correction: bool. Adam bias correction (Google: no).
    """
    if learning_rate is None:
        learning_rate = default_learning_rate(model)
    if num_train_steps is not None:
        learning_rate = ElectraLearningRateSchedule(
            learning_rate,
            num_train_steps,
            warmup_steps=warmup_steps,
            warmup_proportion=warmup_proportion,
        )
    return ElectraAdamW(
        learning_rate=learning_rate,
        weight_decay_rate=weight_decay_rate,
        lr_multipliers=layerwise_lr_multipliers(model, layerwise_lr_decay),
        global_clipnorm=clip_norm,
        bias_correction=bias_correction,
    )
