"""The `keras-electra` command line (`keras_electra.cli:main`).

    keras-electra quickstart          # the whole job, offline, in minutes
    keras-electra COMMAND --help      # pretrain, finetune, evaluate, predict,
                                      # export, convert, fill-mask, detect,
                                      # info
"""

from keras_electra.cli.app import build_parser
from keras_electra.cli.app import main

__all__ = ["build_parser", "main"]
