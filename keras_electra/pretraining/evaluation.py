"""Held-out replaced-token-detection metrics of a generator + discriminator.

`held_out_rtd_metrics(pretrainer, batches)` masks and corrupts fixed
batches of held-out text exactly as a training step does, with masks and
Gumbel noise drawn from a fixed seed (so two models, or one model before
and after training, are scored on the same draws), and scores:

- `generator_accuracy`: the generator's top-1 accuracy at the masked
  positions;
- `discriminator_auc`: the chance that a replaced token gets a higher
  "replaced" logit than an original one (Mann-Whitney U; 0.5 = no idea,
  1 = perfect). Threshold-free, so it is meaningful even while the
  discriminator rarely says "replaced" with probability above 0.5;
- `frequency_auc`: the same AUC for a judge that sees only how rare each
  piece is among the batches' original tokens (a control: a discriminator
  that only learned "rare = replaced" matches it, no more);
- `context_auc`: the AUC over pairs of the *same* piece, one replaced and
  one original. Any judge that sees only the piece scores exactly 0.5 here,
  so a value above 0.5 means the discriminator uses the context;
- `sampled_original_share`: the share of masked positions whose sample
  is the original token, which the discriminator then sees as "original".
  It follows the generator: about `1 / vocabulary_size` for samples that
  ignore it, the generator's probability of the right token otherwise;
- `discriminator_accuracy`, `replaced_recall`, `replaced_share`: at the
  0.5 threshold, over real (non-padding) tokens.
"""

import keras
import numpy as np
from keras import ops

from keras_electra.pretraining.data import PretrainingData

# The seeds of the bundled model's held-out batches and of their masks and
# noise (its model card and its learning curve use these).
CARD_DATA_SEED = 12345
CARD_NOISE_SEED = 4321


def held_out_batches(files, tokenizer, sequence_length, count=8,
                     batch_size=64, seed=CARD_DATA_SEED):
    """`count` fixed batches (NumPy) of held-out text (`files`: text files
    or a directory of them), packed as pre-training packs them, for
    `held_out_rtd_metrics`."""
    data = PretrainingData(
        files,
        tokenizer,
        sequence_length=sequence_length,
        batch_size=batch_size,
        seed=seed,
    )
    return [
        {k: ops.convert_to_numpy(v) for k, v in batch.items()}
        for batch, _ in zip(data.dataset(), range(count))
    ]


def auc(positive, negative):
    """Mann-Whitney AUC: the share of (positive, negative) pairs ranked
    right, ties counting one half."""
    positive = np.asarray(positive, dtype="float64")
    negative = np.asarray(negative, dtype="float64")
    if not len(positive) or not len(negative):
        return float("nan")
    scores = np.concatenate([positive, negative])
    _, inverse, counts = np.unique(
        scores, return_inverse=True, return_counts=True
    )
    ends = np.cumsum(counts)
    ranks = ((ends - counts + 1 + ends) / 2)[inverse]  # mid-ranks of ties
    n = len(positive)
    return float(
        (ranks[:n].sum() - n * (n + 1) / 2) / (n * len(negative))
    )


def same_piece_auc(scores, replaced, pieces):
    """AUC over pairs of the same piece, one replaced and one original
    (pairs pooled over pieces, each piece weighted by its pair count)."""
    right = pairs = 0.0
    for piece in np.unique(pieces[replaced]):
        here = pieces == piece
        positive, negative = scores[here & replaced], scores[here & ~replaced]
        if len(negative):
            weight = len(positive) * len(negative)
            right += auc(positive, negative) * weight
            pairs += weight
    return right / pairs if pairs else float("nan")


def held_out_rtd_metrics(pretrainer, batches, noise_seed=0):
    """Replaced-token-detection metrics on fixed batches (see module doc).

    Args:
        pretrainer: a `keras_electra.ElectraPretrainer`.
        batches: a list of batches (dicts with `"token_ids"`,
            `"segment_ids"`, `"padding_mask"`, NumPy arrays), e.g. from
            `PretrainingData(...).dataset()`.
        noise_seed: int. Seed of the masks and Gumbel noise of batch `i`
            (`noise_seed + i`), so that two models see the same draws. The
            pretrainer's own seed generator is left alone.

    Returns:
        A dict of floats (see the module docstring).
    """
    vocabulary_size = pretrainer.discriminator.backbone.vocabulary_size
    originals = np.concatenate(
        [np.asarray(b["token_ids"])[np.asarray(b["padding_mask"]) > 0]
         for b in batches]
    )
    rarity_of = -np.log(np.bincount(originals, minlength=vocabulary_size) + 1.0)
    correct = total = replaced_slots = 0
    logits, replaced, pieces = [], [], []
    for i, batch in enumerate(batches):
        masked = pretrainer.mask(
            batch, seed=keras.random.SeedGenerator(noise_seed + i)
        )
        slots = masked["mask_positions"].shape[1]
        noise = np.random.default_rng(noise_seed + i).gumbel(
            size=(np.shape(batch["token_ids"])[0], slots, vocabulary_size)
        )
        out = pretrainer.replaced_token_detection(
            batch, masked, noise.astype("float32")
        )
        out = {k: ops.convert_to_numpy(v) for k, v in out.items()}
        weights = out["mask_weights"] > 0
        hits = out["generator_predictions"] == out["mask_ids"]
        correct += int((hits & weights).sum())
        total += int(weights.sum())
        tokens = np.asarray(batch["padding_mask"]) > 0
        # Only masked positions can be replaced.
        replaced_slots += int((out["replaced"][tokens] == 1).sum())
        logits.append(out["discriminator_logits"][tokens])
        replaced.append(out["replaced"][tokens] == 1)
        pieces.append(out["corrupted_ids"][tokens])
    logits = np.concatenate(logits).astype("float64")
    replaced = np.concatenate(replaced)
    pieces = np.concatenate(pieces)
    rarity = rarity_of[pieces]
    said_replaced = logits > 0
    return {
        "generator_accuracy": correct / max(total, 1),
        "discriminator_auc": auc(logits[replaced], logits[~replaced]),
        "frequency_auc": auc(rarity[replaced], rarity[~replaced]),
        "context_auc": same_piece_auc(logits, replaced, pieces),
        "sampled_original_share": 1.0 - replaced_slots / max(total, 1),
        "discriminator_accuracy": float(np.mean(said_replaced == replaced)),
        "replaced_recall": float(np.mean(said_replaced[replaced]))
        if replaced.any()
        else float("nan"),
        "replaced_share": float(np.mean(replaced)),
    }
