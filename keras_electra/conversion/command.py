"""Convert an ELECTRA checkpoint into a keras_electra (Keras) preset.

The converter behind `tools/convert_checkpoint.py` and `keras-electra
convert` (it lives in the package so that an installed wheel has it).

Sources (detected from the files, or forced with --format):

  tf1           Google's original release (google-research/electra):
                model.ckpt-<step>.index, model.ckpt-<step>.data-*, vocab.txt
                (optionally the `checkpoint` state file). It holds both
                networks; --model picks the discriminator, the generator,
                or the pair for continued pre-training.
  transformers  a transformers directory: config.json, vocab.txt (or
                tokenizer.json), model.safetensors or pytorch_model.bin.
  keras_hub     a preset of keras-hub's own ElectraBackbone.

Write to --output DIR, or install a built-in preset into keras_electra's
cache with --preset-name NAME, after which `from_preset(NAME)` works
offline.

With --to transformers it goes the other way: SOURCE is a keras_electra
preset (a task directory such as RUN/classifier, a pre-trained pair such as
RUN/pretrained or the bundled electra_tiny_gutenberg_en, a built-in name or
an hf:// handle), written to --output as transformers checkpoints: the
task's class (ElectraForSequenceClassification, ... with id2label), or for
a pair OUTPUT/discriminator (ElectraForPreTraining) and OUTPUT/generator
(ElectraForMaskedLM), each with vocab.txt and tokenizer_config.json
(`keras_electra.export_transformers`).

Examples:

  # Google's ELECTRA-Base, unzipped in ./electra_base, as the cached preset:
  keras-electra convert --preset-name electra_base_discriminator_en electra_base
  keras-electra convert --preset-name electra_base_generator_en electra_base

  # Both networks, for continued pre-training:
  keras-electra convert --model pair --output electra_base_pair electra_base

  # The bundled pre-trained pair out to transformers:
  keras-electra convert --to transformers --output hf_pair electra_tiny_gutenberg_en
"""

import argparse
import json
import os
import shutil
import sys

from keras_electra.utils import quiet
from keras_electra.presets import DISCRIMINATOR
from keras_electra.presets import PAIR_MEMBERS

FORMATS = ("auto", "tf1", "transformers", "keras_hub")
TARGETS = ("keras", "transformers")
TF1_ONLY = ("model", "vocab", "num_heads", "generator_num_heads", "sequence_length")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="convert_checkpoint.py",
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "source",
        help="the checkpoint: a directory, or a TF1 checkpoint prefix "
        "(.../model.ckpt-<step>)",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--output", help="directory to write the preset to")
    where.add_argument(
        "--preset-name",
        help="install as this built-in preset (e.g. "
        "electra_base_discriminator_en) in keras_electra's cache",
    )
    parser.add_argument("--format", choices=FORMATS, default="auto")
    parser.add_argument(
        "--to",
        choices=TARGETS,
        default="keras",
        help="keras (default): a checkpoint into a Keras preset; "
        "transformers: a keras_electra preset or pair out to transformers "
        "checkpoints (with --output)",
    )
    parser.add_argument(
        "--model",
        choices=(*PAIR_MEMBERS, "pair"),
        help="(tf1) which network to convert; `pair` writes "
        "OUTPUT/discriminator, OUTPUT/generator and "
        "OUTPUT/pretraining_pair.json. Default: discriminator, or the "
        "network of --preset-name",
    )
    parser.add_argument(
        "--vocab", help="(tf1) vocab.txt; default: the one beside the checkpoint"
    )
    parser.add_argument(
        "--num-heads",
        type=int,
        help="(tf1) attention heads of the converted network (of the "
        "discriminator for `pair`); default: hidden size / 64, Google's rule",
    )
    parser.add_argument(
        "--generator-num-heads",
        type=int,
        help="(tf1) attention heads of the generator for `--model pair`",
    )
    parser.add_argument(
        "--cased",
        action="store_true",
        help="(tf1) the vocabulary is cased (Google's English models are not)",
    )
    parser.add_argument(
        "--sequence-length",
        type=int,
        help="(tf1) the preprocessor's sequence length; default: the number "
        "of position embeddings",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing output"
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show the libraries' own notices and warnings",
    )
    return parser


def detect_format(source):
    from keras_electra.conversion.google_tf1_loader import (
        is_google_tf1_checkpoint,
    )
    from keras_electra.conversion.keras_hub_loader import (
        is_keras_hub_electra_preset,
    )
    from keras_electra.presets.resolver import is_transformers_dir

    if is_google_tf1_checkpoint(source):
        return "tf1"
    if os.path.isdir(source) and is_keras_hub_electra_preset(source):
        return "keras_hub"
    if os.path.isdir(source) and is_transformers_dir(source):
        return "transformers"
    raise ValueError(
        f"`{source}` is not a checkpoint keras_electra can convert. Expected "
        "Google's TF1 release (model.ckpt-<step>.index + .data-*, "
        "vocab.txt), a transformers directory (config.json with "
        "`model_type`, weights, vocab.txt), or a keras-hub ElectraBackbone "
        "preset."
    )


def make_converter(fmt, args):
    """`convert(source, output_dir)` for the format and options."""
    if fmt == "tf1":
        from keras_electra.conversion.google_tf1_loader import (
            convert_google_tf1_checkpoint,
        )

        def convert(source, output_dir):
            return convert_google_tf1_checkpoint(
                source,
                output_dir,
                model=args.model or DISCRIMINATOR,
                vocabulary=args.vocab,
                num_heads=args.num_heads,
                generator_num_heads=args.generator_num_heads,
                lowercase=not args.cased,
                sequence_length=args.sequence_length,
            )

        return convert
    given = [
        f"--{k.replace('_', '-')}" for k in TF1_ONLY if getattr(args, k)
    ] + (["--cased"] if args.cased else [])
    if given:
        raise ValueError(
            f"{', '.join(given)} only apply to Google's TF1 checkpoints; "
            f"this source is in {fmt} format, which records them itself."
        )
    if fmt == "keras_hub":
        from keras_electra.conversion.keras_hub_loader import (
            convert_keras_hub_preset,
        )

        return convert_keras_hub_preset
    from keras_electra.conversion.transformers_loader import (
        convert_transformers_checkpoint,
    )

    return convert_transformers_checkpoint


def _describe(result):
    models = result.values() if isinstance(result, dict) else [result]
    return ", ".join(
        f"{type(m).__name__} ({m.count_params():,} parameters)" for m in models
    )


def _free_target(target, force):
    """Check that `target` may be written: absent, empty, or `force`
    (then removed)."""
    if os.path.exists(target) and os.listdir(target):
        if not force:
            raise FileExistsError(
                f"`{target}` already exists; pass --force to replace it."
            )
        shutil.rmtree(target)


def run_to_transformers(args):
    """`--to transformers`: `keras_electra.export_transformers`."""
    from keras_electra.conversion.transformers_loader import (
        export_transformers,
    )

    if args.preset_name:
        raise ValueError(
            "--to transformers writes to --output DIR (--preset-name "
            "installs a Keras preset)."
        )
    given = [f"--{k.replace('_', '-')}" for k in TF1_ONLY if getattr(args, k)]
    if given or args.format != "auto":
        raise ValueError(
            f"{', '.join(given) or '--format'} only apply when converting "
            "into Keras; --to transformers reads a keras_electra preset."
        )
    target = os.path.abspath(args.output)
    _free_target(target, args.force)
    export_transformers(args.source, target)
    written = []
    for root, _, files in sorted(os.walk(target)):
        if "config.json" not in files:
            continue
        with open(os.path.join(root, "config.json"), encoding="utf-8") as f:
            architecture = json.load(f)["architectures"][0]
        where = os.path.relpath(root, target)
        written.append(
            architecture if where == "." else f"{architecture} ({where}/)"
        )
    print(f"Wrote {args.source} -> {target} (transformers): "
          f"{', '.join(written)}")
    return target


def run(args):
    if args.to == "transformers":
        return run_to_transformers(args)
    from keras_electra import presets
    from keras_electra.presets.resolver import convert_into_cache
    from keras_electra.presets.resolver import unknown_preset_error

    fmt = args.format if args.format != "auto" else detect_format(args.source)
    check = None
    if args.preset_name:
        name = args.preset_name
        if name not in presets.ELECTRA_PRESETS:
            raise unknown_preset_error(name)
        entry = presets.ELECTRA_PRESETS[name]
        if fmt == "tf1":
            if args.model not in (None, entry["kind"]):
                raise ValueError(
                    f"--model {args.model} does not fit preset {name!r}, "
                    f"which is a {entry['kind']}."
                )
            args.model = entry["kind"]
            args.num_heads = args.num_heads or entry["config"]["num_heads"]
        target = presets.preset_path(name)

        def check(tmp):
            presets.check_architecture(name, tmp)

    else:
        target = os.path.abspath(args.output)
    _free_target(target, args.force)
    converter = make_converter(fmt, args)
    converted = {}

    def convert(source, output_dir):
        converted["result"] = converter(source, output_dir)

    convert_into_cache(args.source, target, check=check, convert=convert)
    print(f"Converted {args.source} ({fmt}) -> {target}: "
          f"{_describe(converted['result'])}")
    return target


def main(argv=None, prog=None, quiet_libraries=False):
    """Parse `argv`, convert, return the exit code (1 on a conversion
    error, printed as `[PROG: ]error: ...`). `prog` renames the command
    (`keras-electra convert`); `quiet_libraries` (the command's own
    process) keeps the libraries' notices off stderr unless --verbose."""
    parser = build_parser()
    if prog:
        parser.prog = prog
    args = parser.parse_args(argv)
    if quiet_libraries and not args.verbose:
        quiet.quiet_libraries()
    try:
        run(args)
    except (ValueError, OSError, ImportError) as e:
        print(f"{prog + ': ' if prog else ''}error: {e}", file=sys.stderr)
        return 1
    return 0

