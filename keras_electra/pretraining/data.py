import collections
import glob
import gzip
import json
import os
import random
import threading

import numpy as np

from keras_electra.pretraining.example_builder import ExampleBuilder
from keras_electra.utils.data_files import GZIP_ERRORS
from keras_electra.utils.data_files import DataFileError
from keras_electra.utils.data_files import check_text_file
from keras_electra.utils.data_files import decode_line
from keras_electra.utils.data_files import gzip_error
from keras_electra.utils.data_files import line_number_at

# Batch counts whose position is kept for checkpoints (the input pipeline
# runs a few batches ahead of training).
MAX_SNAPSHOTS = 64


class PretrainingData:
    """Streams ELECTRA pre-training batches from text files.

    Text files (plain or `.gz`) hold one paragraph per line and a blank
    line between documents (the input of Google's
    `build_pretraining_dataset.py`). Lines are read one at a time (the
    corpus is never held in memory), tokenized with WordPiece and packed
    into `[CLS] A [SEP] B [SEP]` examples of `sequence_length` tokens by
    `ExampleBuilder` (Google's rules: segment
    split, 10% single segment, 5% short targets). Every file ends the
    current example, as in Google's code.

    The stream never ends: each pass over the files visits them in a new
    random order. Examples go through a shuffle buffer (Google's reader
    shuffles with a buffer of 100) and are batched, padded with `[PAD]`.

    Files are sharded: shard `shard_index` of `num_shards` reads the files
    whose index in the sorted list is `shard_index` modulo `num_shards`
    (one shard per host or process).

    A file that is not UTF-8 text (binary, another encoding) or a
    truncated `.gz` file raises `keras_electra.utils.data_files.
    DataFileError` (a `ValueError`) naming the file and line when the
    stream reaches it; `check_files()` reads every file once up front. Files
    that hold no text at all raise it too (instead of streaming forever).

    The stream is reproducible from `seed`, and its position after any of
    the last batches (`state(num_batches)`) can be saved and restored
    (`restore(state)`), which `PretrainingCheckpoint` does to resume
    pre-training exactly where it stopped.

    Args:
        files: a directory (its files, recursively), a glob pattern, or a
            list of paths.
        tokenizer: a `keras_electra.ElectraTokenizer`.
        sequence_length: int. Tokens per example.
        batch_size: int. Examples per batch (per shard).
        seed: int. Seed of the packing, file order and shuffling.
        num_shards: int. Number of shards.
        shard_index: int. This shard.
        shuffle_buffer_size: int. Size of the example shuffle buffer (1 =
            no shuffling).

    Example:
    ```python
    tokenizer = keras_electra.ElectraTokenizer(vocabulary="vocab.txt")
    data = keras_electra.pretraining.PretrainingData(
        "corpus/", tokenizer, sequence_length=128, batch_size=128, seed=0
    )
    pretrainer.fit(data.dataset(), steps_per_epoch=1000, epochs=10)
    ```
    """

    def __init__(
        self,
        files,
        tokenizer,
        sequence_length=128,
        batch_size=128,
        seed=0,
        num_shards=1,
        shard_index=0,
        shuffle_buffer_size=100,
    ):
        if not 0 <= shard_index < num_shards:
            raise ValueError(
                f"`shard_index` must be in [0, num_shards). Received: "
                f"shard_index={shard_index}, num_shards={num_shards}"
            )
        if batch_size < 1 or shuffle_buffer_size < 1:
            raise ValueError(
                "`batch_size` and `shuffle_buffer_size` must be positive. "
                f"Received: {batch_size}, {shuffle_buffer_size}"
            )
        all_files = _list_files(files)
        self.files = all_files[shard_index::num_shards]
        if not self.files:
            raise ValueError(
                f"Shard {shard_index} of {num_shards} gets none of the "
                f"{len(all_files)} files of {files!r}; use fewer shards."
            )
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.batch_size = batch_size
        self.seed = seed
        self.num_shards = num_shards
        self.shard_index = shard_index
        self.shuffle_buffer_size = shuffle_buffer_size
        self.pad_token_id = int(tokenizer.pad_token_id)
        self._start_state = None
        # Written by the input pipeline's thread, read by checkpoints.
        self._snapshots = collections.OrderedDict()
        self._lock = threading.Lock()

    # === The stream ===

    def check_files(self):
        """Read this shard's files once; `DataFileError` naming the file
        and line of the first one that is not UTF-8 text."""
        for path in self.files:
            check_text_file(path)

    def batches(self):
        """Yield batches forever: dicts of int32 `[batch, seq]` arrays.

        Starts where `restore` put it, or at the beginning.
        """
        stream = _Stream(self, self._start_state)
        with self._lock:
            self._snapshots.clear()
        while True:
            examples = [stream.next_example() for _ in range(self.batch_size)]
            stream.num_batches += 1
            self._remember(stream)
            yield self._collate(examples)

    def dataset(self):
        """The stream as a `tf.data.Dataset` (for `fit` on every backend)."""
        import tensorflow as tf

        shape = (self.batch_size, self.sequence_length)
        spec = tf.TensorSpec(shape, tf.int32)
        return tf.data.Dataset.from_generator(
            self.batches,
            output_signature={
                "token_ids": spec,
                "segment_ids": spec,
                "padding_mask": spec,
            },
        )

    def _collate(self, examples):
        shape = (len(examples), self.sequence_length)
        token_ids = np.full(shape, self.pad_token_id, dtype="int32")
        segment_ids = np.zeros(shape, dtype="int32")
        padding_mask = np.zeros(shape, dtype="int32")
        for i, (ids, segments) in enumerate(examples):
            token_ids[i, : len(ids)] = ids
            segment_ids[i, : len(segments)] = segments
            padding_mask[i, : len(ids)] = 1
        return {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": padding_mask,
        }

    # === Position ===

    def _remember(self, stream):
        snapshot = stream.snapshot()
        with self._lock:
            self._snapshots[stream.num_batches] = snapshot
            while len(self._snapshots) > MAX_SNAPSHOTS:
                self._snapshots.popitem(last=False)

    def state(self, num_batches):
        """The stream's position after its `num_batches`-th batch.

        A JSON-serializable dict for `restore`. `num_batches` counts from
        the very start of the stream (restored runs continue the count);
        it must be one of the last batches produced.
        """
        with self._lock:
            snapshot = self._snapshots.get(num_batches)
            known = list(self._snapshots)
        if snapshot is None:
            raise ValueError(
                f"The position after batch {num_batches} is not known; the "
                f"stream remembers batches {known[:1]}..{known[-1:]}. Ask "
                "for the state while (or right after) training on it."
            )
        return _to_json(snapshot)

    def restore(self, state):
        """Continue the next `batches()` from `state` (see `state`)."""
        expected = self._identity()
        saved = state.get("identity")
        if saved != expected:
            raise ValueError(
                "The saved data position belongs to a different data "
                f"configuration: saved {saved}, current {expected}."
            )
        self._start_state = state

    def _identity(self):
        return {
            "files": [os.path.basename(f) for f in self.files],
            "sequence_length": self.sequence_length,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "shuffle_buffer_size": self.shuffle_buffer_size,
        }


class _Stream:
    """The mutable position of a `PretrainingData` stream."""

    def __init__(self, data, state=None):
        self.data = data
        tokenizer = data.tokenizer
        # Separate RNGs: packing (Google's `random` calls) and ordering.
        self.builder = ExampleBuilder(
            data.sequence_length,
            int(tokenizer.cls_token_id),
            int(tokenizer.sep_token_id),
            random.Random(data.seed),
        )
        self.order_rng = random.Random(data.seed + 1)
        self.file_order = []
        self.file_index = 0
        self.offset = 0
        self.buffer = []
        self.num_batches = 0
        self.handle = None
        # Files read through since the last example: a full pass of them
        # without one means the files hold no text (the stream would spin).
        self.files_without_example = 0
        if state is not None:
            self._load(state)
        else:
            self._new_pass()

    def _new_pass(self):
        self.file_order = list(range(len(self.data.files)))
        self.order_rng.shuffle(self.file_order)
        self.file_index = 0
        self.offset = 0

    def _read_line(self):
        """The next line (text), or `None` at the end of a file."""
        path = self.data.files[self.file_order[self.file_index]]
        start = self.offset
        try:
            if self.handle is None:
                # `.gz` files are read as text too; offsets count
                # uncompressed bytes (gzip seeks by decompressing up to the
                # offset).
                opener = gzip.open if path.endswith(".gz") else open
                self.handle = opener(path, "rb")
                self.handle.seek(self.offset)
            line = self.handle.readline()
        except GZIP_ERRORS as e:
            self._close()
            number = line_number_at(path, start)
            if path.endswith(".gz"):
                raise gzip_error(path, number, e) from None
            raise DataFileError(
                f"{path}, line {number}: cannot read it ({e})."
            ) from None
        if not line:
            self._close()
            self.file_index += 1
            self.offset = 0
            self.files_without_example += 1
            if self.files_without_example > 2 * len(self.file_order) + 1:
                raise DataFileError(
                    f"The pre-training files hold no text: "
                    f"{', '.join(self.data.files[:5])}"
                    f"{' ...' if len(self.data.files) > 5 else ''}"
                )
            if self.file_index == len(self.file_order):
                self._new_pass()
            return None
        self.offset = self.handle.tell()
        try:
            text = decode_line(line, path, 2 if start else 1)
        except DataFileError:
            self._close()
            # The line's number, counted only now that there is an error.
            decode_line(line, path, line_number_at(path, start))
            raise
        return text.strip()

    def _close(self):
        if self.handle is not None:
            self.handle.close()
        self.handle = None

    def _next_packed(self):
        while True:
            line = self._read_line()
            if line is None:  # End of a file: finish its last example.
                example = self.builder.add_line([])
            else:
                token_ids = _tokenize(self.data.tokenizer, line) if line else []
                example = self.builder.add_line(token_ids)
            if example is not None:
                self.files_without_example = 0
                return example

    def next_example(self):
        """The next example out of the shuffle buffer."""
        size = self.data.shuffle_buffer_size
        while len(self.buffer) < size:
            self.buffer.append(self._next_packed())
        index = self.order_rng.randrange(len(self.buffer))
        self.buffer[index], self.buffer[-1] = self.buffer[-1], self.buffer[index]
        return self.buffer.pop()

    def snapshot(self):
        return {
            "identity": self.data._identity(),
            "num_batches": self.num_batches,
            "file_order": list(self.file_order),
            "file_index": self.file_index,
            "offset": self.offset,
            "builder": self.builder.get_state(),
            "builder_rng": self.builder.rng.getstate(),
            "order_rng": self.order_rng.getstate(),
            "buffer": list(self.buffer),
        }

    def _load(self, state):
        self.num_batches = state["num_batches"]
        self.file_order = list(state["file_order"])
        self.file_index = state["file_index"]
        self.offset = state["offset"]
        self.builder.set_state(state["builder"])
        self.builder.rng.setstate(_rng_state(state["builder_rng"]))
        self.order_rng.setstate(_rng_state(state["order_rng"]))
        self.buffer = [(list(a), list(b)) for a, b in state["buffer"]]


def _list_files(files):
    if isinstance(files, (str, os.PathLike)):
        files = os.fspath(files)
        if os.path.isdir(files):
            found = [
                os.path.join(root, name)
                for root, _, names in os.walk(files)
                for name in names
                if not name.startswith(".")
            ]
        else:
            found = glob.glob(files)
        if not found:
            raise FileNotFoundError(f"No text files found at {files!r}.")
    else:
        found = [os.fspath(f) for f in files]
        missing = [f for f in found if not os.path.isfile(f)]
        if missing:
            raise FileNotFoundError(f"Missing text files: {missing}")
        if not found:
            raise ValueError("`files` is empty.")
    return sorted(found)


def _tokenize(tokenizer, text):
    ids = tokenizer.tokenize(text)
    if hasattr(ids, "numpy"):
        ids = ids.numpy()
    return [int(i) for i in np.asarray(ids).reshape(-1)]


def _rng_state(state):
    """`random.Random.getstate()` back from its JSON form."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)


def _to_json(snapshot):
    out = dict(snapshot)
    out["builder_rng"] = _rng_json(snapshot["builder_rng"])
    out["order_rng"] = _rng_json(snapshot["order_rng"])
    out["buffer"] = [[list(a), list(b)] for a, b in snapshot["buffer"]]
    return out


def _rng_json(state):
    version, internal, gauss = state
    return [version, list(internal), gauss]


class ReplicaData:
    """The pre-training stream of a data-parallel run, split by replica.

    Replica `r` of `cluster.num_replicas` (`R`) streams its own
    `PretrainingData`: shard `r` of `R` of the files, `batch_size // R`
    examples per batch, the same `seed`. The global batch of a step is the
    replicas' batches in replica order, so it depends only on the seed and
    `R`, never on how the replicas are spread over processes; each process
    reads only its own replicas' files. With one replica it is exactly
    `PretrainingData(files, ..., batch_size=batch_size, seed=seed)`.

    Its position (each local replica's) is saved by `PretrainingCheckpoint`
    as `data-replica-<r>.json`, and restored by replica, so a run resumes
    exactly on any spread of the same number of replicas.

    Args:
        files, tokenizer, sequence_length, seed, shuffle_buffer_size: as
            `PretrainingData`.
        cluster: the `keras_electra.pretraining.Cluster` of the run.
        batch_size: int. The global batch (all replicas together); a
            multiple of the number of replicas.
    """

    def __init__(
        self,
        files,
        tokenizer,
        cluster,
        sequence_length=128,
        batch_size=128,
        seed=0,
        shuffle_buffer_size=100,
    ):
        replicas = cluster.num_replicas
        if batch_size % replicas:
            raise ValueError(
                f"The global batch size {batch_size} is not a multiple of "
                f"the {replicas} replicas."
            )
        self.cluster = cluster
        self.batch_size = batch_size
        self.sequence_length = sequence_length
        self.streams = {
            r: PretrainingData(
                files,
                tokenizer,
                sequence_length=sequence_length,
                batch_size=batch_size // replicas,
                seed=seed,
                num_shards=replicas,
                shard_index=r,
                shuffle_buffer_size=shuffle_buffer_size,
            )
            for r in cluster.local_replicas
        }

    def check_files(self):
        for stream in self.streams.values():
            stream.check_files()

    def dataset(self):
        """What `fit` takes: a `tf.data.Dataset` of this process's rows.

        Without a `tf.distribute` strategy (JAX), the local replicas'
        batches concatenated: Keras' `DataParallel` assembles the global
        batch from every process's rows. Under a strategy (TensorFlow),
        global batches in which only this process's replicas' rows are
        filled (the others are zeros): `tf.distribute` splits each global
        batch by replica and, sharding by data, gives each worker its own
        replicas' rows (keras-hub's `fit` takes a `tf.data.Dataset`, not a
        distributed one).
        """
        import tensorflow as tf

        replicas = self.cluster.num_replicas
        rows = self.batch_size // replicas
        local = list(self.streams)
        distributed = self.cluster.strategy is not None
        total = self.batch_size if distributed else rows * len(local)

        def batches():
            iterators = [s.batches() for s in self.streams.values()]
            while True:
                parts = [next(it) for it in iterators]
                if not distributed:
                    yield {
                        k: np.concatenate([p[k] for p in parts])
                        for k in parts[0]
                    }
                    continue
                batch = {
                    k: np.zeros((total, self.sequence_length), "int32")
                    for k in parts[0]
                }
                for r, part in zip(local, parts):
                    for k, v in part.items():
                        batch[k][r * rows : (r + 1) * rows] = v
                yield batch

        spec = tf.TensorSpec((total, self.sequence_length), tf.int32)
        dataset = tf.data.Dataset.from_generator(
            batches,
            output_signature={
                "token_ids": spec,
                "segment_ids": spec,
                "padding_mask": spec,
            },
        )
        if not distributed:
            return dataset
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return dataset.with_options(options)

    def write_position(self, directory, num_batches):
        """Write each local replica's position after `num_batches`."""
        os.makedirs(directory, exist_ok=True)
        for r, stream in self.streams.items():
            path = os.path.join(directory, replica_position_file(r))
            with open(path + ".tmp", "w") as f:
                json.dump(stream.state(num_batches), f)
            os.replace(path + ".tmp", path)

    def read_position(self, directory):
        """Continue each local replica from its saved position."""
        for r, stream in self.streams.items():
            path = os.path.join(directory, replica_position_file(r))
            if not os.path.exists(path):
                raise ValueError(
                    f"The checkpoint {directory} has no position for replica "
                    f"{r} ({os.path.basename(path)}): it was saved from a "
                    f"run with another number of replicas, or without data."
                )
            with open(path) as f:
                stream.restore(json.load(f))


def replica_position_file(replica):
    return f"data-replica-{replica}.json"
