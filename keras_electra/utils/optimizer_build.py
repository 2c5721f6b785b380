"""Build the optimizer before the first training step is traced."""


class OptimizerBuildMixin:
    """Builds a model's optimizer before its train function is traced.

    Without a distribution strategy, Keras' TensorFlow trainer defers
    building to the first trace of the train step, so the optimizer's
    slots are created inside that `tf.function`, and TensorFlow traces the
    whole step a second time without them. Building the optimizer first
    (as Keras' JAX and torch trainers already do, through their symbolic
    build) leaves one trace: the first ELECTRA-small pre-training and
    fine-tuning calls traced `train_step` twice before this.
    Nothing changes where the optimizer is already built.
    """

    def make_train_function(self, force=False):
        optimizer = getattr(self, "optimizer", None)
        if optimizer is not None and not optimizer.built and self.built:
            optimizer.build(self.trainable_variables)
        return super().make_train_function(force=force)
