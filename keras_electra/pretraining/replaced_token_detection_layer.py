import keras
from keras import ops

from keras_electra.losses.replaced_token_loss import discriminator_loss
from keras_electra.pretraining.masking import DEFAULT_MASK_PROBABILITY
from keras_electra.pretraining.masking import mask_tokens
from keras_electra.pretraining.masking import max_predictions_for
from keras_electra.pretraining.replaced_token_detection import generator_loss
from keras_electra.pretraining.replaced_token_detection import gumbel_noise
from keras_electra.pretraining.replaced_token_detection import (
    replace_masked_tokens,
)
from keras_electra.pretraining.replaced_token_detection import (
    sample_from_generator,
)
from keras_electra.pretraining.replica_seed_generator import (
    ReplicaSeedGenerator,
)
from keras_electra.utils.constants import PRETRAINING_OBJECTIVES


@keras.saving.register_keras_serializable(package="keras_electra")
class ReplacedTokenDetection(keras.layers.Layer):
    """ELECTRA's training objective as a layer: mask, generate, discriminate.

    Holds the generator (`ElectraMaskedLM`) and the discriminator
    (`ElectraDiscriminator`), wires them to share one set of embeddings, and
    computes the replaced-token-detection losses of a batch. Used by
    `keras_electra.ElectraPretrainer`; `step` is the whole method.

    With `objective="mlm"` it computes the masked-LM loss alone
    (`masked_lm_step`: the same masking and the same generator half,
    `generator_step`, with no sampling and no discriminator); the
    discriminator outputs are then zeros and its loss 0.

    Embedding sharing: the discriminator's `ElectraEmbedding` (word,
    position and segment tables and the LayerNorm) embeds the generator's
    input too, and the generator's output layer is tied to its word table.
    The generator's own embedding layer is frozen and unused here, unless
    the generator runs on the discriminator's own backbone (all weights
    tied), where it is the shared one.

    Args:
        generator: A `keras_electra.ElectraMaskedLM`.
        discriminator: A `keras_electra.ElectraDiscriminator`.
        mask_token_id: int. The id of `[MASK]`.
        special_token_ids: ints never masked (`[CLS]`, `[SEP]`, `[MASK]`,
            `[PAD]`).
        mask_probability: float. Share of tokens to mask.
        max_predictions_per_seq: int or None (Google's default for the
            sequence length).
        discriminator_weight: float. Weight of the discriminator loss.
        temperature: float. Sampling temperature of the generator.
        seed: int. Seed of the masking and sampling noise.
        objective: `"rtd"` (replaced token detection) or `"mlm"`
            (masked-LM alone).

    Call arguments:
        inputs: dict with `"token_ids"`, `"segment_ids"`, `"padding_mask"`.
        training: bool. Dropout on or off (masking is random either way).
    """

    def __init__(
        self,
        generator,
        discriminator,
        mask_token_id,
        special_token_ids,
        mask_probability=DEFAULT_MASK_PROBABILITY,
        max_predictions_per_seq=None,
        discriminator_weight=50.0,
        temperature=1.0,
        seed=None,
        objective="rtd",
        **kwargs,
    ):
        check_objective(objective)
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        # One set of embeddings for both networks: the discriminator's.
        self.embeddings = discriminator.backbone.embeddings
        if generator.backbone.embeddings is not self.embeddings:
            # The generator's own copy is unused while pre-training. (With
            # all weights tied, the generator's backbone is the
            # discriminator's and these are the shared, trained embeddings.)
            generator.backbone.embeddings.trainable = False
        tie_generator_head(generator, self.embeddings.token_embedding)
        self.seed_generator = ReplicaSeedGenerator(seed)

        self.mask_token_id = int(mask_token_id)
        self.special_token_ids = tuple(int(i) for i in special_token_ids)
        self.mask_probability = mask_probability
        self.max_predictions_per_seq = max_predictions_per_seq
        self.discriminator_weight = discriminator_weight
        self.temperature = temperature
        self.seed = seed
        self.objective = objective

    def build(self, input_shape=None):
        self.built = True  # The generator and discriminator come built.

    def call(self, inputs, training=False):
        masked = self.mask(inputs)
        if self.objective == "mlm":
            return self.masked_lm_step(inputs, masked, training=training)
        batch_size, num_slots = ops.shape(masked["mask_positions"])
        vocabulary_size = self.embeddings.vocabulary_size
        noise = gumbel_noise(
            (batch_size, num_slots, vocabulary_size), seed=self.seed_generator
        )
        return self.step(inputs, masked, noise, training=training)

    def mask(self, inputs, seed=None):
        """Fresh random masking of a batch (`mask_tokens`), from `seed` (a
        `keras.random.SeedGenerator`; default: the layer's own)."""
        token_ids = inputs["token_ids"]
        return mask_tokens(
            token_ids,
            inputs["padding_mask"],
            mask_token_id=self.mask_token_id,
            special_token_ids=self.special_token_ids,
            max_predictions_per_seq=self.num_predictions(token_ids),
            mask_probability=self.mask_probability,
            seed=self.seed_generator if seed is None else seed,
        )

    def num_predictions(self, token_ids):
        """Mask slots per sequence (`N`): as configured or Google's."""
        if self.max_predictions_per_seq is not None:
            return self.max_predictions_per_seq
        sequence_length = ops.shape(token_ids)[1]
        if not isinstance(sequence_length, int):
            raise ValueError(
                "The sequence length of the inputs is not static, so the "
                "number of masked positions cannot be derived from it; pass "
                "`max_predictions_per_seq`."
            )
        return max_predictions_for(sequence_length, self.mask_probability)

    def step(self, inputs, masked, noise, training=False):
        """Replaced token detection: mask -> generator -> sample -> discriminator.

        Deterministic given the masking and the noise, which tests inject.

        Args:
            inputs: dict with the original `"token_ids"`, `"segment_ids"`
                and `"padding_mask"`.
            masked: `mask_tokens(...)` of these inputs.
            noise: `[batch, N, vocab]` Gumbel noise for sampling.
            training: bool. Dropout on or off.

        Returns:
            A dict with `"loss"`, `"generator_loss"`, `"discriminator_loss"`
            and what the metrics need.
        """
        inputs = {k: ops.convert_to_tensor(v) for k, v in inputs.items()}
        masked = {k: ops.convert_to_tensor(v) for k, v in masked.items()}
        segment_ids = inputs["segment_ids"]
        padding_mask = inputs["padding_mask"]

        # Generator: predict the original tokens at the masked positions.
        generator_logits, gen_loss = self.generator_step(
            inputs, masked, training=training
        )

        # Sample: every masked position gets a token from the generator.
        sampled_ids = sample_from_generator(
            generator_logits, noise, self.temperature
        )
        corrupted_ids, replaced = replace_masked_tokens(
            inputs["token_ids"],
            masked["mask_positions"],
            masked["mask_weights"],
            sampled_ids,
        )

        # Discriminator: which tokens were replaced?
        discriminator_logits = self.discriminator(
            {
                "token_ids": corrupted_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            training=training,
        )
        disc_loss = discriminator_loss(
            discriminator_logits, replaced, padding_mask
        )

        # Loss: the paper's L_MLM + lambda * L_Disc.
        loss = gen_loss + self.discriminator_weight * disc_loss
        return _outputs(
            loss, gen_loss, disc_loss, generator_logits, masked,
            corrupted_ids, replaced, discriminator_logits,
        )

    def masked_lm_step(self, inputs, masked, training=False):
        """Masked-LM alone: the generator half of `step` (BERT's loss at
        the masked positions), with no sampling and no discriminator.

        Returns the keys of `step`; the discriminator's are zeros (its
        loss 0, nothing replaced) and `"loss"` is the generator's loss.
        """
        inputs = {k: ops.convert_to_tensor(v) for k, v in inputs.items()}
        masked = {k: ops.convert_to_tensor(v) for k, v in masked.items()}
        generator_logits, gen_loss = self.generator_step(
            inputs, masked, training=training
        )
        zeros = ops.zeros_like(inputs["token_ids"])
        return _outputs(
            gen_loss, gen_loss, ops.zeros_like(gen_loss), generator_logits,
            masked, masked["token_ids"], zeros, zeros,
        )

    def generator_step(self, inputs, masked, training=False):
        """The generator half of both objectives: its logits at the masked
        positions, `[batch, N, vocab]`, and its masked-LM loss (the mean
        cross-entropy over the real masked slots)."""
        logits = self.generator_logits(
            masked["token_ids"],
            inputs["segment_ids"],
            inputs["padding_mask"],
            masked["mask_positions"],
            training=training,
        )
        loss = generator_loss(logits, masked["mask_ids"], masked["mask_weights"])
        return logits, loss

    def generator_logits(
        self, token_ids, segment_ids, padding_mask, mask_positions, training
    ):
        """The generator's logits at `mask_positions`, `[batch, N, vocab]`.

        The shared embeddings feed the generator's own projection and
        transformer stack; its head is tied to the shared word table.
        """
        embedded = self.embeddings(token_ids, segment_ids, training=training)
        hidden = self.generator.backbone.encode(embedded, padding_mask)
        return self.generator.masked_lm_head(hidden, mask_positions)

    def compute_output_spec(self, inputs, training=False):
        batch_size, sequence_length = inputs["token_ids"].shape
        slots = (batch_size, None)
        tokens = (batch_size, sequence_length)

        def spec(shape, dtype):
            return keras.KerasTensor(shape, dtype=dtype)

        return {
            "loss": spec((), "float32"),
            "generator_loss": spec((), "float32"),
            "discriminator_loss": spec((), "float32"),
            "generator_predictions": spec(slots, "int32"),
            "mask_ids": spec(slots, "int32"),
            "mask_weights": spec(slots, "float32"),
            "corrupted_ids": spec(tokens, "int32"),
            "replaced": spec(tokens, "int32"),
            "discriminator_logits": spec(tokens, "float32"),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.layers.serialize(self.generator),
                "discriminator": keras.layers.serialize(self.discriminator),
                "mask_token_id": self.mask_token_id,
                "special_token_ids": list(self.special_token_ids),
                "mask_probability": self.mask_probability,
                "max_predictions_per_seq": self.max_predictions_per_seq,
                "discriminator_weight": self.discriminator_weight,
                "temperature": self.temperature,
                "seed": self.seed,
                "objective": self.objective,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            if isinstance(config.get(key), dict):
                config[key] = keras.layers.deserialize(config[key])
        return cls(**config)


def check_objective(objective):
    """A clear error for an unknown pre-training objective."""
    if objective not in PRETRAINING_OBJECTIVES:
        raise ValueError(
            f"`objective` must be one of {PRETRAINING_OBJECTIVES} (replaced "
            f"token detection, masked-LM alone). Received: {objective!r}"
        )


def _outputs(
    loss, gen_loss, disc_loss, generator_logits, masked, corrupted_ids,
    replaced, discriminator_logits,
):
    """The step's outputs: the losses and what the metrics need."""
    return {
        "loss": loss,
        "generator_loss": gen_loss,
        "discriminator_loss": disc_loss,
        "generator_predictions": ops.cast(
            ops.argmax(generator_logits, axis=-1), "int32"
        ),
        "mask_ids": masked["mask_ids"],
        "mask_weights": masked["mask_weights"],
        "corrupted_ids": corrupted_ids,
        "replaced": replaced,
        "discriminator_logits": ops.cast(discriminator_logits, "float32"),
    }


def tie_generator_head(generator, token_embedding):
    """Point the generator's output layer at `token_embedding`'s table.

    Set without Keras tracking, so that the table stays tracked (and saved)
    once, where it lives.
    """
    object.__setattr__(generator.masked_lm_head, "token_embedding", token_embedding)
