#!/usr/bin/env python
"""Convert an ELECTRA checkpoint into a keras_electra (Keras) preset.

A thin wrapper around `keras_electra.conversion.command` (the same as
`keras-electra convert`); `--help` lists the sources and options.

Examples:

  # Google's ELECTRA-Base, unzipped in ./electra_base, as the cached preset:
  python tools/convert_checkpoint.py --preset-name electra_base_discriminator_en electra_base
  python tools/convert_checkpoint.py --preset-name electra_base_generator_en electra_base

  # Both networks, for continued pre-training:
  python tools/convert_checkpoint.py --model pair --output electra_base_pair electra_base
"""

import sys

from keras_electra.conversion.command import main

if __name__ == "__main__":
    sys.exit(main())
