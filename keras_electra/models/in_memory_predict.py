"""`predict` without a data pipeline for inputs that are already in memory.

Keras' `predict` builds a `tf.data` (or grain) pipeline, an iterator and
callbacks on every call: tens of milliseconds before the first token is
read, which is the whole cost of a one-sentence request. For text, lists,
arrays and packed dicts held in memory, `InMemoryPredictMixin.predict`
instead cuts the input into batches and runs, per batch:

1. the task's own `preprocess_samples` (its preprocessor: tokenizer,
   packer, padding to the batch's bucket), traced once as a `tf.function`
   and cached, so the TF Text WordPiece ops run as a graph on every
   backend;
2. Keras' `predict_on_batch` (the compiled predict step, cached by Keras).

The same two steps serve `predict_on_batch` on text, and through them the
text-level methods (`predict_labels`, `detect_replaced`, `answer`;
`predict_tags` and `fill_mask` pack in cached graphs of their own, which
also give the word ids and `[MASK]` positions, and run step 2 on the
packed dict). They then read the outputs with the task's
`decode_outputs`, the serving SavedModel's post-processing. Everything
else (a `tf.data.Dataset`, a generator, `steps=` or `callbacks=`) takes
Keras' own `predict`.

Batches padded to different lengths give per-token outputs of different
lengths; they are joined padded with zeros to the longest (positions past
a sequence's end carry no prediction in either case). Keras' own `predict`
cannot join them on JAX and PyTorch, so a per-token task's preprocessor
pads to `sequence_length` while it runs.
"""

import contextlib
import weakref
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from keras_electra.utils.input_validation import check_text_input

# model -> its cached `tf.function` of `preprocess_samples`. Kept outside
# the model: Keras tracks (and PyTorch registers) a model's attributes.
_PREPROCESS_FUNCTIONS = weakref.WeakKeyDictionary()


def _is_in_memory(x):
    """Whether `x` is data held in memory (not a dataset or generator)."""
    if isinstance(x, Mapping):
        return bool(x) and all(_is_in_memory(v) for v in x.values())
    if isinstance(x, tuple):
        return bool(x) and all(_is_in_memory(v) for v in x)
    if isinstance(x, (list, np.ndarray)):
        return True
    if isinstance(x, (tf.Tensor, tf.RaggedTensor)):
        return tf.executing_eagerly()
    return keras.ops.is_tensor(x)


def _num_rows(x):
    if isinstance(x, Mapping):
        return _num_rows(next(iter(x.values())))
    if isinstance(x, tuple):
        return _num_rows(x[0])
    if isinstance(x, (tf.Tensor, tf.RaggedTensor)):
        return int(x.shape[0])
    return len(x)


def _rows(x, start, stop):
    if isinstance(x, Mapping):
        return {k: _rows(v, start, stop) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_rows(v, start, stop) for v in x)
    return x[start:stop]


def _as_tf(x):
    """Text (nested lists, arrays) as tensors for the traced preprocessor."""
    if isinstance(x, tuple):
        return tuple(_as_tf(v) for v in x)
    if isinstance(x, (tf.Tensor, tf.RaggedTensor)):
        return x
    if isinstance(x, list) and x and isinstance(x[0], (list, tuple)):
        lengths = {len(row) for row in x}
        if len(lengths) > 1:  # words per sentence
            return tf.ragged.constant(x, dtype=tf.string)
    return tf.convert_to_tensor(x)


def _join(batches):
    """Concatenate per-batch NumPy outputs along the batch axis, padding
    the other axes with zeros to the largest size."""
    first = batches[0]
    if len(batches) == 1:
        return first
    shape = np.max([b.shape for b in batches], axis=0)
    padded = []
    for b in batches:
        pad = [(0, 0)] + [(0, int(n - s)) for n, s in zip(shape[1:], b.shape[1:])]
        padded.append(np.pad(b, pad) if any(p[1] for p in pad) else b)
    return np.concatenate(padded, axis=0)


@contextlib.contextmanager
def _fixed_padding(preprocessor):
    """Pad to `sequence_length` for the length of the block."""
    padding = getattr(preprocessor, "padding", None)
    if padding is None:
        yield
        return
    preprocessor.padding = "max_length"
    try:
        yield
    finally:
        preprocessor.padding = padding


class InMemoryPredictMixin:
    """`predict` and `predict_on_batch` on in-memory inputs without Keras'
    data pipeline (see the module docstring). For task classes; listed
    before `InputValidatingMixin`, so every batch is still checked."""

    # Whether outputs run along the sequence (their length is the batch's).
    per_token_outputs = False
    # Whether the preprocessor runs in a TensorFlow graph (question
    # answering splits contexts into windows in Python).
    graph_preprocessing = True

    def preprocess_in_graph(self, x):
        """The task's `preprocess_samples(x)` as a cached `tf.function`;
        returns the packed inputs (TensorFlow tensors)."""
        # A named error for what is not text, before any conversion.
        check_text_input(x, self.preprocessor)
        function = _PREPROCESS_FUNCTIONS.get(self)
        if function is None:
            # No autograph: errors raised while tracing reach the caller
            # as they are (`InvalidInputError`), not as a `StagingError`.
            function = tf.function(
                lambda inputs: self.preprocess_samples(inputs),
                reduce_retracing=True,
                autograph=False,
            )
            _PREPROCESS_FUNCTIONS[self] = function
        data = function(_as_tf(x))
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return x

    def predict_on_batch(self, x, *args, **kwargs):
        if (
            self.graph_preprocessing
            and self.preprocessor is not None
            and not isinstance(x, Mapping)
        ):
            x = self.preprocess_in_graph(x)
            if keras.backend.backend() != "tensorflow":
                x = {k: v.numpy() for k, v in x.items()}
        return super().predict_on_batch(x, *args, **kwargs)

    def predict(self, x=None, batch_size=None, verbose="auto", steps=None,
                callbacks=None, **kwargs):
        if (
            steps is None
            and callbacks is None
            and not kwargs
            and not isinstance(x, (str, bytes))
            and _is_in_memory(x)
        ):
            return self._predict_in_memory(x, batch_size or 32, verbose)
        arguments = dict(
            batch_size=batch_size, verbose=verbose, steps=steps,
            callbacks=callbacks, **kwargs,
        )
        if self.per_token_outputs:
            with _fixed_padding(self.preprocessor):
                return super().predict(x, **arguments)
        return super().predict(x, **arguments)

    def _predict_in_memory(self, x, batch_size, verbose):
        num_rows = _num_rows(x)
        if num_rows == 0:
            raise ValueError("`predict` received an empty input.")
        progress = None
        if verbose in (1, "auto"):
            progress = keras.utils.Progbar(-(-num_rows // batch_size))
        outputs = []
        for step, start in enumerate(range(0, num_rows, batch_size)):
            batch = self.predict_on_batch(_rows(x, start, start + batch_size))
            outputs.append(keras.tree.map_structure(np.asarray, batch))
            if progress is not None:
                progress.update(step + 1)
        return keras.tree.map_structure(lambda *b: _join(b), *outputs)
