"""`keras-electra`: pre-train, fine-tune, evaluate, export and serve ELECTRA.

Parsing and checking the options imports neither Keras nor keras-hub (so
`--help` answers at once); `main` then sets `KERAS_BACKEND` from
`--backend` before anything imports Keras and dispatches to the command's
module (`pretrain`, `finetune`, `export`, `inference`, `info`,
`quickstart`). `_start_again` is the one way the command restarts itself.
"""

import argparse
import math
import os
import subprocess
import sys

from keras_electra.cli import readers
from keras_electra.cli.shared import BACKENDS
from keras_electra.cli.shared import DEFAULT_DISCRIMINATOR
from keras_electra.cli.shared import DEFAULT_GENERATOR
from keras_electra.cli.shared import PROG
from keras_electra.cli.shared import QUICKSTART
from keras_electra.cli.shared import UsageError
from keras_electra.utils import hugepages
from keras_electra.utils import quiet
from keras_electra.utils.constants import PRETRAINING_OBJECTIVES
from keras_electra.utils.worker_addresses import PEER_TIMEOUT_SECONDS
from keras_electra.utils.worker_addresses import parse_workers

# The quick start's tiny ELECTRA and its schedule, sized so that the whole
# loop fits in 10 minutes on 2 CPU cores (about 5 when idle; README.md, "The
# bundled task", has the measurements, including how it compares with no
# pre-training).


# === Argument types: each names the bad value in its error ===


def existing_file(value):
    if not os.path.exists(value):
        raise argparse.ArgumentTypeError(f"file {value!r} does not exist")
    if not os.path.isfile(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a file")
    return value


def corpus_path(value):
    if not os.path.exists(value):
        raise argparse.ArgumentTypeError(f"{value!r} does not exist")
    return value


def worker_list(value):
    try:
        return parse_workers(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def labelled_file(value):
    existing_file(value)
    try:
        readers.file_format(value)
    except readers.DataError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


def dataset_spec(value):
    try:
        readers.parse_dataset_spec(value)
    except readers.DataError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


def model_spec(value):
    """A built-in preset name, an `hf://` (or other `://`) handle, or an
    existing local directory (Keras preset, transformers checkpoint, pair
    directory written by `pretrain`, or a SavedModel where accepted)."""
    from keras_electra.presets import is_builtin_name
    from keras_electra.presets.resolver import unknown_preset_error

    if "://" in value or is_builtin_name(value):
        return value
    if os.path.isdir(value):
        return value
    if os.path.exists(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is a file; a model is a preset name, an hf:// handle "
            "or a directory"
        )
    if os.sep in value or "/" in value or value.startswith("."):
        raise argparse.ArgumentTypeError(f"directory {value!r} does not exist")
    raise argparse.ArgumentTypeError(str(unknown_preset_error(value)))


def _number(kind, minimum, inclusive, what):
    def parse(value):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not {'an integer' if kind is int else 'a number'}"
            ) from None
        if not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"{value!r} is not a finite number")
        if number < minimum or (not inclusive and number == minimum):
            raise argparse.ArgumentTypeError(f"{value!r} must be {what}")
        return number

    return parse


positive_int = _number(int, 1, True, "a positive integer")
nonnegative_int = _number(int, 0, True, "0 or more")
positive_float = _number(float, 0.0, False, "positive")


def fraction(value):
    number = positive_float(value)
    if number > 1.0:
        raise argparse.ArgumentTypeError(f"{value!r} must be in (0, 1]")
    return number


def sequence_length(value):
    number = positive_int(value)
    if number < 8:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 8")
    return number


# === Option groups shared by subcommands ===


def _common(parser):
    group = parser.add_argument_group("run")
    group.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (sets KERAS_BACKEND before Keras starts); "
        "default: $KERAS_BACKEND, else tensorflow",
    )
    group.add_argument(
        "--seed", type=nonnegative_int, default=0, help="random seed (0)"
    )
    group.add_argument(
        "--quiet", action="store_true", help="no progress bars"
    )
    _verbose(group)
    return group


def _verbose(parser):
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show the libraries' own notices and warnings as they "
        "print them (TensorFlow's C++ log, absl, Python warnings with their "
        "source lines)",
    )


def _outputs(parser):
    group = parser.add_argument_group("outputs")
    group.add_argument(
        "--output-dir",
        help="run directory for the config, checkpoints, results, plot and "
        "models (default: ./runs/<timestamp>); rerunning with the same "
        "directory resumes from its checkpoints",
    )
    group.add_argument(
        "--logdir",
        help="write TensorBoard logs of pre-training and fine-tuning here",
    )


def _architecture(parser, defaults):
    group = parser.add_argument_group(
        "model (a new ELECTRA, unless --preset is given)"
    )
    default_preset = defaults.get("preset")
    group.add_argument(
        "--preset",
        type=model_spec,
        default=default_preset,
        help="start from this pre-trained model instead: a preset name "
        f"(e.g. {DEFAULT_DISCRIMINATOR}), an hf:// handle or a local "
        "directory"
        + (f" (default: {default_preset})" if default_preset else ""),
    )
    group.add_argument(
        "--vocab",
        type=existing_file,
        help="WordPiece vocabulary file (one token per line, .gz allowed); "
        "default: the bundled BERT uncased vocabulary",
    )
    for name, kind, help_text in (
        ("hidden-dim", positive_int, "hidden size"),
        ("num-layers", positive_int, "transformer layers"),
        ("num-heads", positive_int, "attention heads"),
        ("embedding-dim", positive_int, "embedding size"),
    ):
        key = name.replace("-", "_")
        group.add_argument(
            f"--{name}",
            type=kind,
            default=defaults[key],
            help=f"{help_text} ({defaults[key]})",
        )
    group.add_argument(
        "--intermediate-dim",
        type=positive_int,
        help="feed-forward size (default: 4 x hidden size)",
    )
    group.add_argument(
        "--generator-hidden-fraction",
        type=fraction,
        default=defaults["generator_hidden_fraction"],
        help="generator hidden size as a share of the discriminator's "
        f"({defaults['generator_hidden_fraction']})",
    )
    group.add_argument(
        "--tie-all-weights",
        action="store_true",
        help="the generator is the discriminator's own network plus a "
        "masked-LM head (ELECTRA paper, section 3.2; --generator-hidden-"
        "fraction is then unused). Default: Google's separate, smaller "
        "generator sharing only the embeddings. With --preset, a pair saved "
        "tied is loaded tied either way",
    )


def _sequence_length(parser, default):
    parser.add_argument(
        "--sequence-length",
        type=sequence_length,
        default=default,
        help="tokens per sequence"
        + (f" ({default})" if default else " (default: the model's)"),
    )


def _pretraining(parser, defaults, prefixed):
    group = parser.add_argument_group("pre-training")
    p = "--pretrain-" if prefixed else "--"
    group.add_argument(
        "--corpus",
        nargs="+",
        type=corpus_path,
        help="pre-training text files or directories of them: one "
        "paragraph per line, an empty line between documents (.gz allowed); "
        "default: the bundled novels (their training chapters)",
    )
    names = lambda option: [f"{p}{option}"] + (  # noqa: E731
        [] if prefixed else [f"--pretrain-{option}"]
    )
    group.add_argument(
        *names("steps"),
        dest="pretrain_steps",
        type=nonnegative_int,
        default=defaults.get("pretrain_steps"),
        help=(
            f"training steps (default: {QUICKSTART['continued_pretrain_steps']}"
            f" of continued pre-training of {QUICKSTART['preset']}, "
            f"{QUICKSTART['pretrain_steps']} with --from-scratch, 0 with "
            "another --preset)"
            if prefixed
            else f"training steps ({defaults.get('pretrain_steps')})"
        ),
    )
    group.add_argument(
        *names("batch-size"),
        dest="pretrain_batch_size",
        type=positive_int,
        default=defaults["pretrain_batch_size"],
        help=f"sequences per step ({defaults['pretrain_batch_size']})",
    )
    group.add_argument(
        *names("learning-rate"),
        dest="pretrain_learning_rate",
        type=positive_float,
        default=None if prefixed else defaults["pretrain_learning_rate"],
        help="peak learning rate, ELECTRA's AdamW with linear warm-up and "
        + (
            f"decay (default: {QUICKSTART['continued_pretrain_learning_rate']:g}"
            f" to continue a pre-trained model, "
            f"{defaults['pretrain_learning_rate']:g} from scratch)"
            if prefixed
            else f"decay ({defaults['pretrain_learning_rate']})"
        ),
    )
    group.add_argument(
        "--warmup-steps",
        type=nonnegative_int,
        help="learning-rate warm-up steps (default: 10%% of the steps)",
    )
    group.add_argument(
        "--shuffle-buffer",
        type=positive_int,
        default=defaults["shuffle_buffer"],
        help="examples in the pre-training shuffle buffer "
        f"({defaults['shuffle_buffer']})",
    )
    group.add_argument(
        "--log-every",
        type=positive_int,
        default=None if prefixed else defaults["log_every"],
        help="steps per progress bar, curve point and checkpoint "
        + (
            f"(default: {QUICKSTART['continued_log_every']} to continue a "
            f"pre-trained model, {defaults['log_every']} from scratch)"
            if prefixed
            else f"({defaults['log_every']})"
        ),
    )
    if prefixed:  # the quick start pre-trains by replaced token detection
        parser.set_defaults(objective="rtd")
    else:
        group.add_argument(
            "--objective",
            choices=PRETRAINING_OBJECTIVES,
            default="rtd",
            help="rtd: replaced token detection (ELECTRA); mlm: masked-LM "
            "alone on the discriminator's network (BERT's objective, all "
            "weights tied; the comparison in benchmarks/RESULTS.md) (rtd)",
        )


def _data_parallel(parser):
    group = parser.add_argument_group(
        "data parallelism (JAX, TensorFlow; README: \"Pre-training on many "
        "machines\")"
    )
    group.add_argument(
        "--workers",
        type=worker_list,
        help="HOST0:PORT0,HOST1:PORT1,...: every process of a multi-process "
        "run, the same list in each; process 0 is the chief (JAX: its "
        "address is the coordinator; TensorFlow: the list becomes "
        "TF_CONFIG). --batch-size is then the global batch, and "
        "--output-dir must be a file system every process sees",
    )
    group.add_argument(
        "--process-id",
        type=nonnegative_int,
        help="this process's index in --workers (0 .. P-1)",
    )
    group.add_argument(
        "--devices",
        type=positive_int,
        help="devices of this process to train on (default: all visible); "
        "on a machine with only a CPU, the CPU is split into this many "
        "logical devices",
    )
    group.add_argument(
        "--peer-timeout",
        type=positive_float,
        default=PEER_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="when a process is lost, the others stop with an error after "
        "this long (TensorFlow: each collective's timeout, so it must cover "
        "the longest wait at a collective; JAX: the heartbeat timeout); "
        "default %(default)s",
    )


def _labelled_data(parser, with_train=True, with_validation=False):
    group = parser.add_argument_group(
        "labelled data (default: the bundled author task)"
    )
    if with_train:
        group.add_argument(
            "--train",
            type=labelled_file,
            help="training examples: .csv/.tsv (header row) or .jsonl, "
            ".gz allowed",
        )
    if with_validation:
        group.add_argument(
            "--validation", type=labelled_file, help="validation examples"
        )
    group.add_argument("--test", type=labelled_file, help="test examples")
    group.add_argument(
        "--dataset",
        type=dataset_spec,
        help="instead of files: tfds:NAME (tensorflow-datasets) or hf:NAME "
        "(Hugging Face datasets); needs that package",
    )
    group.add_argument(
        "--dataset-config", help="Hugging Face dataset configuration"
    )
    if with_train:
        group.add_argument(
            "--train-split", default="train", help="(--dataset) train split"
        )
    group.add_argument(
        "--test-split", default="test", help="(--dataset) test split"
    )
    group.add_argument(
        "--text-column", default="text", help="column of the text (text)"
    )
    group.add_argument(
        "--text-b-column",
        help="column of the second text, for sentence pairs",
    )
    group.add_argument(
        "--label-column", default="label", help="column of the label (label)"
    )
    if with_train:
        group.add_argument(
            "--max-train-examples",
            type=positive_int,
            help="use at most this many training examples",
        )
        group.add_argument(
            "--train-per-class",
            type=positive_int,
            default=QUICKSTART["train_per_class"],
            help="(bundled task) training passages per author "
            f"({QUICKSTART['train_per_class']})",
        )
    group.add_argument(
        "--test-per-class",
        type=positive_int,
        default=QUICKSTART["test_per_class"],
        help="(bundled task) test passages per author "
        f"({QUICKSTART['test_per_class']})",
    )


def _finetuning(parser, defaults, prefixed, preset_defaults=False):
    """`preset_defaults`: leave epochs and learning rate unset, for
    `fill_finetuning_defaults` (Google's for a built-in preset)."""
    group = parser.add_argument_group("fine-tuning")
    p = "--finetune-" if prefixed else "--"
    extra = lambda option: [] if prefixed else [f"--finetune-{option}"]  # noqa: E731

    def default(key, google):
        if preset_defaults:
            return None, (
                f"default: Google's for a built-in preset ({google}), "
                f"else {defaults[key]}"
            )
        return defaults[key], str(defaults[key])

    epochs, epochs_help = default("finetune_epochs", "3")
    group.add_argument(
        f"{p}epochs",
        *extra("epochs"),
        dest="finetune_epochs",
        type=positive_int,
        default=epochs,
        help=f"passes over the training data ({epochs_help})",
    )
    group.add_argument(
        f"{p}batch-size",
        *extra("batch-size"),
        dest="finetune_batch_size",
        type=positive_int,
        default=defaults["finetune_batch_size"],
        help=f"examples per step ({defaults['finetune_batch_size']})",
    )
    rate, rate_help = default(
        "finetune_learning_rate", "small and base 1e-4, large 5e-5"
    )
    group.add_argument(
        f"{p}learning-rate",
        *extra("learning-rate"),
        dest="finetune_learning_rate",
        type=positive_float,
        default=rate,
        help="peak learning rate, ELECTRA's fine-tuning AdamW with layer-wise "
        f"decay, warm-up and linear decay ({rate_help})",
    )
    group.add_argument(
        f"{p}layerwise-lr-decay",
        *extra("layerwise-lr-decay"),
        dest="layerwise_lr_decay",
        type=fraction,
        help="learning-rate factor per layer below the top; 1 turns it off "
        "(default: Google's, 0.8, or 0.9 for 24-layer models)",
    )


def fill_finetuning_defaults(args):
    """`finetune` options left unset: Google's fine-tuning defaults for a
    built-in preset's model size (`keras_electra.presets.FINETUNING_DEFAULTS`,
    from `configure_finetuning.py`), else the quick start's."""
    if args.command != "finetune":
        return
    from keras_electra.presets import finetuning_defaults

    google = finetuning_defaults(args.model)
    if google is None:
        google = dict(
            epochs=QUICKSTART["finetune_epochs"],
            learning_rate=QUICKSTART["finetune_learning_rate"],
            layerwise_lr_decay=None,  # the model's (create_optimizer)
        )
    if args.finetune_epochs is None:
        args.finetune_epochs = google["epochs"]
    if args.finetune_learning_rate is None:
        args.finetune_learning_rate = google["learning_rate"]
    if args.layerwise_lr_decay is None:
        args.layerwise_lr_decay = google["layerwise_lr_decay"]


def _texts(parser, what):
    parser.add_argument("texts", nargs="*", metavar="TEXT", help=what)
    parser.add_argument(
        "--input",
        type=existing_file,
        help="read the texts from this file, one per line",
    )


# === The parser ===

DESCRIPTION = """\
ELECTRA (Clark et al., 2020) in Keras 3 on TensorFlow, JAX or PyTorch.

Start with `keras-electra quickstart`: it shows the bundled tiny ELECTRA
(pre-trained by this package on public-domain novels) detecting replaced
tokens in held-out chapters, fine-tunes it to tell four authors apart,
compares it with the same model fine-tuned from random weights over several
draws, exports a SavedModel and predicts from it, offline, in minutes on a
laptop CPU."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from keras_electra import __version__

    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name, help_text, description=None):
        return sub.add_parser(
            name,
            help=help_text,
            description=description or help_text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    q = add(
        "quickstart",
        "the whole job: pre-train, fine-tune, evaluate against no "
        "pre-training, export, predict",
        "Start from the bundled pre-trained ELECTRA (electra_tiny_gutenberg_en):\n"
        "score its replaced token detection on held-out chapters against\n"
        "random weights, continue pre-training it briefly, fine-tune it and\n"
        "the same model from random weights on several draws of the bundled\n"
        "task and compare them (mean +- sd), export a SavedModel, reload it\n"
        "and predict on raw strings. Offline; or bring --preset and your own\n"
        "--train/--test files or --dataset, or pre-train --from-scratch.",
    )
    _common(q)
    _outputs(q)
    _architecture(q, QUICKSTART)
    q.add_argument(
        "--from-scratch",
        action="store_true",
        help="pre-train a new tiny ELECTRA (the model options above) "
        "instead of starting from --preset",
    )
    _sequence_length(q, QUICKSTART["sequence_length"])
    _pretraining(q, {**QUICKSTART, "pretrain_steps": None}, prefixed=True)
    _labelled_data(q)
    _finetuning(q, QUICKSTART, prefixed=True)
    q.add_argument(
        "--seeds",
        type=positive_int,
        default=QUICKSTART["seeds"],
        help="fine-tuning draws: each fine-tunes the pre-trained model and "
        "the same model from random weights on its own training passages "
        f"and seed ({QUICKSTART['seeds']})",
    )
    q.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip fine-tuning the not-pre-trained baseline",
    )

    p = add(
        "pretrain",
        "pre-train an ELECTRA generator + discriminator (replaced token "
        "detection)",
    )
    _common(p)
    _outputs(p)
    _architecture(p, {**QUICKSTART, "preset": None})
    _sequence_length(p, QUICKSTART["sequence_length"])
    _pretraining(p, QUICKSTART, prefixed=False)
    _data_parallel(p)

    f = add("finetune", "fine-tune a text classifier")
    _common(f)
    _outputs(f)
    f.add_argument(
        "--model",
        type=model_spec,
        default=DEFAULT_DISCRIMINATOR,
        help="the pre-trained model: preset name, hf:// handle, or "
        f"directory (e.g. RUN/pretrained) (default: {DEFAULT_DISCRIMINATOR})",
    )
    f.add_argument(
        "--random-init",
        action="store_true",
        help="same architecture, random weights (the no-pre-training "
        "baseline)",
    )
    f.add_argument(
        "--lora-rank",
        type=positive_int,
        help="train low-rank adapters of this rank (LoRA: "
        "`backbone.enable_lora`) and the classification head, the rest "
        "frozen; the preset carries the base weights and the adapters",
    )
    _sequence_length(f, None)
    _labelled_data(f, with_validation=True)
    _finetuning(f, QUICKSTART, prefixed=False, preset_defaults=True)

    e = add("evaluate", "accuracy of a fine-tuned classifier on test data")
    _common(e)
    e.add_argument(
        "--model",
        type=model_spec,
        required=True,
        help="the classifier (RUN/classifier from finetune or quickstart)",
    )
    e.add_argument("--output", help="also write the results here (JSON)")
    _labelled_data(e, with_train=False)

    r = add(
        "predict",
        "classify raw strings with a fine-tuned classifier or its SavedModel",
    )
    _common(r)
    r.add_argument(
        "--model",
        type=model_spec,
        required=True,
        help="RUN/classifier (Keras) or RUN/saved_model (SavedModel)",
    )
    _texts(r, "texts to classify")
    r.add_argument(
        "--json", action="store_true", help="print one JSON object per text"
    )

    x = add("export", "write a fine-tuned task as a TensorFlow SavedModel")
    _common(x)
    x.add_argument(
        "--model",
        type=model_spec,
        required=True,
        help="the task preset (RUN/classifier, a discriminator, a generator)",
    )
    x.add_argument(
        "--output", required=True, help="the SavedModel directory to write"
    )
    x.add_argument(
        "--overwrite", action="store_true", help="replace --output"
    )
    x.add_argument(
        "--quantize",
        choices=("int8",),
        help="quantize the task's weights first (`task.quantize`): int8 "
        "kernels, about a quarter of the float32 size",
    )
    x.add_argument(
        "--jit-compile",
        action="store_true",
        help="compile the model's part with XLA (`task.export(path, "
        "jit_compile=True)`): faster where TensorFlow itself loads the "
        "SavedModel, but TensorFlow Serving runs it only when started with "
        "--xla_cpu_compilation_enabled=true (benchmarks/SERVING.md)",
    )

    c = add(
        "convert",
        "convert a Google TF1, transformers or keras-hub checkpoint into a "
        "Keras preset (`convert --help` lists its options)",
    )
    c.add_argument("convert_args", nargs=argparse.REMAINDER)

    m = add("fill-mask", "predict the tokens behind [MASK] with a generator")
    _common(m)
    m.add_argument(
        "--model",
        type=model_spec,
        default=DEFAULT_GENERATOR,
        help="a generator (masked LM) preset, or a pair directory "
        f"(RUN/pretrained) (default: {DEFAULT_GENERATOR})",
    )
    m.add_argument(
        "--top-k", type=positive_int, default=5, help="candidates per [MASK]"
    )
    _texts(m, "texts containing [MASK]")

    d = add(
        "detect",
        "show which tokens a discriminator thinks were replaced",
    )
    _common(d)
    d.add_argument(
        "--model",
        type=model_spec,
        default=DEFAULT_DISCRIMINATOR,
        help="a discriminator preset, or a pair directory (RUN/pretrained) "
        f"(default: {DEFAULT_DISCRIMINATOR})",
    )
    d.add_argument(
        "--threshold",
        type=fraction,
        default=0.5,
        help="probability above which a token is marked replaced (0.5)",
    )
    _texts(d, "texts to check")

    i = add(
        "info",
        "print the versions and the Keras backend in use (loads no model)",
    )
    i.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (sets KERAS_BACKEND before Keras starts); "
        "default: $KERAS_BACKEND, else tensorflow",
    )
    _verbose(i)
    return parser


def _check(parser, args):
    """Checks across options; argparse-style errors (exit 2)."""
    sub = parser._subparsers._group_actions[0].choices.get(args.command)
    error = sub.error if sub is not None else parser.error
    if getattr(args, "dataset", None) and (
        getattr(args, "train", None) or getattr(args, "test", None)
    ):
        error("--dataset and --train/--test files exclude each other")
    if getattr(args, "train", None) and args.command == "quickstart":
        if not args.test:
            error("--train needs --test (the examples to evaluate on)")
    if args.command in ("predict", "fill-mask", "detect"):
        if not args.texts and not args.input:
            error("give TEXT arguments or --input FILE")
        if args.texts and args.input:
            error("give TEXT arguments or --input FILE, not both")
    workers = getattr(args, "workers", None)
    process_id = getattr(args, "process_id", None)
    if workers and process_id is None:
        error("--workers needs --process-id (this process's index)")
    if process_id is not None and not workers:
        error("--process-id needs --workers (every process's address)")
    if workers and process_id >= len(workers):
        error(
            f"--process-id {process_id} is not in 0..{len(workers) - 1} "
            f"(--workers has {len(workers)} addresses)"
        )
    output_dir = getattr(args, "output_dir", None)
    if output_dir and os.path.isfile(output_dir):
        error(f"--output-dir {output_dir!r} is a file")
    if args.command == "export":
        if os.path.exists(args.output) and not args.overwrite:
            error(f"--output {args.output!r} exists; pass --overwrite")


def _current_backend():
    if "keras" in sys.modules:
        return sys.modules["keras"].config.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def _start_again(environ, argv=None):
    """Run this command again in a new process started with `environ`.

    What calls for it is a setting read only when a process starts:
    glibc reads `GLIBC_TUNABLES` (huge pages for `malloc`; see
    `keras_electra.utils.hugepages`) and Keras its backend
    (`KERAS_BACKEND`) when it is first imported.

    Two ways, as the process is the command's own or a Python program's:

    - `argv=None`, the `keras-electra` console script (or `python -m
      keras_electra.cli`): its process is replaced (`os.execve`) by the
      same command line,
      so whoever started it keeps the same process (id, terminal, signals,
      exit code), and `sys.argv[0]` still names the script, which keeps
      `import keras_electra` from loading Keras before `--backend` is read
      (`keras_electra/__init__.py`). Returns None, and only where that
      cannot be done (no script file, as under `python -c`, or `execve`
      failed): the command then runs on in this process.
    - `argv` given, `main(argv)` called from Python: the caller's process
      must live on, so the command runs in a child process, and its exit
      code is returned. The child imports this very `keras_electra`, never
      the working directory's (`python -m`/`-c` would put the working
      directory first on `sys.path`, where a clone's `keras_electra/`
      folder shadows an editable install).
    """
    if argv is None:
        # The process' own command line (`keras-electra ...` or `python -m
        # keras_electra.cli ...`), as it was typed.
        original = list(getattr(sys, "orig_argv", ())) or [
            sys.executable, *sys.argv
        ]
        if "-m" not in original and not os.path.isfile(sys.argv[0]):
            return None
        try:
            os.execve(sys.executable, [sys.executable, *original[1:]], environ)
        except OSError:
            return None
    root = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    code = (
        f"import sys; sys.path[0] = {root!r}; "
        "from keras_electra.cli.app import main; sys.exit(main())"
    )
    return subprocess.call([sys.executable, "-c", code, *argv], env=environ)


def _hugepages_environment():
    """The environment that gives this command huge pages for `malloc`, or
    None where there is nothing to do.

    Only in the `keras-electra` console script itself (a Python caller of
    `main` keeps its process), before Keras starts, and where the machine
    supports it (`keras_electra.utils.hugepages`).
    """
    import keras_electra

    if not keras_electra._started_as_command() or "keras" in sys.modules:
        return None
    return hugepages.environment_with_hugepages()


def _command(name):
    """The function that runs subcommand `name` (imports Keras)."""
    from keras_electra.cli import export
    from keras_electra.cli import finetune
    from keras_electra.cli import inference
    from keras_electra.cli import info
    from keras_electra.cli import pretrain
    from keras_electra.cli import quickstart

    return {
        "quickstart": quickstart.cmd_quickstart,
        "info": info.cmd_info,
        "pretrain": pretrain.cmd_pretrain,
        "finetune": finetune.cmd_finetune,
        "evaluate": finetune.cmd_evaluate,
        "predict": inference.cmd_predict,
        "export": export.cmd_export,
        "fill-mask": inference.cmd_fill_mask,
        "detect": inference.cmd_detect,
    }[name]


def main(argv=None):
    """Entry point of the `keras-electra` command. Returns the exit code."""
    started_by_script = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "convert":
        # Not through `_command` (which imports Keras): `convert --help`
        # stays instant.
        from keras_electra.conversion import command

        return command.main(
            argv[1:], prog=f"{PROG} convert",
            quiet_libraries=started_by_script,
        )
    parser = build_parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    fill_finetuning_defaults(args)
    if started_by_script:
        environ = _hugepages_environment()
        if environ is not None:
            # Replaces this process; returns only where it cannot, and the
            # command runs on without (the setting is only about speed).
            _start_again(environ)
    if args.backend and args.backend != _current_backend():
        if "keras" in sys.modules:
            # Keras, imported before `main`, cannot switch backend in a
            # running process: run the command again under the right one.
            return _start_again(
                dict(os.environ, KERAS_BACKEND=args.backend), argv
            )
        # Nothing has imported Keras yet (parsing does not): it starts on
        # this backend.
        os.environ["KERAS_BACKEND"] = args.backend
    if started_by_script and not args.verbose:
        # The command's own process only: a Python caller of `main` keeps
        # its warnings and logging as they are.
        quiet.quiet_libraries()
    command = _command(args.command)
    try:
        return command(args) or 0
    except (UsageError, readers.DataError) as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError, ImportError, RuntimeError) as e:
        if os.environ.get("KERAS_ELECTRA_DEBUG"):
            raise
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
