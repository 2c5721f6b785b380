"""`python -m keras_electra.cli` = the `keras-electra` command."""

import sys

from keras_electra.cli.app import main

if __name__ == "__main__":
    sys.exit(main())
