"""Downstream accuracy against pre-training compute (ELECTRA's central claim
at our scale).

Reads the checkpoints of a run of `tools/pretrain_bundled_model.py` (its
`--output-dir`; checkpoints copied aside every 1,000 steps, see
`benchmarks/README.md`), and for each checkpoint, and for random weights
(0 compute), fine-tunes the discriminator on the quick start's author task
over several draws (`keras_electra.cli.quickstart.FineTuningRuns`, the
quick start's own fine-tuning), printing one JSON line per point: steps,
training FLOPs (analytic, `pretraining_flops`), held-out replaced-token
metrics, and test accuracy mean +- sd over the draws.

    KERAS_BACKEND=tensorflow python benchmarks/learning_curve.py \
        --run runs/bundled_model --checkpoints runs/bundled_curve \
        --draws 5
"""

import argparse
import glob
import json
import os
import tempfile
import types

import keras

import keras_electra
from keras_electra import data as bundled
from keras_electra.cli.labelled_data import task_data
from keras_electra.cli.pretrain import new_pretrainer
from keras_electra.cli.quickstart import FineTuningRuns
from keras_electra.cli.quickstart import mean_sd
from keras_electra.cli.shared import QUICKSTART
from keras_electra.pretraining import restore_checkpoint
from keras_electra.pretraining.checkpointing import checkpoint_step
from keras_electra.pretraining.evaluation import CARD_NOISE_SEED
from keras_electra.pretraining.evaluation import held_out_batches
from keras_electra.pretraining.evaluation import held_out_rtd_metrics


def matmul_flops_per_token(hidden, layers, intermediate, length):
    """Forward FLOPs per token of the transformer layers: the four
    attention projections, the feed-forward, and the attention scores and
    mix (2 * length * hidden each)."""
    per_layer = 2 * (4 * hidden * hidden + 2 * hidden * intermediate)
    per_layer += 2 * 2 * length * hidden
    return layers * per_layer


def pretraining_flops(recipe, steps):
    """Training FLOPs (forward + backward = 3 x forward) of `steps` RTD
    steps: discriminator on every token, generator on every token, the
    generator's vocabulary softmax at the masked positions; for the
    masked-LM arm (`"objective": "mlm"`), the one network and its
    vocabulary softmax."""
    h, n, e = recipe["hidden_dim"], recipe["num_layers"], recipe["embedding_dim"]
    length = recipe["sequence_length"]
    g = h if recipe.get("tie_all_weights") else int(
        h * recipe["generator_hidden_fraction"]
    )
    vocab = recipe["vocabulary_size"]
    per_token = matmul_flops_per_token(h, n, 4 * h, length)
    if recipe.get("objective") == "mlm":
        # The masked-LM arm: the discriminator's network with the
        # generator's head, nothing else.
        per_token += recipe["mask_probability"] * 2 * (h * e + e * vocab)
        return 3 * per_token * steps * recipe["batch_size"] * length
    per_token += matmul_flops_per_token(g, n, 4 * g, length)
    per_token += recipe["mask_probability"] * 2 * (g * e + e * vocab)
    per_token += 2 * h * h  # discriminator head
    tokens = steps * recipe["batch_size"] * length
    return 3 * per_token * tokens


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--checkpoints", required=True)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--steps", type=int, nargs="*", help="only these")
    parser.add_argument(
        "--task", choices=("author", "sentence_order"), default="author"
    )
    args = parser.parse_args()

    with open(os.path.join(args.run, "recipe.json")) as f:
        recipe = json.load(f)
    recipe_args = types.SimpleNamespace(**recipe)
    vocabulary = open(os.path.join(args.run, "vocab.txt")).read().splitlines()
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocabulary)
    recipe["vocabulary_size"] = tokenizer.vocabulary_size()
    batches = held_out_batches(
        os.path.join(args.run, "corpus", "held_out"), tokenizer,
        recipe["sequence_length"],
    )
    finetune = types.SimpleNamespace(
        seed=0,
        # The quick start's 64 tokens for passages; pairs of sentences take
        # the model's 128.
        sequence_length=(
            None if args.task == "sentence_order"
            else QUICKSTART["sequence_length"]
        ),
        finetune_epochs=QUICKSTART["finetune_epochs"],
        finetune_batch_size=QUICKSTART["finetune_batch_size"],
        finetune_learning_rate=QUICKSTART["finetune_learning_rate"],
        layerwise_lr_decay=None,
        quiet=True,
    )
    def draw(seed):
        if args.task == "sentence_order":
            return bundled.sentence_order_task(train_seed=seed)
        return bundled.author_task(
            train_per_class=QUICKSTART["train_per_class"],
            test_per_class=QUICKSTART["test_per_class"],
            train_seed=seed,
        )

    draws = [
        (seed, task_data(draw(seed), args.task)) for seed in range(args.draws)
    ]
    points = [(0, None)] + sorted(
        (checkpoint_step(p), p)
        for p in glob.glob(os.path.join(args.checkpoints, "ckpt-*"))
    )
    if args.steps is not None:
        points = [(s, p) for s, p in points if s in args.steps]
    for steps, path in points:
        pretrainer = new_pretrainer(tokenizer, recipe["seed"], recipe_args)
        pretrainer.compile(
            learning_rate=recipe["learning_rate"],
            num_train_steps=recipe["steps"],
            warmup_steps=recipe["warmup_steps"],
        )
        if path is not None:
            restore_checkpoint(pretrainer, path)  # weights only
        rtd = held_out_rtd_metrics(pretrainer, batches, CARD_NOISE_SEED)
        with tempfile.TemporaryDirectory() as tmp:
            pretrainer.save_discriminator_preset(tmp)
            runs = FineTuningRuns(finetune, tmp, draws[0][1])
            accuracies = [
                runs.run(task, seed, random_init=False)["test_accuracy"]
                for seed, task in draws
            ]
        print(json.dumps({
            "task": args.task,
            "steps": steps,
            "pretraining_flops": pretraining_flops(recipe, steps),
            "discriminator_auc": round(rtd["discriminator_auc"], 4),
            "context_auc": round(rtd["context_auc"], 4),
            "generator_accuracy": round(rtd["generator_accuracy"], 4),
            "test_accuracy": mean_sd(accuracies),
            "accuracies": accuracies,
        }), flush=True)
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
