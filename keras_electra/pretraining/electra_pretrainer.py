import contextlib
import os
import random
import warnings

import keras
import numpy as np
from keras import ops
# Private: how Keras scales a loss under a distribution strategy, and the
# scope that keeps it from tracking attributes; no public alias (Keras 3.15).
from keras.src.losses.loss import scale_loss_for_distribution
from keras.src.utils.tracking import DotNotTrackScope
from keras_hub.models import Task

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_discriminator import ElectraDiscriminator
from keras_electra.models.electra_masked_lm import ElectraMaskedLM
from keras_electra.models.electra_masked_lm_preprocessor import (
    ElectraMaskedLMPreprocessor,
)
from keras_electra.models.electra_text_classifier_preprocessor import (
    ElectraTextClassifierPreprocessor,
)
from keras_electra.optimizers.optimization import ElectraAdamW
from keras_electra.optimizers.optimization import ElectraLearningRateSchedule
from keras_electra.presets import DISCRIMINATOR
from keras_electra.presets import GENERATOR
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.pretraining import pair_preset
from keras_electra.pretraining.masking import DEFAULT_MASK_PROBABILITY
from keras_electra.pretraining.replaced_token_detection_layer import (
    ReplacedTokenDetection,
)
from keras_electra.pretraining.replaced_token_detection_layer import (
    check_objective,
)
from keras_electra.pretraining.replaced_token_detection_layer import (
    tie_generator_head,
)
from keras_electra.pretraining.torch_parameters import (
    register_torch_parameters,
)
from keras_electra.utils.input_validation import InputValidatingMixin
from keras_electra.utils.optimizer_build import OptimizerBuildMixin

# The embedding settings the generator must share with the discriminator.
SHARED_EMBEDDING_CONFIG = (
    "vocabulary_size",
    "embedding_dim",
    "max_sequence_length",
    "num_segments",
)


def generator_backbone_for(
    discriminator_backbone, hidden_fraction=0.25, layers_fraction=1.0
):
    """An ELECTRA generator backbone sized from its discriminator.

    Google's `get_generator_config`: hidden size `round(hidden *
    hidden_fraction)`, `max(1, hidden // 64)` heads, a feedforward 4 times
    the hidden size, `round(layers * layers_fraction)` layers, and the
    discriminator's embedding size (the embeddings are shared).
    """
    d = discriminator_backbone
    hidden_dim = int(round(d.hidden_dim * hidden_fraction))
    num_layers = int(round(d.num_layers * layers_fraction))
    if hidden_dim < 1 or num_layers < 1:
        raise ValueError(
            "The generator would have no hidden units or no layers: "
            f"hidden_fraction={hidden_fraction} of {d.hidden_dim} and "
            f"layers_fraction={layers_fraction} of {d.num_layers}."
        )
    return ElectraBackbone(
        vocabulary_size=d.vocabulary_size,
        num_layers=num_layers,
        num_heads=max(1, hidden_dim // 64),
        hidden_dim=hidden_dim,
        embedding_dim=d.embedding_dim,
        intermediate_dim=4 * hidden_dim,
        dropout=d.dropout,
        max_sequence_length=d.max_sequence_length,
        num_segments=d.num_segments,
        dtype=d.dtype_policy,
        name="generator_backbone",
    )


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraPretrainer(
    PresetResolvingMixin, InputValidatingMixin, OptimizerBuildMixin, Task
):
    """ELECTRA pre-training by replaced token detection, with `fit()`.

    Trains a generator (a small masked language model) and a discriminator
    together, as in [Clark et al., 2020](https://arxiv.org/abs/2003.10555)
    and Google's `run_pretraining.py`. Each training step
    (`replaced_token_detection`):

    1. **mask**: choose 15% of the tokens, put `[MASK]` on 85% of them
       (`keras_electra.pretraining.mask_tokens`);
    2. **generator**: predict the original tokens at the chosen positions;
    3. **sample**: replace every chosen token by a sample from the
       generator (Gumbel-max on float32 logits, no gradient through it);
    4. **discriminator**: say for every token whether it was replaced;
    5. **loss**: generator cross-entropy + `discriminator_weight` x
       discriminator sigmoid cross-entropy.

    The generator and the discriminator share one set of word, position
    and segment embeddings and the embedding LayerNorm: the
    discriminator's `ElectraEmbedding` feeds both transformer stacks, and
    the generator's output layer is tied to its word table. The generator's
    own embedding layer is frozen and unused while pre-training;
    `save_generator_preset` writes the shared values into it.

    With `tie_all_weights=True` (the paper's section 3.2, "tying all
    weights") the generator is the discriminator's own backbone plus a
    masked-LM head: one transformer stack, trained by both losses (the
    generator's own embedding layer above is then the shared one, and
    trains). With a generator as large as the discriminator the paper
    found it about as good as tying the embeddings only (GLUE 84.4 vs
    84.3, none tied: 83.6); Google's released models tie only the
    embeddings, because a smaller generator works better for the same
    compute.

    `objective="mlm"` trains by masked-LM alone instead (BERT's objective,
    the baseline of the paper's comparisons): the same masking and the
    same generator loss (`ReplacedTokenDetection.generator_step`), with no
    sampling and no discriminator loss. The masked-LM head then sits on the
    discriminator's own network (all weights tied), so that the network
    trained is the one saved by `save_discriminator_preset` for
    fine-tuning; `fit()` shows the generator's metrics only.

    Masking and sampling draw from a seed generator owned by the model, so
    every step (and every `tf.distribute` replica) gets fresh noise, the run
    is reproducible from `seed`, and the state is checkpointed with the
    model (`keras_electra.pretraining.PretrainingCheckpoint`).

    Inputs are packed batches: a dict with `"token_ids"`, `"segment_ids"`
    and `"padding_mask"` (see `keras_electra.pretraining.PretrainingData`).

    Args:
        discriminator: A `keras_electra.ElectraDiscriminator`, or an
            `ElectraBackbone` (a discriminator head is added).
        generator: A `keras_electra.ElectraMaskedLM`, an `ElectraBackbone`
            (a masked-LM head is added), or `None` to build one from
            `generator_hidden_fraction` and `generator_layers_fraction`
            (or, with `tie_all_weights`, from the discriminator's backbone).
        tokenizer: A `keras_electra.ElectraTokenizer`. Defaults to the
            tokenizer of the discriminator's or generator's preprocessor.
            Gives the special token ids, and is saved with the presets.
        generator_hidden_fraction: float. Generator hidden size as a share
            of the discriminator's (Google: 0.25 small/large, 1/3 base).
        generator_layers_fraction: float. Generator depth as a share of the
            discriminator's (Google: 1.0).
        mask_probability: float. Share of tokens to mask (0.15; Google uses
            0.25 for ELECTRA-large).
        max_predictions_per_seq: int. Most masked positions per sequence.
            Defaults to Google's `int((mask_probability + 0.005) * seq)`.
        discriminator_weight: float. Weight of the discriminator loss (50).
        temperature: float. Sampling temperature of the generator.
        seed: int. Seed of masking and sampling.
        tie_all_weights: bool. Share the whole backbone between generator
            and discriminator (not only the embeddings). A given
            `generator` must then be built on the discriminator's backbone,
            e.g. `ElectraMaskedLM(discriminator_backbone)`, which is tied
            even without this flag.
        objective: `"rtd"` (replaced token detection, the default) or
            `"mlm"` (masked-LM alone on the discriminator's network; a
            given `generator` must then be built on the discriminator's
            backbone).

    Example:
    ```python
    discriminator = keras_electra.ElectraBackbone(
        vocabulary_size=30522, num_layers=12, num_heads=4, hidden_dim=256,
        embedding_dim=128, max_sequence_length=128,
    )
    pretrainer = keras_electra.ElectraPretrainer(
        discriminator, tokenizer=tokenizer, seed=0
    )
    pretrainer.compile(learning_rate=5e-4, num_train_steps=1_000_000)
    pretrainer.fit(data.dataset(), steps_per_epoch=1000, epochs=1000)
    pretrainer.save_discriminator_preset("electra_small_discriminator")
    ```
    """

    backbone_cls = ElectraBackbone

    def __init__(
        self,
        discriminator,
        generator=None,
        tokenizer=None,
        generator_hidden_fraction=0.25,
        generator_layers_fraction=1.0,
        mask_probability=DEFAULT_MASK_PROBABILITY,
        max_predictions_per_seq=None,
        discriminator_weight=50.0,
        temperature=1.0,
        seed=None,
        tie_all_weights=False,
        objective="rtd",
        **kwargs,
    ):
        check_objective(objective)
        if objective == "mlm" and generator is None:
            # Masked-LM trains the network that fine-tuning uses.
            tie_all_weights = True
        if isinstance(discriminator, ElectraBackbone):
            discriminator = ElectraDiscriminator(discriminator)
        if not isinstance(discriminator, ElectraDiscriminator):
            raise ValueError(
                "`discriminator` must be an `ElectraDiscriminator` or an "
                f"`ElectraBackbone`. Received: {type(discriminator).__name__}"
            )
        if generator is None and tie_all_weights:
            generator = ElectraMaskedLM(discriminator.backbone)
        if generator is None:
            generator = generator_backbone_for(
                discriminator.backbone,
                generator_hidden_fraction,
                generator_layers_fraction,
            )
        if isinstance(generator, ElectraBackbone):
            generator = ElectraMaskedLM(generator)
        if not isinstance(generator, ElectraMaskedLM):
            raise ValueError(
                "`generator` must be an `ElectraMaskedLM`, an "
                f"`ElectraBackbone` or None. Received: "
                f"{type(generator).__name__}"
            )
        if objective == "mlm" and generator.backbone is not discriminator.backbone:
            raise ValueError(
                "`objective='mlm'` trains the discriminator's network by "
                "masked-LM, but the given `generator` has a backbone of its "
                "own. Pass `generator=None`, "
                "`ElectraMaskedLM(discriminator_backbone)`, or a pair saved "
                "with all weights tied."
            )
        if tie_all_weights and generator.backbone is not discriminator.backbone:
            raise ValueError(
                "`tie_all_weights=True` shares the discriminator's backbone "
                "with the generator, but the given `generator` has a backbone "
                "of its own. Pass `generator=None`, or "
                "`ElectraMaskedLM(discriminator_backbone)`."
            )
        _check_shared_embeddings(discriminator.backbone, generator.backbone)
        tokenizer = tokenizer or _tokenizer_of(discriminator, generator)
        if tokenizer is None:
            raise ValueError(
                "`ElectraPretrainer` needs a `tokenizer` (the ids of [MASK], "
                "[CLS], [SEP] and [PAD]); pass `tokenizer=` or models with "
                "preprocessors (e.g. from `from_preset`)."
            )
        vocabulary_size = discriminator.backbone.vocabulary_size
        if tokenizer.vocabulary_size() != vocabulary_size:
            raise ValueError(
                f"The tokenizer has {tokenizer.vocabulary_size()} tokens but "
                f"the models' `vocabulary_size` is {vocabulary_size}."
            )
        if not 0.0 < mask_probability < 1.0:
            raise ValueError(
                "`mask_probability` must be in (0, 1). Received: "
                f"{mask_probability}"
            )
        if temperature <= 0:
            raise ValueError(
                f"`temperature` must be positive. Received: {temperature}"
            )
        if seed is None:
            seed = random.randint(1, 2**30)

        # === Layers ===
        self.backbone = discriminator.backbone
        self.preprocessor = None
        # Configuration (special ids, saved with the presets), not a layer
        # of the network: untracked, so that Keras does not wait for it to
        # be built.
        with DotNotTrackScope():
            self._tokenizer = tokenizer
        self.replaced_token_detection_layer = ReplacedTokenDetection(
            generator=generator,
            discriminator=discriminator,
            mask_token_id=tokenizer.mask_token_id,
            special_token_ids=(
                tokenizer.cls_token_id,
                tokenizer.sep_token_id,
                tokenizer.mask_token_id,
                tokenizer.pad_token_id,
            ),
            mask_probability=mask_probability,
            max_predictions_per_seq=max_predictions_per_seq,
            discriminator_weight=discriminator_weight,
            temperature=temperature,
            seed=seed,
            objective=objective,
            dtype=discriminator.backbone.dtype_policy,
            name="replaced_token_detection",
        )

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        outputs = self.replaced_token_detection_layer(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        register_torch_parameters(self)  # a no-op but on torch

        # Metrics shown by `fit()` (Google's `metric_fn`); created after
        # `__init__` so that every backend tracks them.
        self.generator_loss_tracker = keras.metrics.Mean("generator_loss")
        self.generator_accuracy = keras.metrics.Mean("generator_accuracy")
        if objective == "rtd":  # masked-LM alone has no discriminator
            self.discriminator_loss_tracker = keras.metrics.Mean(
                "discriminator_loss"
            )
            self.discriminator_accuracy = keras.metrics.Mean(
                "discriminator_accuracy"
            )
            self.discriminator_precision = keras.metrics.Mean(
                "discriminator_precision"
            )
            self.discriminator_recall = keras.metrics.Mean(
                "discriminator_recall"
            )

        # === Config ===
        self.generator_hidden_fraction = generator_hidden_fraction
        self.generator_layers_fraction = generator_layers_fraction
        self.mask_probability = mask_probability
        self.max_predictions_per_seq = max_predictions_per_seq
        self.discriminator_weight = discriminator_weight
        self.temperature = temperature
        self.seed = seed
        self.objective = objective

    @property
    def tokenizer(self):
        """The `ElectraTokenizer` (special token ids; saved with presets)."""
        return self._tokenizer

    @property
    def generator(self):
        """The generator, an `ElectraMaskedLM`."""
        return self.replaced_token_detection_layer.generator

    @property
    def tie_all_weights(self):
        """Whether the generator runs on the discriminator's own backbone."""
        return self.generator.backbone is self.backbone

    @property
    def discriminator(self):
        """The discriminator, an `ElectraDiscriminator`."""
        return self.replaced_token_detection_layer.discriminator

    @property
    def embeddings(self):
        """The `ElectraEmbedding` shared by generator and discriminator."""
        return self.replaced_token_detection_layer.embeddings

    @property
    def seed_generator(self):
        """The seed generator of masking and sampling."""
        return self.replaced_token_detection_layer.seed_generator

    def replaced_token_detection(self, inputs, masked, noise, training=False):
        """One RTD step with given masking and noise (see
        `ReplacedTokenDetection.step`)."""
        return self.replaced_token_detection_layer.step(
            inputs, masked, noise, training=training
        )

    def mask(self, inputs, seed=None):
        """Random masking of a batch, as the training step does it; `seed`
        (a `keras.random.SeedGenerator`) replaces the pretrainer's own."""
        return self.replaced_token_detection_layer.mask(inputs, seed=seed)

    # === Training with `fit()` ===

    def compile(
        self,
        optimizer="auto",
        learning_rate=5e-4,
        num_train_steps=1_000_000,
        warmup_steps=10_000,
        weight_decay_rate=0.01,
        **kwargs,
    ):
        """Compile with ELECTRA's optimizer by default.

        `optimizer="auto"` is Google's: `ElectraAdamW` (no bias correction,
        weight decay 0.01 except LayerNorm and biases, gradients clipped to
        global norm 1) with linear warmup and linear decay to 0 at
        `num_train_steps` (`ElectraLearningRateSchedule`). The defaults are
        ELECTRA-small's; Google uses 2e-4 for base and large.

        Args:
            optimizer: `"auto"` or any Keras optimizer.
            learning_rate: float. Peak learning rate (`"auto"` only).
            num_train_steps: int. Where the learning rate reaches 0.
            warmup_steps: int. Steps of linear warmup.
            weight_decay_rate: float.
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`).
        """
        if optimizer == "auto":
            optimizer = ElectraAdamW(
                learning_rate=ElectraLearningRateSchedule(
                    learning_rate,
                    num_train_steps=num_train_steps,
                    warmup_steps=warmup_steps,
                ),
                weight_decay_rate=weight_decay_rate,
            )
        if kwargs.get("loss") is not None:
            raise ValueError(
                "`ElectraPretrainer` computes its own loss; do not pass "
                "`loss` to `compile()`."
            )
        super().compile(optimizer=optimizer, **kwargs)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        loss = y_pred["loss"]
        for extra in self.losses:
            loss = loss + ops.sum(ops.cast(extra, loss.dtype))
        # What Keras does to its own losses: under `tf.distribute`, divide by
        # the number of replicas, so that the summed replica gradients are
        # the gradient of the mean (fit reports the loss unscaled). A no-op
        # on other backends and without a strategy.
        return scale_loss_for_distribution(loss)

    @property
    def metrics(self):
        # The generator and discriminator are Keras models compiled on their
        # own; their trackers are not the pre-training metrics.
        nested = set()
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, keras.Model):
                nested.update(id(metric) for metric in layer.metrics)
        return [m for m in super().metrics if id(m) not in nested]

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        def flat(t):
            return ops.reshape(ops.cast(t, "float32"), (-1,))

        self.generator_loss_tracker.update_state(y_pred["generator_loss"])
        generator_correct = ops.equal(
            ops.cast(y_pred["generator_predictions"], "int32"),
            ops.cast(y_pred["mask_ids"], "int32"),
        )
        self.generator_accuracy.update_state(
            flat(generator_correct), sample_weight=flat(y_pred["mask_weights"])
        )
        if self.objective == "mlm":
            return self.get_metrics_result()
        self.discriminator_loss_tracker.update_state(
            y_pred["discriminator_loss"]
        )
        replaced = flat(y_pred["replaced"])
        predicted = flat(y_pred["discriminator_logits"] > 0)
        real = flat(x["padding_mask"])
        correct = flat(ops.equal(predicted, replaced))
        self.discriminator_accuracy.update_state(correct, sample_weight=real)
        self.discriminator_precision.update_state(
            correct, sample_weight=predicted * real
        )
        self.discriminator_recall.update_state(
            correct, sample_weight=replaced * real
        )
        return self.get_metrics_result()

    # === Presets ===

    @classmethod
    def from_preset(
        cls, preset, generator_preset=None, load_weights=True, **kwargs
    ):
        """Load a generator + discriminator pair for continued pre-training.

        `preset` is one of:
        - a directory written by `save_to_preset` (or
          `tools/convert_checkpoint.py`), holding `discriminator/` and
          `generator/` presets;
        - a discriminator preset (any form `ElectraDiscriminator.from_preset`
          accepts), with `generator_preset` the matching generator. For a
          built-in discriminator name (`electra_small_discriminator_en`)
          the generator defaults to its pair (`electra_small_generator_en`).

        Args:
            preset: the pair directory or the discriminator preset.
            generator_preset: the generator preset (`ElectraMaskedLM`).
            load_weights: bool. Load the weights or initialize at random.
            **kwargs: `ElectraPretrainer` arguments (`seed`, ...). A pair
                saved with all weights tied loads tied again (one backbone
                and the generator's head); `tie_all_weights=False` loads
                it as two separate networks instead.

        Example:
        ```python
        pretrainer = keras_electra.ElectraPretrainer.from_preset(
            "electra_small_discriminator_en", seed=0
        )
        ```
        """
        saved_tied = generator_preset is None and (
            pair_preset.read_pair_description(preset).get(
                "tied_all_weights", False
            )
        )
        tie_all_weights = kwargs.pop("tie_all_weights", None)
        if tie_all_weights is None:
            tie_all_weights = saved_tied
        if tie_all_weights and not saved_tied:
            raise ValueError(
                f"`tie_all_weights=True`, but {preset!r} is not a pair saved "
                "with all weights tied (`ElectraPretrainer.save_to_preset` "
                "of a tied pretrainer): its generator has a backbone of its "
                "own."
            )
        discriminator_preset, generator_preset = pair_preset.pair_presets(
            preset, generator_preset
        )
        discriminator = ElectraDiscriminator.from_preset(
            discriminator_preset, load_weights=load_weights
        )
        generator = ElectraMaskedLM.from_preset(
            generator_preset, load_weights=load_weights
        )
        if load_weights:
            _warn_if_embeddings_differ(discriminator, generator)
        if tie_all_weights:
            generator = _retied_generator(generator, discriminator.backbone)
        return cls(discriminator=discriminator, generator=generator, **kwargs)

    def save_to_preset(self, preset_dir, max_shard_size=10):
        """Save both networks: `preset_dir/discriminator` and `/generator`.

        `ElectraPretrainer.from_preset(preset_dir)` loads the pair back.
        """
        self.save_discriminator_preset(
            os.path.join(preset_dir, DISCRIMINATOR), max_shard_size
        )
        self.save_generator_preset(
            os.path.join(preset_dir, GENERATOR), max_shard_size
        )
        pair_preset.write_pair_description(
            preset_dir,
            tied_embeddings=True,
            tied_all_weights=self.tie_all_weights,
            global_step=int(ops.convert_to_numpy(self.optimizer.iterations))
            if self.optimizer is not None
            else 0,
        )

    def save_discriminator_preset(self, preset_dir, max_shard_size=10):
        """Save the discriminator as an `ElectraDiscriminator` preset.

        Loads with `ElectraDiscriminator.from_preset`,
        `ElectraBackbone.from_preset` and, for fine-tuning, the task
        classes (`ElectraClassifier.from_preset(preset_dir, num_classes=)`).
        """
        discriminator = self.discriminator
        if discriminator.preprocessor is None:
            discriminator.preprocessor = ElectraTextClassifierPreprocessor(
                self.tokenizer,
                sequence_length=min(512, self.backbone.max_sequence_length),
            )
        discriminator.save_to_preset(preset_dir, max_shard_size=max_shard_size)

    def save_generator_preset(self, preset_dir, max_shard_size=10):
        """Save the generator as an `ElectraMaskedLM` preset.

        The shared embeddings are first copied into the generator's own
        embedding layer, so the preset stands alone.
        """
        generator = self.generator
        own = generator.backbone.embeddings
        for source, target in zip(self.embeddings.weights, own.weights):
            target.assign(source)
        if generator.preprocessor is None:
            generator.preprocessor = ElectraMaskedLMPreprocessor(
                self.tokenizer,
                sequence_length=min(512, self.backbone.max_sequence_length),
            )
        with self._generator_head_tied_to(own.token_embedding):
            generator.save_to_preset(preset_dir, max_shard_size=max_shard_size)

    @contextlib.contextmanager
    def _generator_head_tied_to(self, token_embedding):
        tie_generator_head(self.generator, token_embedding)
        try:
            yield
        finally:
            tie_generator_head(self.generator, self.embeddings.token_embedding)

    def get_config(self):
        # keras-hub keeps a tokenizer's vocabulary in assets, not in its
        # config; the pretrainer needs it at construction (special ids).
        tokenizer = keras.layers.serialize(self.tokenizer)
        tokenizer["config"]["vocabulary"] = self.tokenizer.get_vocabulary()
        return {
            "discriminator": keras.layers.serialize(self.discriminator),
            # Tied: rebuilt on the discriminator's backbone (a serialized
            # generator would come back with a backbone of its own).
            "generator": None
            if self.tie_all_weights
            else keras.layers.serialize(self.generator),
            "tie_all_weights": self.tie_all_weights,
            "tokenizer": tokenizer,
            "generator_hidden_fraction": self.generator_hidden_fraction,
            "generator_layers_fraction": self.generator_layers_fraction,
            "mask_probability": self.mask_probability,
            "max_predictions_per_seq": self.max_predictions_per_seq,
            "discriminator_weight": self.discriminator_weight,
            "temperature": self.temperature,
            "seed": self.seed,
            "objective": self.objective,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("discriminator", "generator", "tokenizer"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        return cls(**config)


def _check_shared_embeddings(discriminator_backbone, generator_backbone):
    mismatched = [
        f"{key}: discriminator {getattr(discriminator_backbone, key)}, "
        f"generator {getattr(generator_backbone, key)}"
        for key in SHARED_EMBEDDING_CONFIG
        if getattr(discriminator_backbone, key)
        != getattr(generator_backbone, key)
    ]
    if mismatched:
        raise ValueError(
            "The generator and the discriminator share their embeddings, so "
            "these settings must be equal: " + "; ".join(mismatched)
        )


def _tokenizer_of(*tasks):
    for task in tasks:
        preprocessor = getattr(task, "preprocessor", None)
        if preprocessor is not None and getattr(preprocessor, "tokenizer", None):
            return preprocessor.tokenizer
    return None


def _retied_generator(generator, backbone):
    """`generator`'s head on `backbone`: a tied pair's saved generator is a
    copy of the discriminator's backbone plus this head."""
    tied = ElectraMaskedLM(backbone, preprocessor=generator.preprocessor)
    head = tied.masked_lm_head
    for source, target in zip(generator.masked_lm_head.weights, head.weights):
        # The word table is the backbone's, already loaded.
        if target is not head.token_embedding.embeddings:
            target.assign(source)
    return tied


def _warn_if_embeddings_differ(discriminator, generator):
    shared = discriminator.backbone.embeddings.weights
    own = generator.backbone.embeddings.weights
    differ = any(
        not np.allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
        for a, b in zip(shared, own)
    )
    if differ:
        warnings.warn(
            "The generator's embeddings differ from the discriminator's. "
            "ELECTRA shares them; pre-training continues with the "
            "discriminator's.",
            stacklevel=3,
        )
