"""ELECTRA's losses: the discriminator's per-token sigmoid cross-entropy."""

from keras_electra.losses.replaced_token_loss import ReplacedTokenLoss
from keras_electra.losses.replaced_token_loss import discriminator_loss
