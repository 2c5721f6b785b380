"""Where keras_electra keeps converted presets, and how it writes there.

`$KERAS_ELECTRA_CACHE` (default `~/.cache/keras_electra`) holds:

- `presets/<name>`: the built-in presets, converted on first use;
- `converted/<key>`: other checkpoints converted on the fly (`hf://`
  handles, local transformers or keras-hub directories);
- `bundled/<name>-<key>`: a bundled preset whose package copy stores a
  shared file once, completed with links into the package;
- `locks/`: one lock file per target being written.

`write_into_cache` writes a preset to a temporary directory beside its
target and renames it into place, so a failed download or conversion never
leaves half a preset; the lock makes processes that convert the same
preset at once wait for the first one's result (one conversion, one copy).
"""

import contextlib
import hashlib
import os
import shutil
import tempfile

CACHE_ENV = "KERAS_ELECTRA_CACHE"
CONFIG_FILE = "config.json"


def cache_dir():
    """Root of keras_electra's cache (`$KERAS_ELECTRA_CACHE`)."""
    default = os.path.join(os.path.expanduser("~"), ".cache", "keras_electra")
    return os.environ.get(CACHE_ENV, default)


def preset_path(name):
    """Where the converted built-in preset `name` lives in the cache."""
    return os.path.join(cache_dir(), "presets", name)


def converted_path(cache_key):
    """Where a checkpoint converted on the fly lives in the cache."""
    return os.path.join(cache_dir(), "converted", cache_key)


def bundled_path(name, key):
    """Where the completed copy of bundled preset `name` lives."""
    return os.path.join(cache_dir(), "bundled", f"{name}-{key}")


def is_complete(target, marker=CONFIG_FILE):
    """Whether `target` holds a finished preset (its `marker` file,
    `config.json` unless told)."""
    return os.path.exists(os.path.join(target, marker))


def write_into_cache(source_dir, target, convert, check=None,
                     marker=CONFIG_FILE):
    """Write `convert(source_dir, tmp)`'s preset to `target`, atomically.

    The preset is written to a temporary directory beside `target`, checked
    with `check(tmp_dir)` if given, then renamed: nothing is left at
    `target` if the conversion or the check fails. Does nothing if `target`
    is already complete (holds `marker`). Returns `target`.
    """
    if is_complete(target, marker):
        return target
    parent, name = os.path.split(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    with _cache_lock(target):
        if is_complete(target, marker):
            return target  # Converted by another process while we waited.
        prefix = f".tmp-{name}-"
        # Left by a conversion that was killed (we hold the lock).
        for stale in os.listdir(parent):
            if stale.startswith(prefix):
                shutil.rmtree(os.path.join(parent, stale), ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=prefix, dir=parent)
        try:
            convert(source_dir, tmp)
            if check is not None:
                check(tmp)
            if os.path.exists(target):
                # An incomplete `target` (say, copied by hand) is replaced;
                # renamed away first, then deleted.
                trash = tempfile.mkdtemp(prefix=prefix, dir=parent)
                os.replace(target, os.path.join(trash, "old"))
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            for stale in os.listdir(parent):
                if stale.startswith(prefix):
                    shutil.rmtree(
                        os.path.join(parent, stale), ignore_errors=True
                    )
    return target


@contextlib.contextmanager
def _cache_lock(target):
    """An exclusive lock for writing `target`: POSIX `flock` on a file in
    `$KERAS_ELECTRA_CACHE/locks` (elsewhere none: the rename alone keeps
    the cache whole)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    locks = os.path.join(cache_dir(), "locks")
    os.makedirs(locks, exist_ok=True)
    key = hashlib.sha256(os.path.abspath(target).encode()).hexdigest()[:24]
    with open(os.path.join(locks, f"{key}.lock"), "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
