"""Reading user text files (plain or `.gz`) with errors that name the place.

Python's own errors for a bad data file name neither the file nor the
line (`'utf-8' codec can't decode byte 0xac in position 0`, `Compressed
file ended before the end-of-stream marker was reached`). The readers of
keras_electra go through `iter_lines`, which raises `DataFileError`
("FILE, line N: ...") for a file that is not UTF-8 text, holds NUL bytes
(a binary file), or is a truncated or corrupt `.gz` file.

No Keras here: the command line reads files before a backend is chosen.
"""

import gzip
import os
import zlib

# What `gzip` raises for a truncated or corrupt stream.
GZIP_ERRORS = (EOFError, OSError, zlib.error)


class DataFileError(ValueError):
    """A data file that cannot be read as text; the message names the file
    (and the line, where there is one)."""


def is_gzip(path):
    return os.fspath(path).endswith(".gz")


def decode_line(raw, path, number):
    """Text of the bytes `raw` of line `number` of `path`, or `DataFileError`.

    A UTF-8 byte-order mark at the start of the file is dropped.
    """
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataFileError(
            f"{path}, line {number}: not UTF-8 text (byte "
            f"0x{raw[e.start]:02x} at column {e.start + 1}); is it a binary "
            "file, or text in another encoding? Save it as UTF-8."
        ) from None
    if "\x00" in text:
        raise DataFileError(
            f"{path}, line {number}: NUL byte at column "
            f"{text.index(chr(0)) + 1}; this looks like a binary file, not "
            "text."
        )
    return text


def gzip_error(path, number, error):
    return DataFileError(
        f"{path}, line {number}: the gzip file is truncated or corrupt "
        f"({error})."
    )


def iter_lines(path):
    """Yield `(line_number, text)` of a UTF-8 text file (`.gz` allowed).

    Lines keep their line ending, as Python's text files give them (split
    at `\\n`). Raises `DataFileError` naming the file and line.
    """
    try:
        handle = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")
    except OSError as e:
        raise DataFileError(f"{path}: cannot read it ({e}).") from None
    number = 0
    with handle:
        while True:
            try:
                raw = handle.readline()
            except GZIP_ERRORS as e:
                if not is_gzip(path):
                    raise DataFileError(
                        f"{path}, line {number + 1}: cannot read it ({e})."
                    ) from None
                raise gzip_error(path, number + 1, e) from None
            if not raw:
                return
            number += 1
            yield number, decode_line(raw, path, number)


def check_text_file(path):
    """Read all of `path` once; `DataFileError` if it is not clean text."""
    for _ in iter_lines(path):
        pass


def line_number_at(path, offset):
    """The number of the line that starts at byte `offset` of `path`
    (uncompressed bytes for `.gz`); for error messages."""
    count = 0
    try:
        opener = gzip.open if is_gzip(path) else open
        with opener(path, "rb") as f:
            left = offset
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                count += chunk.count(b"\n")
                left -= len(chunk)
    except GZIP_ERRORS:
        pass
    return count + 1
