"""ONE end-to-end check that replaced token detection learns (slow).

A tiny model on a 2-core CPU budget (500 steps of 16 x 64 tokens) on the
test corpus (`tests/data/corpus`). Two choices make learning visible at
this budget; both are measured, not guessed:

- a 3,000-piece vocabulary: the corpus's most frequent pieces of the real
  uncased vocabulary (the 30,522-piece table trains too slowly here);
- sampling temperature 100 (near-uniform samples): at temperature 1 the tiny
  generator reaches unigram statistics within 50 steps, and telling its
  samples apart then needs context that a 2-layer model only learns after
  thousands of steps (2,000 steps: discriminator loss 0.402 -> 0.368, recall
  still 0). The generator's training does not depend on the temperature.

What the bars show, and what they do not: near-uniform samples are mostly
rare pieces, so a discriminator that only learned "rare = replaced" would
already rank them well. The test measures and prints two controls on the
same held-out tokens, without asserting them, because at this budget the
discriminator does not pass them:

- a frequency-only judge (each piece scored by its rarity among the
  held-out batches' original tokens): AUC 0.93, above the discriminator's
  0.81-0.84;
- the same-piece AUC (only pairs of the same piece, one replaced and one
  original; any judge that sees only the piece scores 0.5): 0.47-0.58
  after training (torch 0.473 at 500 steps; TensorFlow 0.582 at 300).

So these bars show that the training loop learns (the generator's
accuracy, the discriminator's loss and ranking move the right way from
their random start), not that the discriminator uses context yet.
"""

import collections
import glob
import os
import time

import keras
import pytest
from keras import ops

import keras_electra
from keras_electra.pretraining import PretrainingData
from keras_electra.pretraining.evaluation import held_out_rtd_metrics
from keras_electra.data import open_text
from tests.conftest import VOCAB_PATH
from tests.pretraining.helpers import CORPUS

STEPS = 500
STEPS_PER_EPOCH = 50
VOCABULARY_SIZE = 3000


def frequent_pieces_vocabulary(path, size=VOCABULARY_SIZE, lines_per_file=800):
    """The real vocabulary cut to the corpus's most frequent pieces.

    Special tokens, every ASCII character (alone and as `##` suffix) so that
    every word still tokenizes, then the most frequent pieces.
    """
    full = keras_electra.ElectraTokenizer(vocabulary=VOCAB_PATH)
    table = full.get_vocabulary()
    lines = []
    for name in sorted(glob.glob(os.path.join(CORPUS, "**", "*.txt*"), recursive=True)):
        with open_text(name) as f:
            lines += [line for line in f if line.strip()][:lines_per_file]
    counts = collections.Counter(
        int(i) for row in full(lines) for i in keras.ops.convert_to_numpy(row)
    )
    vocabulary = table[:1] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    characters = [
        t for t in table
        if (len(t) == 1 or (t.startswith("##") and len(t) == 3))
        and t[-1].isascii()
    ]
    frequent = [table[i] for i, _ in counts.most_common()]
    seen = set(vocabulary)
    for token in characters + frequent:
        if token not in seen and len(vocabulary) < size:
            vocabulary.append(token)
            seen.add(token)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary) + "\n")
    return path


def held_out_scores(pretrainer, batches):
    """Generator accuracy, discriminator AUC, frequency-only control AUC
    and same-piece AUC on fixed batches
    (`keras_electra.pretraining.evaluation`)."""
    m = held_out_rtd_metrics(pretrainer, batches)
    return (
        m["generator_accuracy"],
        m["discriminator_auc"],
        m["frequency_auc"],
        m["context_auc"],
    )


@pytest.mark.slow
def test_pretraining_on_the_corpus_learns(tmp_path):
    keras.utils.set_random_seed(0)
    vocabulary = frequent_pieces_vocabulary(str(tmp_path / "vocab.txt"))
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocabulary)
    assert tokenizer.vocabulary_size() == VOCABULARY_SIZE
    discriminator = keras_electra.ElectraBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=64,
        embedding_dim=32,
        intermediate_dim=128,
        max_sequence_length=64,
    )
    pretrainer = keras_electra.ElectraPretrainer(
        discriminator, tokenizer=tokenizer, temperature=100.0, seed=0
    )
    pretrainer.compile(
        learning_rate=3e-3, num_train_steps=STEPS, warmup_steps=50
    )
    data = PretrainingData(
        CORPUS, tokenizer, sequence_length=64, batch_size=16, seed=0
    )
    held_out = PretrainingData(
        CORPUS, tokenizer, sequence_length=64, batch_size=32, seed=1
    ).dataset()
    batches = [
        {k: ops.convert_to_numpy(v) for k, v in batch.items()}
        for batch, _ in zip(held_out, range(4))
    ]
    keras.utils.set_random_seed(1)
    generator_before, auc_before, _, context_before = held_out_scores(
        pretrainer, batches
    )
    start = time.time()
    history = pretrainer.fit(
        data.dataset(),
        steps_per_epoch=STEPS_PER_EPOCH,
        epochs=STEPS // STEPS_PER_EPOCH,
        verbose=0,
    ).history
    print(f"{STEPS} steps in {time.time() - start:.1f}s")
    for name, values in history.items():
        print(name, " ".join(f"{v:.3f}" for v in values))
    keras.utils.set_random_seed(1)
    generator_after, auc_after, frequency_auc, context_after = (
        held_out_scores(pretrainer, batches)
    )
    print(
        f"held out: generator accuracy {generator_before:.3f} -> "
        f"{generator_after:.3f}, discriminator AUC {auc_before:.3f} -> "
        f"{auc_after:.3f} (frequency-only control {frequency_auc:.3f}); "
        f"same-piece AUC {context_before:.3f} -> {context_after:.3f}"
    )
    # The generator learns the frequent pieces and more (chance: 1/3000).
    assert generator_before < 0.01
    assert generator_after > 0.025
    assert history["generator_loss"][-1] < history["generator_loss"][0] - 0.5
    # The discriminator ranks replaced tokens above original ones. (At this
    # budget it rarely says "replaced" with probability > 0.5, so recall at
    # that threshold stays near 0: the AUC is the threshold-free measure.
    # Its training loss ends only just under the 0.40 nats of always
    # answering with the share of replaced tokens, about 14 %: TensorFlow,
    # 500 steps, 0.441 -> 0.382, noisy from epoch to epoch; so the loss is
    # printed, not asserted.) Measured AUC after training: TensorFlow 0.709
    # (500 steps) and 0.806 (300), PyTorch 0.841 (500) and 0.693 (300),
    # JAX 0.816 (300); before: 0.50-0.53.
    assert 0.35 < auc_before < 0.65
    assert auc_after > 0.65
