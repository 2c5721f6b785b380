"""Huge pages for the large temporary buffers of a training step.

Each training step allocates large temporaries: XLA's temp buffer on JAX
(2.4 GB per ELECTRA-small pre-training step), the TF and torch runtimes'
activations and gradients. glibc's `malloc` serves any block above its
mmap threshold (at most 32 MiB) with a fresh `mmap` and gives it back with
`munmap` on `free`, so every step faults all of that memory in again,
4 KiB at a time: 615,000 minor faults per small JAX pre-training step,
and 29% of a JAX fine-tuning step's CPU time spent in the kernel.

glibc 2.35 and newer has a tunable for this, `glibc.malloc.hugetlb=1`:
`malloc` then marks its mapped blocks `MADV_HUGEPAGE`, and where the
kernel's transparent huge pages are in `madvise` (or `always`) mode, the
kernel maps them 2 MiB at a time. glibc reads tunables once, when a
process starts, so the setting only helps a process started with it:
the `keras-electra` command starts itself again with it
(`keras_electra.cli.app`), and library users set it themselves:

    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 python train.py

`benchmarks/RESULTS.md` has the measured effect. Set
`KERAS_ELECTRA_HUGEPAGES=0` to keep the command from setting it.
"""

import os
import platform

TUNABLE = "glibc.malloc.hugetlb"
SETTING = f"{TUNABLE}=1"
OPT_OUT = "KERAS_ELECTRA_HUGEPAGES"
THP_MODE_FILE = "/sys/kernel/mm/transparent_hugepage/enabled"


def glibc_version():
    """`(major, minor)` of the running glibc, or None (not glibc)."""
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
    except (AttributeError, ValueError, OSError):
        return None
    if name != "glibc":
        return None
    try:
        return tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return None


def thp_mode(path=THP_MODE_FILE):
    """The kernel's transparent-huge-page mode (`always`, `madvise`,
    `never`), or None where the kernel does not say."""
    try:
        with open(path, encoding="ascii") as f:
            text = f.read()
    except OSError:
        return None
    start, end = text.find("["), text.find("]")
    return text[start + 1 : end] if 0 <= start < end else None


def unavailable_reason(environ=None, glibc=None, mode=None):
    """Why huge pages for `malloc` cannot or should not be switched on,
    or None when they can. `glibc` and `mode` default to this machine's."""
    environ = os.environ if environ is None else environ
    if environ.get(OPT_OUT, "").strip().lower() in ("0", "off", "false", "no"):
        return f"{OPT_OUT}={environ[OPT_OUT]}"
    if platform.system() != "Linux":
        return "not Linux"
    glibc = glibc_version() if glibc is None else glibc
    if glibc is None or glibc < (2, 35):
        return "needs glibc 2.35 or newer"
    mode = thp_mode() if mode is None else mode
    if mode not in ("always", "madvise"):
        return f"transparent huge pages are {mode or 'unavailable'}"
    return None


def tunable_value(environ=None):
    """The value `GLIBC_TUNABLES` in `environ` gives the tunable, or None."""
    environ = os.environ if environ is None else environ
    for setting in environ.get("GLIBC_TUNABLES", "").split(":"):
        name, _, value = setting.partition("=")
        if name == TUNABLE:
            return value
    return None


def is_set(environ=None):
    """Whether `GLIBC_TUNABLES` in `environ` already sets the tunable (to
    any value: a user's own choice is kept)."""
    return tunable_value(environ) is not None


def environment_with_hugepages(environ=None, **machine):
    """A copy of `environ` with the tunable added to `GLIBC_TUNABLES`, or
    None when it is already there or cannot be used (see
    `unavailable_reason`; `machine` passes `glibc` and `mode` to it)."""
    environ = dict(os.environ if environ is None else environ)
    if is_set(environ) or unavailable_reason(environ, **machine):
        return None
    tunables = environ.get("GLIBC_TUNABLES", "")
    environ["GLIBC_TUNABLES"] = f"{tunables}:{SETTING}" if tunables else SETTING
    return environ


def status(environ=None):
    """One line for `keras-electra info`: whether this process runs with
    huge pages for `malloc`, and why not."""
    value = tunable_value(environ)
    if value == "1":
        return f"on ({SETTING})"
    if value is not None:
        return f"off (GLIBC_TUNABLES sets {TUNABLE}={value})"
    return f"off ({unavailable_reason(environ) or 'GLIBC_TUNABLES not set'})"
