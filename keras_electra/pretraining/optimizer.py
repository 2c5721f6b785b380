import re

import keras
from keras import ops

# Google's `exclude_from_weight_decay`, matched against variable paths
# (`.../self_attention_layer_norm/gamma`, `.../dense/bias`, ...).
NO_DECAY_PATTERNS = ("LayerNorm", "layer_norm", "bias")


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraAdamW(keras.optimizers.Optimizer):
    """ELECTRA's (and BERT's) Adam with decoupled weight decay.

    Google's `AdamWeightDecayOptimizer`, which differs from
    `keras.optimizers.AdamW`: there is **no bias correction**, and the decay
    is added to the Adam update before it is scaled by the learning rate.
    For every variable, with gradient `g` (after global-norm clipping):

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        update = m / (sqrt(v) + epsilon) + weight_decay_rate * w
        w = w - learning_rate * update

    where the decay term is left out for variables whose path matches
    `exclude_from_weight_decay` (LayerNorm and biases). Gradients are
    clipped to global norm `global_clipnorm` (1.0) first, as Google does.

    Args:
        learning_rate: float or `LearningRateSchedule`
            (`ElectraLearningRateSchedule` for Google's schedule).
        weight_decay_rate: float. Google uses 0.01.
        beta_1: float.
        beta_2: float.
        epsilon: float. Google uses 1e-6.
        exclude_from_weight_decay: regular expressions; a variable whose
            `path` matches one gets no weight decay.
        global_clipnorm: float or None. Clip gradients to this global norm.
        **kwargs: other `keras.optimizers.Optimizer` arguments.

    Example:
    ```python
    optimizer = ElectraAdamW(
        ElectraLearningRateSchedule(5e-4, num_train_steps=10_000,
                                    warmup_steps=1_000)
    )
    ```
    """

    def __init__(
        self,
        learning_rate=5e-4,
        weight_decay_rate=0.01,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        exclude_from_weight_decay=NO_DECAY_PATTERNS,
        global_clipnorm=1.0,
        name="electra_adamw",
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
        self._no_decay = (
            re.compile("|".join(self.exclude_from_weight_decay_patterns))
            if self.exclude_from_weight_decay_patterns
            else None
        )

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._v = self.add_optimizer_variables(
            var_list, ["adam_m", "adam_v"]
        )

    def decays(self, variable):
        """Whether `variable` gets weight decay (its path is not excluded)."""
        if not self.weight_decay_rate:
            return False
        path = getattr(variable, "path", variable.name)
        return self._no_decay is None or self._no_decay.search(path) is None

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        m, v = self._m[index], self._v[index]

        next_m = self.beta_1 * m + (1.0 - self.beta_1) * gradient
        next_v = self.beta_2 * v + (1.0 - self.beta_2) * ops.square(gradient)
        update = next_m / (ops.sqrt(next_v) + self.epsilon)
        if self.decays(variable):
            update = update + self.weight_decay_rate * variable
        self.assign(m, next_m)
        self.assign(v, next_v)
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
            }
        )
        return config
