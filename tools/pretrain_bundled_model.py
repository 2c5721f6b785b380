"""Build the bundled pre-trained ELECTRA (`electra_tiny_gutenberg_en`).

One command reproduces it from a clone, after the README's install (the
shipped model's recipe; its model card prints the same command):

    KERAS_BACKEND=tensorflow python tools/pretrain_bundled_model.py \
        --output-dir runs/bundled_model --steps 10000 \
        --learning-rate 0.0005 --warmup-steps 1000 \
        --generator-hidden-fraction 0.5 --prior-bias

Stages (each is skipped when its output exists, so rerunning the same
command after an interruption resumes; pre-training resumes from its last
checkpoint):

1. **Corpus.** Nine public-domain novels: the four bundled with the package
   (`keras_electra/data/`) and five more by Jane Austen (`tools/data/`; see
   `tools/data/PROVENANCE.md`). Every 5th chapter of every novel
   (`keras_electra.data.is_test_chapter`) is held out and never enters
   pre-training; the quick start's test passages and the held-out RTD
   metrics come only from those chapters.
2. **Vocabulary.** An uncased WordPiece vocabulary learned from the
   pre-training chapters (`keras_hub.tokenizers.compute_word_piece_vocabulary`).
3. **Pre-training.** Replaced token detection with
   `keras_electra.pretraining.train` (Google's optimizer and schedule,
   checkpoints every `--log-every` steps, resumable).
4. **Preset + model card.** The pair (`discriminator/`, `generator/`,
   `pretraining_pair.json`) and `README.md` with the held-out metrics of the model and
   of the same architecture with random weights, and this command.

`--objective mlm` trains the same discriminator network by masked-LM alone
(`ElectraPretrainer(objective="mlm")`: BERT's objective, the same masking,
no sampling and no discriminator): the other arm of the learning curve
(`benchmarks/learning_curve.py`), compared with replaced token detection at
equal training FLOPs. The pre-trainer is the command line's
(`keras_electra.cli.pretrain.new_pretrainer`).

`--curve-every N` copies every N-th step's checkpoint to `curve/` (the
learning curve's points; `train()` keeps only the last two).

`--package` copies the finished preset into the package
(`keras_electra/presets/bundled/electra_tiny_gutenberg_en/`), storing each
of the registry's `shared_files` once (files the two members share byte
for byte, such as the vocabulary).

`--card-only` rewrites the model card from `report.json`, the log and, when
present, `curve.jsonl` (the output of `benchmarks/learning_curve.py` on
this run's `curve/`).

`--probe N` only times N steps (after 2 warm-up rounds) and exits.
"""

import argparse
import json
import os
import platform
import shutil
import sys
import time

import keras

import keras_electra
from keras_electra import data as bundled
from keras_electra.cli.pretrain import new_pretrainer
from keras_electra.pretraining import PretrainingData
from keras_electra.pretraining import train
from keras_electra.pretraining.evaluation import CARD_NOISE_SEED
from keras_electra.pretraining.evaluation import held_out_batches
from keras_electra.pretraining.evaluation import held_out_rtd_metrics

HERE = os.path.dirname(os.path.abspath(__file__))
EXTRA_NOVELS = (
    "emma",
    "mansfield_park",
    "northanger_abbey",
    "persuasion",
    "sense_and_sensibility",
)
RESERVED_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
RECIPE_DEFAULTS = {"objective": "rtd", "curve_every": 1000, "package": False}
BUNDLED_NAME = "electra_tiny_gutenberg_en"


def novel_paths():
    paths = [bundled.path(stem + ".txt.gz") for _, stem in bundled.NOVELS]
    paths += [os.path.join(HERE, "data", stem + ".txt.gz") for stem in EXTRA_NOVELS]
    return paths


def split_chapters():
    """(pre-training chapters, held-out chapters), each a list of
    (novel stem, chapter index, paragraphs)."""
    train_chapters, held_out = [], []
    for path in novel_paths():
        stem = os.path.basename(path)[: -len(".txt.gz")]
        for i, chapter in enumerate(bundled.read_documents(path)):
            target = held_out if bundled.is_test_chapter(i) else train_chapters
            target.append((stem, i, chapter))
    return train_chapters, held_out


def write_chapters(chapters, directory):
    """One text file per chapter (so each pass shuffles chapter order)."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for stem, i, paragraphs in chapters:
        path = os.path.join(directory, f"{stem}_{i:03d}.txt")
        if not os.path.exists(path):
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                f.write("\n".join(" ".join(p.split()) for p in paragraphs))
                f.write("\n")
            os.replace(path + ".tmp", path)
        paths.append(path)
    return paths


def learn_vocabulary(chapters, size, path):
    if os.path.exists(path):
        return bundled.open_text(path).read().splitlines()
    import tensorflow as tf
    from keras_hub.tokenizers import compute_word_piece_vocabulary

    lines = [p for _, _, chapter in chapters for p in chapter]
    vocabulary = compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(lines).batch(1000),
        vocabulary_size=size,
        lowercase=True,
        strip_accents=True,
        reserved_tokens=RESERVED_TOKENS,
    )
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(vocabulary) + "\n")
    os.replace(path + ".tmp", path)
    return vocabulary


class CurveCopier(keras.callbacks.Callback):
    """Copies the checkpoint of every `every`-th step to `curve_dir` (runs
    after `train()`'s own checkpoint callback)."""

    def __init__(self, checkpoint_dir, curve_dir, every, steps_per_round):
        super().__init__()
        self.checkpoint_dir = checkpoint_dir
        self.curve_dir = curve_dir
        self.every = every
        self.steps_per_round = steps_per_round

    def on_epoch_end(self, epoch, logs=None):
        step = (epoch + 1) * self.steps_per_round
        name = f"ckpt-{step:09d}"
        source = os.path.join(self.checkpoint_dir, name)
        target = os.path.join(self.curve_dir, name)
        if step % self.every or not os.path.isdir(source):
            return
        if not os.path.exists(target):
            os.makedirs(self.curve_dir, exist_ok=True)
            shutil.rmtree(target + ".tmp", ignore_errors=True)
            shutil.copytree(source, target + ".tmp")
            os.replace(target + ".tmp", target)


class Recorder(keras.callbacks.Callback):
    """Appends each round's mean metrics and wall time to a JSON-lines log."""

    def __init__(self, path, steps_per_round):
        super().__init__()
        self.file = path
        self.steps_per_round = steps_per_round
        self.start = None

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        entry = {
            "step": (epoch + 1) * self.steps_per_round,
            "seconds": round(time.time() - self.start, 2),
            "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        entry.update({k: round(float(v), 5) for k, v in (logs or {}).items()})
        with open(self.file, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        print(json.dumps(entry), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--vocabulary-size", type=int, default=8192)
    parser.add_argument("--num-layers", type=int, default=4)
    parser.add_argument("--num-heads", type=int, default=2)
    parser.add_argument("--hidden-dim", type=int, default=128)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--generator-hidden-fraction", type=float, default=0.25)
    parser.add_argument("--mask-probability", type=float, default=0.15)
    parser.add_argument(
        "--tie-all-weights", action="store_true",
        help="the generator is the discriminator's network + masked-LM head",
    )
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--prior-bias", action="store_true")
    parser.add_argument("--sequence-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--warmup-steps", type=int, default=500)
    parser.add_argument("--log-every", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--objective", choices=("rtd", "mlm"), default="rtd")
    parser.add_argument("--curve-every", type=int, default=1000)
    parser.add_argument("--probe", type=int, default=0)
    parser.add_argument(
        "--package", action="store_true",
        help="copy the finished preset into keras_electra/presets/bundled/",
    )
    parser.add_argument(
        "--card-only", action="store_true",
        help="rewrite the preset's README.md from report.json and the log",
    )
    args = parser.parse_args(argv)

    out = args.output_dir
    if args.package:
        package(os.path.join(out, "preset"), BUNDLED_NAME)
        return
    if args.card_only:
        with open(os.path.join(out, "report.json")) as f:
            report = json.load(f)
        log = read_log(os.path.join(out, "pretraining_log.jsonl"))
        curve = os.path.join(out, "curve.jsonl")
        curve = read_log(curve) if os.path.exists(curve) else None
        with open(os.path.join(out, "preset", "README.md"), "w") as f:
            f.write(model_card(report, log, curve))
        return
    os.makedirs(out, exist_ok=True)
    config_path = os.path.join(out, "recipe.json")
    recipe = {k: v for k, v in vars(args).items() if k not in ("output_dir", "probe")}
    if not args.probe:
        if os.path.exists(config_path):
            with open(config_path) as f:
                saved = json.load(f)
            # Runs started before an option existed ran at its default.
            saved = {**RECIPE_DEFAULTS, **saved}
            if saved != recipe:
                sys.exit(
                    f"{out} was started with a different recipe: {saved}; "
                    "use another --output-dir"
                )
        else:
            with open(config_path, "w") as f:
                json.dump(recipe, f, indent=1)

    train_chapters, held_out = split_chapters()
    train_dir = write_chapters(train_chapters, os.path.join(out, "corpus", "train"))
    held_dir = os.path.join(out, "corpus", "held_out")
    write_chapters(held_out, held_dir)
    words = sum(len(p.split()) for _, _, c in train_chapters for p in c)
    print(
        f"corpus: {len(train_chapters)} pre-training chapters ({words:,} "
        f"words), {len(held_out)} held-out chapters", flush=True
    )
    vocabulary = learn_vocabulary(
        train_chapters, args.vocabulary_size, os.path.join(out, "vocab.txt")
    )
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocabulary)
    print(f"vocabulary: {tokenizer.vocabulary_size()} pieces", flush=True)

    pretrainer = new_pretrainer(tokenizer, args.seed, args)
    data = PretrainingData(
        train_dir,
        tokenizer,
        sequence_length=args.sequence_length,
        batch_size=args.batch_size,
        seed=args.seed,
        shuffle_buffer_size=1000,
    )
    pretrainer.compile(
        learning_rate=args.learning_rate,
        num_train_steps=args.steps,
        warmup_steps=args.warmup_steps,
    )
    if args.probe:
        times = []
        for round_ in range(3):
            start = time.time()
            pretrainer.fit(
                data.dataset(), steps_per_epoch=args.probe, epochs=1, verbose=0
            )
            times.append(time.time() - start)
        per_step = min(times[1:]) / args.probe
        tokens = args.batch_size * args.sequence_length / per_step
        print(json.dumps({
            "backend": keras.config.backend(),
            "first_round_s": round(times[0], 1),
            "step_s": round(per_step, 4),
            "tokens_per_s": round(tokens),
            "parameters": pretrainer.count_params(),
        }))
        return

    log = os.path.join(out, "pretraining_log.jsonl")
    start = time.time()
    checkpoints = os.path.join(out, "checkpoints")
    train(
        pretrainer,
        data,
        num_train_steps=args.steps,
        checkpoint_dir=checkpoints,
        save_every=args.log_every,
        callbacks=[
            Recorder(log, args.log_every),
            CurveCopier(
                checkpoints, os.path.join(out, "curve"), args.curve_every,
                args.log_every,
            ),
        ],
        verbose=0,
    )
    print(f"pre-training (this run): {time.time() - start:.0f} s", flush=True)
    if args.objective == "mlm":
        return  # a learning-curve arm: no preset, no RTD model card

    preset = os.path.join(out, "preset")
    pretrainer.save_to_preset(preset)
    with open(os.path.join(preset, "vocab.txt"), "w") as f:
        f.write("\n".join(vocabulary) + "\n")
    batches = held_out_batches(held_dir, tokenizer, args.sequence_length)
    trained = held_out_rtd_metrics(pretrainer, batches, CARD_NOISE_SEED)
    random_model = new_pretrainer(tokenizer, args.seed + 1, args)
    untrained = held_out_rtd_metrics(random_model, batches, CARD_NOISE_SEED)
    tokens_seen = args.steps * args.batch_size * args.sequence_length
    report = {
        "recipe": recipe,
        "backend": keras.config.backend(),
        "keras_electra": keras_electra.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "pretraining_words": words,
        "tokens_seen": tokens_seen,
        "held_out_tokens": int(sum(b["padding_mask"].sum() for b in batches)),
        "held_out_metrics": {"pretrained": trained, "random": untrained},
        "discriminator_parameters": pretrainer.discriminator.count_params(),
        "generator_parameters": pretrainer.generator.count_params(),
        "vocabulary_pieces": tokenizer.vocabulary_size(),
    }
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report["held_out_metrics"], indent=1))
    with open(os.path.join(preset, "README.md"), "w") as f:
        f.write(model_card(report, read_log(log)))


def package(preset_dir, name):
    """Copy `preset_dir` into the package as bundled preset `name`, each of
    its registry entry's `shared_files` stored once (checked identical)."""
    import filecmp

    from keras_electra.presets import BUNDLED_PRESETS
    from keras_electra.presets.resolver import BUNDLED_DIR

    shared = BUNDLED_PRESETS[name].get("shared_files", {})
    for copy, original in shared.items():
        a, b = (os.path.join(preset_dir, p) for p in (copy, original))
        if not filecmp.cmp(a, b, shallow=False):
            sys.exit(f"{a} differs from {b}: it cannot be stored once.")
    target = os.path.join(BUNDLED_DIR, name)
    shutil.rmtree(target, ignore_errors=True)
    # vocab.txt is the run's copy of assets/tokenizer/vocabulary.txt.
    shutil.copytree(
        preset_dir, target, ignore=shutil.ignore_patterns("vocab.txt")
    )
    for copy in shared:
        os.remove(os.path.join(target, copy))
    print(f"packaged {preset_dir} as {target}")


def read_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


COMMAND = (
    "KERAS_BACKEND={backend} python tools/pretrain_bundled_model.py "
    "--output-dir runs/bundled_model --steps {steps} --learning-rate "
    "{learning_rate} --warmup-steps {warmup_steps} --log-every {log_every}"
    " --generator-hidden-fraction {generator_hidden_fraction:g}{flags}"
)


def flags(recipe):
    return "".join(
        f" --{name.replace('_', '-')}"
        for name in ("tie_all_weights", "freeze_embeddings", "prior_bias")
        if recipe.get(name)
    )


# Google's ELECTRA-Small: 1M steps of 128 sequences of 128 tokens.
ELECTRA_SMALL_TOKENS = 1_000_000 * 128 * 128


def downstream_table(curve):
    """The learning curve's rows (`benchmarks/learning_curve.py` output)."""
    rows = "\n".join(
        f"| {e['steps']:,} | {e['pretraining_flops']:.1e} | "
        f"{e['test_accuracy']['mean']:.3f} ± {e['test_accuracy']['sd']:.3f} |"
        for e in sorted(curve, key=lambda e: e["steps"])
    )
    return f"""
Fine-tuned on the quick start's author task (which of four novelists wrote
a 48-word passage: 32 training passages per author, 400 test passages from
held-out chapters; {curve[0]['test_accuracy']['n']} training draws, mean ±
sd), from this run's checkpoints (`benchmarks/learning_curve.py`; step 0 is
the same architecture from random weights; intermediate checkpoints are
points of this one run, not runs with their own schedules):

| pre-training steps | training FLOPs | author task test accuracy |
| --- | --- | --- |
{rows}
"""


def model_card(report, log, curve=None):
    """The preset's README.md: what it is, how it was made, how it does."""
    r = report["recipe"]
    m = report["held_out_metrics"]
    rows = "\n".join(
        f"| {e['step']:,} | {e['generator_loss']:.3f} | "
        f"{e['generator_accuracy']:.3f} | {e['discriminator_loss']:.3f} | "
        f"{e['discriminator_accuracy']:.3f} |"
        for e in log
        if e["step"] % 1000 == 0 or e["step"] == log[-1]["step"]
    )
    metric_rows = "\n".join(
        f"| {label} | {m['pretrained'][key]:.3f} | {m['random'][key]:.3f} |"
        for key, label in (
            ("discriminator_auc", "discriminator ROC AUC (replaced vs original)"),
            ("context_auc", "same-piece AUC (context only; 0.5 = none)"),
            ("frequency_auc", "frequency-only control AUC (no model)"),
            ("generator_accuracy", "generator accuracy at masked positions"),
            ("discriminator_accuracy", "discriminator accuracy (0.5 threshold)"),
            ("replaced_recall", "recall of replaced tokens (0.5 threshold)"),
        )
    )
    generator = (
        "the discriminator's own network plus a masked-LM head (all weights "
        "tied, ELECTRA paper section 3.2)"
        if r.get("tie_all_weights")
        else f"the same depth at {r['generator_hidden_fraction']:g} of the "
        "width, sharing the embeddings"
    ) + f"; {report['generator_parameters']:,} parameters"
    chosen = [
        text
        for key, text in (
            ("tie_all_weights", "all weights tied (the generator is the "
             "discriminator's network plus a masked-LM head)"),
            ("freeze_embeddings", "the shared word, position and segment "
             "embeddings kept at their random initial values"),
            ("prior_bias", "the discriminator's output bias started at the "
             "log-odds of the mask rate (Google: 0)"),
        )
        if r.get(key)
    ]
    levers = (
        f", with {len(chosen)} departure{'s' if len(chosen) > 1 else ''} "
        "measured in `benchmarks/README.md`: " + "; ".join(chosen)
        if chosen
        else ""
    )
    return f"""# electra_tiny_gutenberg_en

A tiny ELECTRA (generator + discriminator), pre-trained by this package's own
replaced-token-detection pre-training (`keras_electra.pretraining.train`) on
nine public-domain novels. It ships with `keras_electra` so that the quick
start and the tests have a real pre-trained model offline. It is a
demonstration model: about {report['tokens_seen'] / 1e6:.0f} M tokens of
pre-training on {report['pretraining_words'] / 1e6:.2f} M words, about
{ELECTRA_SMALL_TOKENS / report['tokens_seen']:,.0f} times fewer tokens than
Google's ELECTRA-Small, with a network about a tenth of its size.

```python
import keras_electra
classifier = keras_electra.ElectraClassifier.from_preset(
    "electra_tiny_gutenberg_en", num_classes=4
)
pretrainer = keras_electra.ElectraPretrainer.from_preset("electra_tiny_gutenberg_en")
```

## Model
- Discriminator: {r['num_layers']} layers, hidden {r['hidden_dim']}, {r['num_heads']} heads, embedding {r['embedding_dim']}, feed-forward {4 * r['hidden_dim']}, at most {r['sequence_length']} tokens; {report['discriminator_parameters']:,} parameters.
- Generator: {generator}.
- Vocabulary: uncased WordPiece, {report.get('vocabulary_pieces', '?'):,} pieces ({r['vocabulary_size']:,} asked for), learned from the pre-training chapters with `keras_hub.tokenizers.compute_word_piece_vocabulary` (`assets/tokenizer/vocabulary.txt`).

## Data
Nine public-domain novels (Project Gutenberg texts as carried by the R
packages tidytext and janeaustenr): Austen's six, Dickens' *Great
Expectations*, Verne's *Twenty Thousand Leagues under the Sea*, Wells' *The
War of the Worlds*. **Every 5th chapter of every novel is held out**
(`keras_electra.data.is_test_chapter`): it never enters pre-training, and the
quick start's test passages and the metrics below come only from those
chapters. Pre-training saw {report['pretraining_words']:,} words.

## Recipe
ELECTRA's objective and optimizer as in Google's code (`ElectraAdamW`
without bias correction, weight decay 0.01, gradient clipping 1.0, linear
warm-up then linear decay to 0; discriminator loss weight 50; the generator
samples at temperature 1){levers}: {r['steps']:,} steps of {r['batch_size']} sequences
of {r['sequence_length']} tokens ({report['tokens_seen']:,} tokens), peak
learning rate {r['learning_rate']:g}, {r['warmup_steps']} warm-up steps,
mask rate {r['mask_probability']:g}, seed {r['seed']}. Backend
{report['backend']}, {report['machine']}.

## Held-out replaced token detection
{report['held_out_tokens']:,} tokens of the held-out chapters, masked and
corrupted as in training (fixed seeds; the same draws for both columns).

| metric | this model | same architecture, random weights |
| --- | --- | --- |
{metric_rows}

## What it does, and what it does not
The discriminator ranks replaced tokens above original ones with an AUC of
{m['pretrained']['discriminator_auc']:.3f} (random weights
{m['random']['discriminator_auc']:.3f}); a judge that sees only how rare
each piece is scores {m['pretrained']['frequency_auc']:.3f}, and over pairs
of the same piece, one replaced and one original, the discriminator's AUC
is {m['pretrained']['context_auc']:.3f} (0.5 = no use of the context): its
replaced-token detection is weak. What pre-training buys shows downstream.
{downstream_table(curve) if curve else ""}
The comparison with masked-LM pre-training at equal compute is in the
repository's `benchmarks/RESULTS.md` ("Pre-training objectives"; the whole
curve in `benchmarks/README.md`). It is a small model
pre-trained on less than a million words, to try every class and the quick
start with offline; it is not a general-purpose language model.

## Pre-training curve (mean over each 250-step round)

| step | generator loss | generator accuracy | discriminator loss | discriminator accuracy |
| --- | --- | --- | --- | --- |
{rows}

## Reproduce

```sh
{COMMAND.format(backend=report['backend'], flags=flags(r), **r)}
python tools/pretrain_bundled_model.py --output-dir runs/bundled_model --package
```

The second command copies the finished preset into the package.

The full log, recipe, report and learning curve are in the repository's
`benchmarks/runs/rtd_bundled_model/`.

## Licence
Apache-2.0 (the weights); the training text is in the public domain.
"""


if __name__ == "__main__":
    main()
