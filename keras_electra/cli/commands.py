"""What each `keras-electra` subcommand does (Keras is running by now)."""

import contextlib
import json
import math
import os
import platform
import sys
import time
import warnings

import keras
import numpy as np

import keras_electra
from keras_electra import data as bundled
from keras_electra.cli import readers
from keras_electra.cli.plots import plot_pretraining_curves
from keras_electra.cli.shared import PROG
from keras_electra.cli.shared import UsageError
from keras_electra.cli.shared import default_output_dir
from keras_electra.presets import DISCRIMINATOR
from keras_electra.presets import GENERATOR
# A pair directory written by `pretrain` (its format: `pair_preset`) and
# `pair_member(model, DISCRIMINATOR)`: one of its presets, or `model`.
from keras_electra.pretraining.pair_preset import member_preset as pair_member
from keras_electra.utils import hugepages
from keras_electra.utils import quiet

# Label names travel in the classifier's own config (`label_names`); runs
# made before that kept them in this side file, which is still read.
LABEL_NAMES_FILE = "label_names.json"
SAVED_MODEL_FILE = "saved_model.pb"
# Fine-tuning without --sequence-length packs at most this many tokens
# (a 512-token preset would be slow on a CPU).
DEFAULT_MAX_FINETUNE_LENGTH = 128


def run(args):
    return COMMANDS[args.command](args)


# === Small helpers ===


def say(*parts):
    print(*parts, flush=True)


def verbose(args):
    """Keras `verbose`: none, a progress bar, or (not a terminal) one line
    per epoch."""
    if args.quiet:
        return 0
    return 1 if sys.stdout.isatty() else 2


class RunDir:
    """The run directory: config, checkpoints, results, plot, models."""

    def __init__(self, args, command, chief=True):
        self.root = os.path.abspath(
            args.output_dir or default_output_dir(command)
        )
        os.makedirs(self.root, exist_ok=True)
        self.logdir = getattr(args, "logdir", None)
        if not chief:
            return  # A data-parallel run's other processes write nothing.
        config = {
            "command": command,
            "options": {k: v for k, v in vars(args).items() if k != "command"},
            "backend": keras.config.backend(),
            "keras_electra": keras_electra.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        self.write_json("config.json", config)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_json(self, name, value):
        with open(self.path(name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2, default=str)
            f.write("\n")

    def callbacks(self, name, checkpoints=True):
        """Checkpoints (resume on rerun) and TensorBoard logs for `name`."""
        from keras_electra.pretraining.checkpointing import (
            AtomicBackupAndRestore,
        )

        callbacks = []
        if checkpoints:
            callbacks.append(
                AtomicBackupAndRestore(
                    self.path("checkpoints", name), delete_checkpoint=False
                )
            )
        if self.logdir:
            _require_tensorboard()
            callbacks.append(
                keras.callbacks.TensorBoard(
                    os.path.join(self.logdir, name), write_graph=False
                )
            )
        return callbacks


def _require_tensorboard():
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise UsageError(
            "--logdir needs the `tensorboard` package: pip install tensorboard"
        ) from None


def read_label_names(preset):
    """The names of an old run's side file, or `None`."""
    path = os.path.join(preset, LABEL_NAMES_FILE) if os.path.isdir(preset) else ""
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return None


def read_texts(args):
    if args.input:
        texts = [line for line in readers.read_lines(args.input) if line.strip()]
        if not texts:
            raise UsageError(f"--input {args.input!r} holds no text")
        return texts
    return list(args.texts)


def is_saved_model(path):
    return os.path.isfile(os.path.join(path, SAVED_MODEL_FILE))


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# === Labelled data ===


class TaskData:
    def __init__(self, train, test, validation, label_names, description):
        self.train = train
        self.test = test
        self.validation = validation
        self.label_names = list(label_names)
        self.description = description

    def ids(self, split):
        return np.array(readers.label_ids(split, self.label_names), "int32")


def bundled_task(args):
    task = bundled.author_task(
        train_per_class=getattr(args, "train_per_class", 1),
        test_per_class=args.test_per_class,
    )
    train, test = (
        labelled_split(task, name, "bundled author task")
        for name in ("train", "test")
    )
    return train, test, task["label_names"], task


def labelled_split(drawn, name, source):
    """`LabelledText` of split `name` of a bundled task dict (examples
    `(text, label)` or `((text_a, text_b), label)`, label an index into
    `drawn["label_names"]`)."""
    names = drawn["label_names"]
    texts = [t for t, _ in drawn[name]]
    pairs = bool(texts) and isinstance(texts[0], tuple)
    return readers.LabelledText(
        [t[0] for t in texts] if pairs else texts,
        [t[1] for t in texts] if pairs else None,
        [names[label] for _, label in drawn[name]],
        source=f"{source} ({name})",
    )


def task_data(drawn, description, source="bundled task"):
    """`TaskData` (train and test, no validation) of a bundled task dict."""
    return TaskData(
        labelled_split(drawn, "train", source),
        labelled_split(drawn, "test", source),
        None,
        drawn["label_names"],
        description,
    )


def load_task_data(args, need_train=True, label_names=None, run=None):
    """The labelled data the options ask for (see `_labelled_data`)."""
    columns = dict(
        text_column=args.text_column,
        label_column=args.label_column,
        text_b_column=args.text_b_column,
    )
    train = test = validation = None
    if args.dataset:
        if need_train:
            train = readers.read_dataset(
                args.dataset,
                args.train_split,
                config=args.dataset_config,
                max_examples=getattr(args, "max_train_examples", None),
                **columns,
            )
        test = readers.read_dataset(
            args.dataset, args.test_split, config=args.dataset_config, **columns
        )
        description = f"{args.dataset} ({args.train_split}/{args.test_split})"
        declared = (train or test).label_names
    elif (need_train and getattr(args, "train", None)) or args.test:
        if need_train:
            if not args.train:
                raise UsageError("--test without --train: give both")
            train = readers.read_labelled_file(args.train, **columns)
        if args.test:
            test = readers.read_labelled_file(args.test, **columns)
        description = ", ".join(
            os.path.basename(s.source) for s in (train, test) if s is not None
        )
        declared = None
    else:
        train, test, declared, task = bundled_task(args)
        description = (
            f"bundled author task: {len(declared)} authors, "
            f"{len(train) // len(declared)} training and "
            f"{len(test) // len(declared)} test passages each "
            f"(test chapters held out)"
        )
        if run is not None:
            os.makedirs(run.path("data"), exist_ok=True)
            for name in ("train", "test"):
                readers.write_labelled_tsv(
                    run.path("data", f"{name}.tsv"), task[name], declared
                )
        if not need_train:
            train = None
    validation_file = getattr(args, "validation", None)
    if validation_file:
        validation = readers.read_labelled_file(validation_file, **columns)
    max_train = getattr(args, "max_train_examples", None)
    if train is not None and max_train and len(train) > max_train:
        keep = np.random.default_rng(args.seed).permutation(len(train))
        keep = sorted(keep[:max_train])
        train = readers.LabelledText(
            [train.texts[i] for i in keep],
            None if train.texts_b is None else [train.texts_b[i] for i in keep],
            [train.labels[i] for i in keep],
            train.source,
            train.label_names,
        )
    if label_names is None:
        if train is None:
            raise UsageError("no training data to take the labels from")
        label_names = readers.label_vocabulary(train, declared)
    return TaskData(train, test, validation, label_names, description)


# === Pre-training ===


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
    """The `Cluster` of --workers/--process-id/--devices (before any model
    is built)."""
    from keras_electra.pretraining import data_parallel

    return data_parallel(
        workers=getattr(args, "workers", None),
        process_id=getattr(args, "process_id", None),
        devices=getattr(args, "devices", None),
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


# === Fine-tuning and evaluation ===


def build_classifier(model, num_classes, seed, random_init, length,
                     label_names=None):
    keras.utils.set_random_seed(seed)
    with quiet.optimizer_not_loaded_is_expected():
        classifier = keras_electra.ElectraClassifier.from_preset(
            pair_member(model, DISCRIMINATOR),
            num_classes=num_classes,
            label_names=label_names,
            load_weights=not random_init,
        )
    preprocessor = classifier.preprocessor
    if length is None:
        length = min(preprocessor.sequence_length, DEFAULT_MAX_FINETUNE_LENGTH)
    limit = classifier.backbone.max_sequence_length
    if length > limit:
        raise UsageError(
            f"--sequence-length {length} exceeds the model's "
            f"max_sequence_length {limit}"
        )
    preprocessor.sequence_length = length
    return classifier


def labelled_dataset(data, ids, batch_size, seed=None):
    """A batched `tf.data.Dataset` of `(text or (text_a, text_b), label)`,
    reshuffled every epoch when `seed` is given."""
    import tensorflow as tf

    inputs = data.inputs()
    if isinstance(inputs, tuple):
        inputs = tuple(tf.constant(column) for column in inputs)
    else:
        inputs = tf.constant(inputs)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, ids))
    if seed is not None:
        dataset = dataset.shuffle(
            len(ids), seed=seed, reshuffle_each_iteration=True
        )
    return dataset.batch(batch_size)


def predict_classes(classifier, inputs, batch_size, verbose_level=0):
    logits = classifier.predict(inputs, batch_size=batch_size, verbose=verbose_level)
    logits = np.asarray(keras.ops.convert_to_numpy(logits), "float32")
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def accuracy_of(probabilities, ids):
    return float(np.mean(np.argmax(probabilities, -1) == ids))


def finetune(args, run, model, task, name, random_init=False):
    """Fine-tune `model` on `task.train`; evaluate on `task.test`."""
    from keras_electra.finetuning import create_optimizer

    start = time.time()
    classifier = build_classifier(
        model,
        len(task.label_names),
        args.seed,
        random_init,
        getattr(args, "sequence_length", None),
        label_names=task.label_names,
    )
    lora_rank = getattr(args, "lora_rank", None)
    if lora_rank:
        # Only the adapters and the head train; the preset keeps the base
        # weights and the adapters apart (see `save_to_preset`).
        classifier.backbone.enable_lora(lora_rank)
    train_ids = task.ids(task.train)
    steps = args.finetune_epochs * math.ceil(
        len(task.train) / args.finetune_batch_size
    )
    classifier.compile(
        optimizer=create_optimizer(
            classifier,
            learning_rate=args.finetune_learning_rate,
            num_train_steps=steps,
            layerwise_lr_decay=getattr(args, "layerwise_lr_decay", None),
        ),
        metrics=["accuracy"],
    )
    kind = "random weights" if random_init else "pre-trained weights"
    if lora_rank:
        kind += f", LoRA rank {lora_rank}"
    say(
        f"\n== Fine-tuning {name} ({kind}): {len(task.train)} examples, "
        f"{args.finetune_epochs} epochs, {steps} steps, learning rate "
        f"{args.finetune_learning_rate:g}"
    )
    validation = None
    if task.validation is not None:
        validation = labelled_dataset(
            task.validation, task.ids(task.validation), 64
        )
    classifier.fit(
        labelled_dataset(
            task.train, train_ids, args.finetune_batch_size, seed=args.seed
        ),
        epochs=args.finetune_epochs,
        shuffle=False,  # `labelled_dataset` shuffles every epoch
        validation_data=validation,
        callbacks=run.callbacks(name),
        verbose=verbose(args),
    )
    fit_seconds = time.time() - start
    output = run.path(name)
    classifier.save_to_preset(output)  # with its `label_names`
    result = {
        "model": model,
        "random_init": random_init,
        "preset": output,
        "train_examples": len(task.train),
        "steps": steps,
        "seconds": round(fit_seconds, 1),
    }
    if task.test is not None:
        probabilities = predict_classes(
            classifier, task.test.inputs(), 64, verbose(args)
        )
        result["test_examples"] = len(task.test)
        result["test_accuracy"] = accuracy_of(
            probabilities, task.ids(task.test)
        )
        result["test_predictions"] = np.argmax(probabilities, -1).tolist()
        say(f"   test accuracy: {result['test_accuracy']:.3f}")
    return classifier, result


# === SavedModel ===


def saved_model_predict(path, inputs, batch_size=64):
    """Labels, scores and probabilities from a SavedModel on raw strings."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the WordPiece ops)

    served = tf.saved_model.load(path)
    function = served.signatures["serving_default"]
    names = sorted(function.structured_input_signature[1])
    pairs = isinstance(inputs, tuple)
    columns = inputs if pairs else (inputs,)
    if len(columns) != len(names):
        raise UsageError(
            f"the SavedModel {path!r} takes {len(names)} text input(s) "
            f"({', '.join(names)}), {len(columns)} were given"
        )
    order = ("text_a", "text_b") if pairs else names
    labels, scores, probabilities = [], [], []
    for start in range(0, len(columns[0]), batch_size):
        feed = {
            name: tf.constant(column[start : start + batch_size])
            for name, column in zip(order, columns)
        }
        out = function(**feed)
        labels += [x.decode("utf-8") for x in out["label"].numpy()]
        scores += out["score"].numpy().tolist()
        if "probabilities" in out:
            probabilities += out["probabilities"].numpy().tolist()
    return labels, scores, probabilities


def export_classifier(classifier, path, label_names):
    start = time.time()
    classifier.export(path, label_names=label_names, overwrite=True)
    return time.time() - start


# === The subcommands ===


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


def cmd_finetune(args):
    run = RunDir(args, "finetune")
    task = load_task_data(args, run=run)
    say(f"Data: {task.description}; labels: {', '.join(task.label_names)}")
    _, result = finetune(
        args, run, args.model, task, "classifier", args.random_init
    )
    result.pop("test_predictions", None)
    run.write_json("results.json", {"finetuning": result})
    say(f"\nClassifier: {result['preset']}")
    say(f"Next: {PROG} export --model {result['preset']} --output MODEL_DIR")


def load_classifier(model):
    preset = pair_member(model, DISCRIMINATOR)
    with quiet.optimizer_not_loaded_is_expected():
        classifier = keras_electra.ElectraClassifier.from_preset(preset)
    names = classifier.label_names or read_label_names(preset)
    if names is None:
        names = [str(i) for i in range(classifier.num_classes)]
    return classifier, names


def cmd_evaluate(args):
    classifier, names = load_classifier(args.model)
    task = load_task_data(args, need_train=False, label_names=names)
    if task.test is None:
        raise UsageError("no test data: give --test FILE or --dataset")
    probabilities = predict_classes(
        classifier, task.test.inputs(), 64, verbose(args)
    )
    ids = task.ids(task.test)
    predicted = np.argmax(probabilities, -1)
    result = {
        "model": args.model,
        "data": task.description,
        "examples": len(ids),
        "accuracy": accuracy_of(probabilities, ids),
        "per_class_accuracy": {
            name: float(np.mean(predicted[ids == i] == i))
            for i, name in enumerate(names)
            if np.any(ids == i)
        },
    }
    say(f"accuracy: {result['accuracy']:.4f} on {len(ids)} examples")
    for name, value in result["per_class_accuracy"].items():
        say(f"  {name:<20} {value:.4f}")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)


def cmd_predict(args):
    texts = read_texts(args)
    if is_saved_model(args.model):
        labels, scores, _ = saved_model_predict(args.model, texts)
    else:
        classifier, names = load_classifier(args.model)
        probabilities = predict_classes(classifier, texts, 64)
        labels = [names[i] for i in np.argmax(probabilities, -1)]
        scores = probabilities.max(-1).tolist()
    for text, label, score in zip(texts, labels, scores):
        if args.json:
            say(json.dumps({"text": text, "label": label, "score": score}))
        else:
            say(f"{label}\t{score:.3f}\t{text}")


TASK_CLASSES = (
    "ElectraClassifier",
    "ElectraDiscriminator",
    "ElectraMaskedLM",
    "ElectraTokenClassifier",
    "ElectraQuestionAnswerer",
    "ElectraMultipleChoice",
)


def load_task(model):
    """Any exportable task from a preset, by its `task.json` class."""
    path = os.path.join(model, "task.json") if os.path.isdir(model) else ""
    class_name = "ElectraDiscriminator"
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            class_name = json.load(f).get("class_name", class_name)
    if class_name not in TASK_CLASSES:
        raise UsageError(
            f"{model!r} holds a {class_name}, which cannot be exported; "
            f"exportable: {', '.join(TASK_CLASSES)}"
        )
    with quiet.optimizer_not_loaded_is_expected():
        return getattr(keras_electra, class_name).from_preset(model)


def cmd_export(args):
    model = pair_member(args.model, DISCRIMINATOR)
    task = load_task(model)
    # The task's own `label_names` are exported with it; an old run's side
    # file names a classifier saved without them.
    names = None
    if getattr(task, "label_names", None) is None:
        names = read_label_names(model)
    if args.quantize:
        with warnings.catch_warnings():
            # Keras names every layer without weights to quantize
            # (dropout, layer norm, ...): noise here.
            warnings.filterwarnings(
                "ignore", message=".*does not have a `quantize` method"
            )
            task.quantize(args.quantize)
    options = {"overwrite": args.overwrite}
    if names is not None:
        options["label_names"] = names
    path = task.export(args.output, **options)
    say(f"SavedModel ({type(task).__name__}): {path}")
    say(f"Next: {PROG} predict --model {path} \"some text\"")


def cmd_fill_mask(args):
    texts = read_texts(args)
    generator = keras_electra.ElectraMaskedLM.from_preset(
        pair_member(args.model, GENERATOR)
    )
    for text, masks in zip(texts, generator.fill_mask(texts, top_k=args.top_k)):
        say(text)
        for i, candidates in enumerate(masks, 1):
            shown = ", ".join(f"{t} ({p:.2f})" for t, p in candidates)
            say(f"  [MASK] {i}: {shown}")


def cmd_detect(args):
    texts = read_texts(args)
    discriminator = keras_electra.ElectraDiscriminator.from_preset(
        pair_member(args.model, DISCRIMINATOR)
    )
    for text, tokens in zip(texts, discriminator.detect_replaced(texts)):
        marked = [
            f"[{t}]" if p > args.threshold else t for t, p in tokens
        ]
        say(" ".join(marked))
        replaced = [(t, p) for t, p in tokens if p > args.threshold]
        shown = ", ".join(f"{t} ({p:.2f})" for t, p in replaced) or "none"
        say(f"  replaced (p > {args.threshold}): {shown}")


def run_convert(argv):
    """`keras-electra convert ...`: `keras_electra.conversion.command`."""
    from keras_electra.conversion import command

    return command.main(argv, prog=f"{PROG} convert")


# === quickstart ===


def cmd_info(args):
    """Versions and the backend Keras runs on (cheap: loads no model)."""
    from importlib import metadata

    backend = keras.config.backend()
    library = sys.modules.get(backend)
    say(f"{PROG} {keras_electra.__version__}")
    say(f"backend: {backend} {getattr(library, '__version__', '')}".rstrip())
    say(f"keras: {keras.__version__}")
    try:
        say(f"keras-hub: {metadata.version('keras-hub')}")
    except metadata.PackageNotFoundError:
        say("keras-hub: not installed")
    say(f"python: {platform.python_version()}")
    say(f"malloc huge pages: {hugepages.status()}")


COMMANDS = {
    "info": cmd_info,
    "pretrain": cmd_pretrain,
    "finetune": cmd_finetune,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "export": cmd_export,
    "fill-mask": cmd_fill_mask,
    "detect": cmd_detect,
}
