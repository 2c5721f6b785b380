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

Examples:

  # Google's ELECTRA-Base, unzipped in ./electra_base, as the cached preset:
  keras-electra convert --preset-name electra_base_discriminator_en electra_base
  keras-electra convert --preset-name electra_base_generator_en electra_base

  # Both networks, for continued pre-training:
  keras-electra convert --model pair --output electra_base_pair electra_base
"""

import argparse
import os
import shutil
import sys

from keras_electra.presets import DISCRIMINATOR
from keras_electra.presets import PAIR_MEMBERS

FORMATS = ("auto", "tf1", "transformers", "keras_hub")
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


def run(args):
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
    if os.path.exists(target) and os.listdir(target):
        if not args.force:
            raise FileExistsError(
                f"`{target}` already exists; pass --force to replace it."
            )
        shutil.rmtree(target)
    converter = make_converter(fmt, args)
    converted = {}

    def convert(source, output_dir):
        converted["result"] = converter(source, output_dir)

    convert_into_cache(args.source, target, check=check, convert=convert)
    print(f"Converted {args.source} ({fmt}) -> {target}: "
          f"{_describe(converted['result'])}")
    return target


def main(argv=None, prog=None):
    """Parse `argv`, convert, return the exit code (1 on a conversion
    error, printed as `[PROG: ]error: ...`). `prog` renames the command
    (`keras-electra convert`)."""
    parser = build_parser()
    if prog:
        parser.prog = prog
    args = parser.parse_args(argv)
    try:
        run(args)
    except (ValueError, OSError, ImportError) as e:
        print(f"{prog + ': ' if prog else ''}error: {e}", file=sys.stderr)
        return 1
    return 0

