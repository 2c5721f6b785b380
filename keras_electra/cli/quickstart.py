"""`keras-electra quickstart`: the whole job, offline, in minutes.

By default it starts from the bundled pre-trained ELECTRA
(`electra_tiny_gutenberg_en`, pre-trained by this package on public-domain
novels) and:

1. **Replaced token detection, live.** On held-out chapters (never used
   for pre-training) it scores the bundled generator + discriminator and
   the same architecture with random weights (discriminator ROC AUC,
   same-piece AUC, generator accuracy), continues pre-training for a few
   steps with curves, and scores the result again.
2. **Fine-tuning against no pre-training.** The bundled model and the same
   architecture from random weights are fine-tuned on the bundled author
   task, once per `--seeds` draw (each draw: its own training passages and
   model seed; one fixed test set), and compared by mean and standard
   deviation, and by the paired difference.
3. **Export.** The first draw's fine-tuned classifier is exported as a
   SavedModel that takes raw strings, reloaded and run on the test set.

`--from-scratch` pre-trains a new tiny ELECTRA instead (the architecture
options); `--preset` starts from any other model.
"""

import json
import math
import os
import time

import keras
import numpy as np

from keras_electra import data as bundled
from keras_electra.cli.export import export_classifier
from keras_electra.cli.export import saved_model_predict
from keras_electra.cli.finetune import accuracy_of
from keras_electra.cli.finetune import build_classifier
from keras_electra.cli.finetune import labelled_dataset
from keras_electra.cli.finetune import predict_classes
from keras_electra.cli.labelled_data import load_task_data
from keras_electra.cli.labelled_data import task_data
from keras_electra.cli.pretrain import pretrain
from keras_electra.cli.pretrain import write_corpus
from keras_electra.cli.run_directory import RunDir
from keras_electra.cli.run_directory import load_average
from keras_electra.cli.shared import PROG
from keras_electra.cli.shared import QUICKSTART
from keras_electra.cli.shared import UsageError
from keras_electra.cli.shared import say
from keras_electra.cli.shared import verbose
from keras_electra.presets import DISCRIMINATOR
from keras_electra.utils import quiet
from keras_electra.pretraining.pair_preset import member_preset

# Held-out batches for the replaced-token-detection metrics.
HELD_OUT_BATCHES = 4
HELD_OUT_BATCH_SIZE = 32


def mean_sd(values):
    values = np.asarray(values, "float64")
    sd = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
    return {"mean": float(values.mean()), "sd": sd, "n": len(values)}


# === 1. Replaced token detection on held-out chapters ===


def held_out_batches(run, tokenizer, length):
    """Fixed batches of the bundled novels' held-out chapters."""
    from keras_electra.pretraining import evaluation

    files = write_corpus(
        bundled.held_out_documents(), run.path("data", "held_out"), "chapter"
    )
    return evaluation.held_out_batches(
        files, tokenizer, length, count=HELD_OUT_BATCHES,
        batch_size=HELD_OUT_BATCH_SIZE, seed=0,
    )


def rtd_metrics(pretrainer, batches, seed):
    from keras_electra.pretraining.evaluation import held_out_rtd_metrics

    keras.utils.set_random_seed(seed)
    return held_out_rtd_metrics(pretrainer, batches, noise_seed=seed)


def load_pair(model, seed, load_weights=True):
    from keras_electra.pretraining import ElectraPretrainer

    keras.utils.set_random_seed(seed)
    return ElectraPretrainer.from_preset(
        model, seed=seed, load_weights=load_weights
    )


def replaced_token_detection(args, run, model):
    """Held-out RTD metrics of `model` (a pair) and of random weights."""
    pretrainer = load_pair(model, args.seed)
    random_pair = load_pair(model, args.seed, load_weights=False)
    length = min(args.sequence_length, pretrainer.backbone.max_sequence_length)
    batches = held_out_batches(run, pretrainer.tokenizer, length)
    tokens = int(sum(b["padding_mask"].sum() for b in batches))
    say(
        f"\n== Replaced token detection on the bundled novels' held-out "
        f"chapters ({tokens:,} tokens; the bundled model never saw them)"
    )
    metrics = {
        "held_out_tokens": tokens,
        "pretrained": rtd_metrics(pretrainer, batches, args.seed),
        "random": rtd_metrics(random_pair, batches, args.seed),
    }
    print_rtd(metrics, ("pretrained", "random"))
    return metrics, batches


RTD_ROWS = (
    ("pretrained", "pre-trained model"),
    ("random", "same model, random weights"),
    ("continued", "after continued pre-training"),
)


def print_rtd(metrics, keys):
    rows = [("model", "disc. AUC", "same-piece AUC", "gen. accuracy")]
    for key, label in RTD_ROWS:
        if key in keys and key in metrics:
            m = metrics[key]
            rows.append((
                label,
                f"{m['discriminator_auc']:.3f}",
                f"{m['context_auc']:.3f}",
                f"{m['generator_accuracy']:.3f}",
            ))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        say("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)))


# === 2. Fine-tuning, pre-trained against random weights ===


class FineTuningRuns:
    """Fine-tunes one classifier many times from given starting weights.

    One model is built and compiled once; each run loads its starting
    weights (a freshly built classifier's: the pre-trained backbone or
    random weights, and a new head, both from the run's seed) and resets
    the optimizer, so the traced training step is reused instead of
    retraced for every run.
    """

    def __init__(self, args, model, task):
        from keras_electra.finetuning import create_optimizer

        self.args = args
        self.model = model
        self.label_names = task.label_names
        self.length = getattr(args, "sequence_length", None)
        self.classifier = self._build(args.seed, random_init=False)
        self.steps = args.finetune_epochs * math.ceil(
            len(task.train) / args.finetune_batch_size
        )
        self.classifier.compile(
            optimizer=create_optimizer(
                self.classifier,
                learning_rate=args.finetune_learning_rate,
                num_train_steps=self.steps,
                layerwise_lr_decay=getattr(args, "layerwise_lr_decay", None),
            ),
            metrics=["accuracy"],
        )

    def _build(self, seed, random_init):
        return build_classifier(
            self.model,
            len(self.label_names),
            seed,
            random_init,
            self.length,
            label_names=self.label_names,
        )

    def _start_from(self, seed, random_init):
        from keras_electra.pretraining.checkpointing import (
            seed_state_variables,
        )

        fresh = self._build(seed, random_init)
        self.classifier.set_weights(fresh.get_weights())
        # The dropout noise too starts from the run's seed, so a run gives
        # the same result whatever ran before it (and after a resume).
        for mine, theirs in zip(
            seed_state_variables(self.classifier),
            seed_state_variables(fresh),
        ):
            mine.assign(theirs.value)
        optimizer = self.classifier.optimizer
        for variable in optimizer.variables:
            if "learning_rate" not in variable.path:
                variable.assign(np.zeros(variable.shape, variable.dtype))
        keras.utils.set_random_seed(seed)

    def run(self, task, seed, random_init, callbacks=()):
        start = time.time()
        self._start_from(seed, random_init)
        self.classifier.fit(
            labelled_dataset(
                task.train,
                task.ids(task.train),
                self.args.finetune_batch_size,
                seed=seed,
            ),
            epochs=self.args.finetune_epochs,
            shuffle=False,  # `labelled_dataset` shuffles every epoch
            callbacks=list(callbacks),
            verbose=verbose(self.args),
        )
        probabilities = predict_classes(
            self.classifier, task.test.inputs(), 64
        )
        return {
            "seed": seed,
            "random_init": random_init,
            "test_accuracy": accuracy_of(probabilities, task.ids(task.test)),
            "test_predictions": np.argmax(probabilities, -1).tolist(),
            "seconds": round(time.time() - start, 1),
        }


def task_draws(args, run):
    """`(seed, TaskData)` per draw: the bundled task's training passages
    are drawn anew for each seed (one fixed test set); a user's files are
    the same data for every seed."""
    seeds = [args.seed + i for i in range(args.seeds)]
    task = load_task_data(args, run=run)
    if args.train or args.dataset:
        return [(seed, task) for seed in seeds], task
    from keras_electra.cli.readers import write_labelled_tsv

    draws = []
    for seed in seeds:
        drawn = bundled.author_task(
            train_per_class=args.train_per_class,
            test_per_class=args.test_per_class,
            train_seed=seed,
        )
        write_labelled_tsv(
            run.path("data", f"train_draw{seed}.tsv"),
            drawn["train"],
            drawn["label_names"],
        )
        draws.append((seed, task_data(drawn, task.description)))
    return draws, draws[0][1]


def compare_finetuning(args, run, model, draws):
    """Fine-tune `model` and the same model from random weights on every
    draw; save the first draw's two classifiers.

    Each finished run is recorded in `RUN/finetuning_runs.json`; rerunning
    with the same `--output-dir` skips the runs already there.
    """
    first_task = draws[0][1]
    runs = FineTuningRuns(args, model, first_task)
    say(
        f"\n== Fine-tuning: pre-trained and random weights, {len(draws)} "
        f"draws x {len(first_task.train)} training passages, "
        f"{args.finetune_epochs} epochs ({runs.steps} steps), learning rate "
        f"{args.finetune_learning_rate:g}"
    )
    record = run.path("finetuning_runs.json")
    done = {}
    if os.path.isfile(record):
        with open(record, encoding="utf-8") as f:
            done = json.load(f)
    kinds = [("pretrained", False, "classifier")]
    if not args.no_baseline:
        kinds.append(("not_pretrained", True, "baseline_classifier"))
    rows = []
    for seed, task in draws:
        row = {"seed": seed}
        for key, random_init, name in kinds:
            done_key = f"{seed}/{key}"
            if done_key not in done:
                done[done_key] = runs.run(
                    task,
                    seed,
                    random_init,
                    callbacks=run.callbacks(
                        f"{name}_draw{seed}", checkpoints=False
                    ),
                )
                if seed == draws[0][0]:
                    runs.classifier.save_to_preset(run.path(name))
                    done[done_key]["preset"] = run.path(name)
                run.write_json("finetuning_runs.json", done)
            row[key] = done[done_key]
        say(
            f"   draw {seed}: pre-trained {row['pretrained']['test_accuracy']:.3f}"
            + (
                f", random weights {row['not_pretrained']['test_accuracy']:.3f}"
                if "not_pretrained" in row
                else ""
            )
        )
        rows.append(row)
    summary = {"draws": rows}
    for key, _, _ in kinds:
        summary[key] = mean_sd([r[key]["test_accuracy"] for r in rows])
    if not args.no_baseline:
        summary["difference"] = mean_sd(
            [
                r["pretrained"]["test_accuracy"]
                - r["not_pretrained"]["test_accuracy"]
                for r in rows
            ]
        )
    # The first draw's pre-trained classifier, as saved, is the one
    # exported. (Loaded without `num_classes`: keras-hub's `from_preset`
    # then loads the task's own head weights instead of a new head.)
    import keras_electra

    with quiet.optimizer_not_loaded_is_expected():
        exported = keras_electra.ElectraClassifier.from_preset(
            run.path("classifier")
        )
    exported.preprocessor.sequence_length = (
        runs.classifier.preprocessor.sequence_length
    )
    return exported, summary


# === The command ===


def resolve_model(args, run, task):
    """The model to fine-tune, after any pre-training; and its results."""
    from_scratch = args.from_scratch
    if args.pretrain_steps is None:
        if from_scratch:
            args.pretrain_steps = QUICKSTART["pretrain_steps"]
        elif args.preset == QUICKSTART["preset"]:
            args.pretrain_steps = QUICKSTART["continued_pretrain_steps"]
        else:
            args.pretrain_steps = 0
    if from_scratch:
        args.preset = None
    if args.pretrain_learning_rate is None:
        args.pretrain_learning_rate = QUICKSTART[
            "pretrain_learning_rate"
            if from_scratch
            else "continued_pretrain_learning_rate"
        ]
    if args.log_every is None:
        args.log_every = QUICKSTART[
            "log_every" if from_scratch else "continued_log_every"
        ]
    if args.pretrain_steps > 0:
        own_texts = None
        if (args.train or args.dataset) and not args.corpus:
            own_texts = task.train.texts
        pretraining = pretrain(args, run, fallback_texts=own_texts)
        return pretraining["preset"], pretraining
    if not args.preset:
        raise UsageError("--pretrain-steps 0 with --from-scratch: nothing to fine-tune")
    say(f"\n== Pre-training: none; using the pre-trained {args.preset}")
    return args.preset, {"preset": args.preset, "steps": 0}


def is_pair(model):
    """A generator + discriminator pair: a bundled pair name or a pair
    directory."""
    from keras_electra.pretraining.pair_preset import read_pair_description

    return bool(read_pair_description(model))


def cmd_quickstart(args):
    wall = time.time()
    run = RunDir(args, "quickstart")
    say(
        f"{PROG} quickstart: backend {keras.config.backend()}, seed "
        f"{args.seed}, run directory {run.root}"
    )
    draws, task = task_draws(args, run)
    say(f"Data: {task.description}; labels: {', '.join(task.label_names)}")
    results = {"backend": keras.config.backend(), "seed": args.seed}

    # 1. Replaced token detection: the bundled pair against random weights,
    # then a short continued pre-training.
    start_model = None if args.from_scratch else args.preset
    rtd = batches = None
    if start_model and is_pair(start_model):
        rtd, batches = replaced_token_detection(args, run, start_model)
    model, results["pretraining"] = resolve_model(args, run, task)
    if rtd is not None and results["pretraining"]["steps"] > 0:
        rtd["continued"] = rtd_metrics(
            load_pair(model, args.seed), batches, args.seed
        )
        say("\n== Held-out replaced token detection, again")
        print_rtd(rtd, ("pretrained", "continued"))
    if rtd is not None:
        results["replaced_token_detection"] = rtd

    # 2. Fine-tuning: pre-trained against random weights, several draws.
    classifier, results["finetuning"] = compare_finetuning(
        args, run, member_preset(model, DISCRIMINATOR), draws
    )

    # 3. Export, reload with tf.saved_model.load, predict on raw strings.
    first = draws[0][1]
    saved_model = run.path("saved_model")
    say(f"\n== Export: SavedModel -> {saved_model}")
    export_seconds = export_classifier(classifier, saved_model, first.label_names)
    served_labels, served_scores, _ = saved_model_predict(
        saved_model, first.test.inputs()
    )
    first_run = results["finetuning"]["draws"][0]["pretrained"]
    keras_labels = [first.label_names[i] for i in first_run["test_predictions"]]
    truth = [str(label) for label in first.test.labels]
    results["saved_model"] = {
        "path": saved_model,
        "export_seconds": round(export_seconds, 1),
        "test_accuracy": float(
            np.mean([a == b for a, b in zip(served_labels, truth)])
        ),
        "agreement_with_keras": float(
            np.mean([a == b for a, b in zip(served_labels, keras_labels)])
        ),
    }
    for row in results["finetuning"]["draws"]:
        for key in ("pretrained", "not_pretrained"):
            if key in row:
                row[key].pop("test_predictions", None)
    results["wall_seconds"] = round(time.time() - wall, 1)
    results["load_average"] = load_average()
    results["cpu_count"] = os.cpu_count()
    run.write_json("results.json", results)

    print_summary(results, first, served_labels, served_scores)
    say(f"\nEverything is in {run.root}:")
    say("  config.json, results.json, data/, classifier/, baseline_classifier/,")
    say("  saved_model/" + (
        ", pretrained/, checkpoints/, pretraining_curves.png"
        if results["pretraining"].get("plot")
        else ""
    ))
    say(
        f"Try: {PROG} predict --model {saved_model} \"It is a truth "
        "universally acknowledged...\""
    )


def print_summary(results, task, served_labels, served_scores):
    say("\n== Results")
    tuned = results["finetuning"]
    n = len(tuned["draws"])
    rows = [("model", f"test accuracy, mean +- sd over {n} draws")]
    for key, label in (
        ("pretrained", "ELECTRA, pre-trained"),
        ("not_pretrained", "same model, not pre-trained"),
        ("difference", "difference (paired)"),
    ):
        if key in tuned:
            sign = "+" if key == "difference" else ""
            rows.append((
                label,
                f"{tuned[key]['mean']:{sign}.3f} +- {tuned[key]['sd']:.3f}",
            ))
    served = results["saved_model"]
    rows.append(
        ("SavedModel (reloaded), draw 1", f"{served['test_accuracy']:.3f}")
    )
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for row in rows:
        say("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)))
    chance = 1.0 / len(task.label_names)
    say(
        f"  ({len(task.test)} test examples, chance {chance:.3f}; the "
        f"SavedModel agrees with Keras on {served['agreement_with_keras']:.1%})"
    )
    if "difference" in tuned:
        d = tuned["difference"]
        if d["mean"] > d["sd"]:
            verdict = (
                "pre-training helps here: the mean gain exceeds one sd of "
                "the paired differences"
            )
        elif d["mean"] < -d["sd"]:
            verdict = (
                "pre-training hurts here: the model from random weights "
                "wins by more than one sd of the paired differences"
            )
        else:
            verdict = (
                "no clear difference: the mean difference is within one sd "
                "of the paired differences"
            )
        say(f"  {verdict}")
    rtd = results.get("replaced_token_detection")
    if rtd:
        p, r = rtd["pretrained"], rtd["random"]
        say(
            f"  held-out replaced token detection: AUC {p['discriminator_auc']:.3f} "
            f"(random weights {r['discriminator_auc']:.3f}), same-piece AUC "
            f"{p['context_auc']:.3f}, generator accuracy "
            f"{p['generator_accuracy']:.3f} ({r['generator_accuracy']:.3f})"
        )
    pretraining = results["pretraining"]
    if pretraining.get("final"):
        final = pretraining["final"]
        say(
            f"  pre-training: {pretraining['steps']} steps in "
            f"{pretraining['fit_seconds']:.0f} s; last round: generator "
            f"accuracy {final.get('generator_accuracy', 0):.3f}, "
            f"discriminator accuracy {final.get('discriminator_accuracy', 0):.3f}"
        )
        if pretraining.get("plot"):
            say(f"  curves: {pretraining['plot']}")
    say(
        f"  wall time {results['wall_seconds']:.0f} s; load average "
        f"{results['load_average']} on {results['cpu_count']} CPUs"
    )
    say("\n== SavedModel predictions on raw test passages")
    for i, (text, label) in enumerate(
        zip(task.test.texts[:4], task.test.labels[:4])
    ):
        snippet = text if len(text) <= 70 else text[:67] + "..."
        say(
            f"  {served_labels[i]:<10} {served_scores[i]:.2f}  "
            f"(true: {label})  {snippet}"
        )
