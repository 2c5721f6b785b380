"""`keras-electra info`: the versions and the backend Keras runs on."""

import platform
import sys

import keras

import keras_electra
from keras_electra.cli.shared import PROG
from keras_electra.cli.shared import say
from keras_electra.utils import hugepages


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
