"""`keras-electra pretrain` and the one pre-trainer builder.

`new_pretrainer` builds the `ElectraPretrainer` of `pretrain`, `quickstart`,
`tools/pretrain_bundled_model.py` and the benchmarks; `pretrain` trains it
(resumable from the run directory's checkpoints).
"""

import contextlib
import json
import math
import os
import time

import keras
import numpy as np

import keras_electra
from keras_electra import data as bundled
from keras_electra.cli import readers
from keras_electra.cli.plots import plot_pretraining_curves
from keras_electra.cli.run_directory import RunDir
from keras_electra.cli.shared import PROG
from keras_electra.cli.shared import UsageError
from keras_electra.cli.shared import say
from keras_electra.cli.shared import verbose
from keras_electra.utils.worker_addresses import PEER_TIMEOUT_SECONDS


def read_vocabulary(path):
    if path is None:
        return bundled.vocabulary()
    vocabulary = readers.read_lines(path)
    missing = [
        t for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
        if t not in vocabulary
    ]
    if missing:
        raise UsageError(
            f"--vocab {path!r} lacks the special tokens {', '.join(missing)}"
        )
    return vocabulary


def build_pretrainer(args):
    from keras_electra.pretraining import ElectraPretrainer

    if args.preset:
        try:
            pretrainer = ElectraPretrainer.from_preset(
                args.preset,
                seed=args.seed,
                tie_all_weights=True if args.tie_all_weights else None,
                objective=args.objective,
            )
        except ValueError as e:
            if args.tie_all_weights and "tie_all_weights" in str(e):
                raise UsageError(f"--tie-all-weights: {e}") from None
            if "objective='mlm'" in str(e):
                raise UsageError(f"--objective mlm: {e}") from None
            raise
        length = min(
            args.sequence_length, pretrainer.backbone.max_sequence_length
        )
        return pretrainer, length
    if args.hidden_dim % args.num_heads:
        raise UsageError(
            f"--hidden-dim {args.hidden_dim} is not divisible by "
            f"--num-heads {args.num_heads}"
        )
    tokenizer = keras_electra.ElectraTokenizer(
        vocabulary=read_vocabulary(args.vocab)
    )
    return new_pretrainer(tokenizer, args.seed, args), args.sequence_length


def new_pretrainer(tokenizer, seed, recipe):
    """An `ElectraPretrainer` from random weights, seeded with `seed`.

    The one builder of `pretrain`, `tools/pretrain_bundled_model.py` and
    the benchmarks. `recipe` (these arguments, or a recipe as a namespace)
    gives `num_layers`, `num_heads`, `hidden_dim`, `embedding_dim`,
    `sequence_length`, `generator_hidden_fraction` and `tie_all_weights`;
    where it has them, `intermediate_dim` (default 4 x `hidden_dim`),
    `objective` ("rtd"), `mask_probability` (0.15) and the bundled model's
    two departures from Google's recipe, `freeze_embeddings` (the shared
    embeddings keep their random values) and `prior_bias` (the
    discriminator's output bias starts at the log-odds of the mask rate;
    replaced token detection only).
    """
    from keras_electra.pretraining import ElectraPretrainer
    from keras_electra.pretraining.masking import DEFAULT_MASK_PROBABILITY

    mask_probability = getattr(
        recipe, "mask_probability", DEFAULT_MASK_PROBABILITY
    )
    objective = getattr(recipe, "objective", "rtd")
    keras.utils.set_random_seed(seed)
    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=recipe.num_layers,
        num_heads=recipe.num_heads,
        hidden_dim=recipe.hidden_dim,
        embedding_dim=recipe.embedding_dim,
        intermediate_dim=getattr(recipe, "intermediate_dim", None)
        or 4 * recipe.hidden_dim,
        max_sequence_length=recipe.sequence_length,
    )
    pretrainer = ElectraPretrainer(
        backbone,
        tokenizer=tokenizer,
        generator_hidden_fraction=recipe.generator_hidden_fraction,
        tie_all_weights=recipe.tie_all_weights,
        mask_probability=mask_probability,
        seed=seed,
        objective=objective,
    )
    if getattr(recipe, "freeze_embeddings", False):
        pretrainer.backbone.embeddings.trainable = False
    if getattr(recipe, "prior_bias", False) and objective == "rtd":
        # Google starts the output bias at 0 (a replaced rate of 0.5).
        bias = pretrainer.discriminator.get_layer(
            "discriminator_head"
        ).dense_prediction.bias
        p = mask_probability
        bias.assign(np.full(bias.shape, math.log(p / (1 - p)), "float32"))
    return pretrainer


def write_corpus(documents, directory, stem):
    """Write documents as pre-training text files, one per document."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i, document in enumerate(documents):
        path = os.path.join(directory, f"{stem}_{i:04d}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(" ".join(p.split()) for p in document) + "\n")
        paths.append(path)
    return paths


def corpus_files(paths):
    """`--corpus`: files, and the files under directories (sorted)."""
    files = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        found = sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(path)
            for name in names
            if not name.startswith(".")
        )
        if not found:
            raise UsageError(f"--corpus {path!r} holds no files")
        files += found
    return files


def pretraining_files(args, run, fallback_texts=None, process_id=None):
    """The pre-training text files and a description of them.

    The bundled novels (training chapters only, one file per chapter, so
    that each pass visits the chapters in a new random order) and `.gz`
    corpora (one file per document, for the same reason) are written out
    to `RUN/data/pretraining_corpus/` first (each process of a
    multi-process run writes its own copy, under `process-<i>/`).
    """
    directory = run.path("data", "pretraining_corpus")
    if process_id is not None:
        directory = os.path.join(directory, f"process-{process_id}")
    if args.corpus:
        files = []
        for i, path in enumerate(corpus_files(args.corpus)):
            if path.endswith(".gz"):
                files += write_corpus(
                    readers.read_documents(path), directory, f"corpus{i}"
                )
            else:
                readers.check_text_file(path)
                files.append(os.path.abspath(path))
        return files, ", ".join(os.path.basename(p) for p in args.corpus)
    if fallback_texts is not None:
        document = [" ".join(t.split()) for t in fallback_texts]
        files = write_corpus([document], directory, "training_texts")
        return files, "the texts of the training examples"
    files = write_corpus(bundled.pretraining_documents(), directory, "chapter")
    return files, "bundled novels (training chapters only)"


class CurveRecorder(keras.callbacks.Callback):
    """Appends each round's mean metrics to a JSON file (resume-safe)."""

    def __init__(self, path, steps_per_round):
        super().__init__()
        self.file = path
        self.steps_per_round = steps_per_round
        self.rounds = []
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                self.rounds = json.load(f)

    def on_epoch_end(self, epoch, logs=None):
        self.rounds = [r for r in self.rounds if r["round"] < epoch]
        entry = {"round": epoch, "step": (epoch + 1) * self.steps_per_round}
        entry.update({k: float(v) for k, v in (logs or {}).items()})
        self.rounds.append(entry)
        with open(self.file, "w", encoding="utf-8") as f:
            json.dump(self.rounds, f, indent=1)

    def history(self):
        keys = sorted({k for r in self.rounds for k in r})
        return {k: [r.get(k) for r in self.rounds] for k in keys}


def data_parallel(args):
    """The `Cluster` of --workers/--process-id/--devices/--peer-timeout
    (before any model is built)."""
    from keras_electra.pretraining import data_parallel

    return data_parallel(
        workers=getattr(args, "workers", None),
        process_id=getattr(args, "process_id", None),
        devices=getattr(args, "devices", None),
        peer_timeout=getattr(args, "peer_timeout", PEER_TIMEOUT_SECONDS),
    )


def pretrain(args, run, fallback_texts=None, cluster=None):
    """Replaced-token-detection pre-training; writes `run/pretrained`.

    `keras_electra.pretraining.train` runs it (resumable: rerunning with
    the same run directory continues from `RUN/checkpoints/pretrain`).
    With a `cluster` of several replicas, each streams its own shard
    (`ReplicaData`); only the chief writes checkpoints, curves and the
    model, and the other processes return `None`.
    """
    from keras_electra.pretraining import PretrainingData
    from keras_electra.pretraining import ReplicaData
    from keras_electra.pretraining import train

    start = time.time()
    chief = cluster is None or cluster.is_chief
    def scope():
        return cluster.scope() if cluster else contextlib.nullcontext()

    with scope():
        pretrainer, length = build_pretrainer(args)
    files, corpus = pretraining_files(
        args,
        run,
        fallback_texts,
        cluster.process_id if cluster and cluster.num_processes > 1 else None,
    )
    options = dict(
        sequence_length=length,
        batch_size=args.pretrain_batch_size,
        seed=args.seed,
        shuffle_buffer_size=args.shuffle_buffer,
    )
    if cluster and cluster.num_replicas > 1:
        data = ReplicaData(files, pretrainer.tokenizer, cluster, **options)
        say(
            f"   data parallel: {cluster.num_replicas} replicas over "
            f"{cluster.num_processes} process(es); this is process "
            f"{cluster.process_id}, replicas {cluster.local_replicas}"
        )
    else:
        data = PretrainingData(files, pretrainer.tokenizer, **options)
    per_round = min(args.log_every, args.pretrain_steps)
    steps = math.ceil(args.pretrain_steps / per_round) * per_round
    warmup = (
        args.warmup_steps if args.warmup_steps is not None else steps // 10
    )
    objective = {"rtd": "replaced token detection", "mlm": "masked-LM"}
    say(
        f"\n== Pre-training ({objective[pretrainer.objective]}): {steps} "
        f"steps x {args.pretrain_batch_size} sequences of {length} tokens"
    )
    generator = (
        "the generator is the same network plus a masked-LM head (all "
        "weights tied)"
        if pretrainer.tie_all_weights
        else f"generator {pretrainer.generator.count_params():,} (embeddings "
        "shared)"
    )
    say(
        f"   corpus: {corpus} ({len(files)} files); discriminator "
        f"{pretrainer.discriminator.count_params():,} parameters, {generator}"
    )
    with scope():
        pretrainer.compile(
            learning_rate=args.pretrain_learning_rate,
            num_train_steps=steps,
            warmup_steps=warmup,
        )
    recorder = CurveRecorder(run.path("pretraining_history.json"), per_round)
    callbacks = [recorder] + run.callbacks("pretrain", checkpoints=False)
    fit_start = time.time()
    train(
        pretrainer,
        data,
        num_train_steps=steps,
        checkpoint_dir=run.path("checkpoints", "pretrain"),
        save_every=per_round,
        steps_per_epoch=per_round,
        callbacks=callbacks if chief else [],
        verbose=verbose(args),
        cluster=cluster,
    )
    fit_seconds = time.time() - fit_start
    with (
        cluster.chief_directory(run.path("pretrained"))
        if cluster
        else contextlib.nullcontext(run.path("pretrained"))
    ) as output:
        pretrainer.save_to_preset(output)
    if not chief:
        say(f"   process {cluster.process_id}: trained in {fit_seconds:.0f} s")
        return None
    history = recorder.history()
    plot = None
    if history.get("step"):
        plot = plot_pretraining_curves(
            history, run.path("pretraining_curves.png")
        )
    final = {
        k: history[k][-1]
        for k in (
            "generator_loss",
            "generator_accuracy",
            "discriminator_loss",
            "discriminator_accuracy",
        )
        if history.get(k)
    }
    say(f"   pre-trained in {fit_seconds:.0f} s -> {output}")
    return {
        "preset": output,
        "steps": steps,
        "batch_size": args.pretrain_batch_size,
        "sequence_length": length,
        "corpus": corpus,
        "seconds": round(time.time() - start, 1),
        "fit_seconds": round(fit_seconds, 1),
        "final": final,
        "plot": plot,
    }


def cmd_pretrain(args):
    cluster = data_parallel(args)
    run = RunDir(args, "pretrain", chief=cluster.is_chief)
    result = pretrain(args, run, cluster=cluster)
    if result is None:
        return
    run.write_json("results.json", {"pretraining": result})
    say(f"\nPre-trained generator + discriminator: {result['preset']}")
    if result["plot"]:
        say(f"Curves: {result['plot']}")
    say(
        f"Next: {PROG} finetune --model {result['preset']} "
        "(or fill-mask / detect --model ...)"
    )
