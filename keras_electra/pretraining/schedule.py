import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraLearningRateSchedule(
    keras.optimizers.schedules.LearningRateSchedule
):
    """Linear warmup times polynomial (linear) decay, from step 0.

    Google's `optimization.create_optimizer`:

        lr(step) = learning_rate
                   * (1 - min(step, num_train_steps) / num_train_steps) ** power
                   * min(1, step / warmup_steps)

    so the rate is 0 at step 0, rises linearly to (nearly) `learning_rate`
    at `warmup_steps`, and decays to 0 at `num_train_steps`. With
    `warmup_steps=0` there is no warmup factor.

    Args:
        learning_rate: float. The peak learning rate.
        num_train_steps: int. The step at which the rate reaches 0.
        warmup_steps: int. Steps of linear warmup (Google: 10000).
        power: float. Power of the decay (Google's `lr_decay_power`, 1).

    Example:
    ```python
    schedule = ElectraLearningRateSchedule(
        5e-4, num_train_steps=1_000_000, warmup_steps=10_000
    )
    optimizer = keras_electra.pretraining.ElectraAdamW(schedule)
    ```
    """

    def __init__(self, learning_rate, num_train_steps, warmup_steps=0, power=1.0):
        if num_train_steps <= 0:
            raise ValueError(
                "`num_train_steps` must be positive. Received: "
                f"{num_train_steps}"
            )
        if warmup_steps < 0:
            raise ValueError(
                f"`warmup_steps` must be >= 0. Received: {warmup_steps}"
            )
        self.learning_rate = learning_rate
        self.num_train_steps = num_train_steps
        self.warmup_steps = warmup_steps
        self.power = power

    def __call__(self, step):
        step = ops.cast(step, "float32")
        progress = ops.minimum(step, self.num_train_steps) / self.num_train_steps
        rate = self.learning_rate * ops.power(1.0 - progress, self.power)
        if self.warmup_steps > 0:
            rate = rate * ops.minimum(1.0, step / self.warmup_steps)
        return rate

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "num_train_steps": self.num_train_steps,
            "warmup_steps": self.warmup_steps,
            "power": self.power,
        }
