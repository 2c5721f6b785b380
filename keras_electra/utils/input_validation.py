"""Named errors for bad model inputs, checked before they enter a model.

Two kinds of check live here:

- **Structure** (`check_input_keys`, `check_text_input`): a dict of model
  inputs must have exactly the model's input names. Keras would otherwise
  match a dict with other keys to the inputs *by position*, with only a
  warning, and return confident numbers for the wrong tensors. A
  preprocessor takes text only: given a dict or numbers it raises instead of
  tokenizing them (it would tokenize a dict's key names). Structure is
  known without values, so these checks also run inside traced steps.
- **Values** (below): token ids, segment ids and lengths.

Out of range token ids fail differently on each backend: TensorFlow raises
from a Gather node, PyTorch raises `IndexError: index out of range in self`,
and JAX (whose `take` fills out-of-range rows) silently returns NaN. Too-long
sequences fail in the position-embedding slice with three unrelated
messages. This module gives every backend one error, `InvalidInputError`,
that names the input, the value and where it is, the limit, and the remedy.

The checks run on concrete values before they reach the compiled step, so
the step itself is unchanged:

- `check_call_inputs`: `backbone(x)` on concrete arrays at the top level
  (not inside another model's call, where the inputs were already checked
  or are the model's own graph).
- `InputValidatingMixin`: `fit`, `evaluate`, `predict` and the
  `*_on_batch` methods of the tasks. Arrays (NumPy, lists, backend tensors)
  are checked whole, once, before Keras batches them. A `tf.data.Dataset`
  gets a `map` that checks every batch with a few reductions in the input
  pipeline (in parallel with the step); a failure there surfaces as a
  TensorFlow error that the mixin turns back into `InvalidInputError`.

Inputs that are symbolic (`keras.Input`, a `tf.function` graph, a JAX
tracer inside a user's own `jax.jit`) cannot be checked: their values do
not exist yet. Such a graph is the caller's; on JAX an out-of-range id in it
still gives NaN.

This module imports nothing from `keras_electra`.
"""

from collections.abc import Mapping

import numpy as np

# The inputs checked, with the model attribute that bounds their values.
_TOKEN_IDS = "token_ids"
_SEGMENT_IDS = "segment_ids"
_PADDING_MASK = "padding_mask"

_MARK_START = "<keras_electra.InvalidInputError>"
_MARK_END = "</keras_electra.InvalidInputError>"


class InvalidInputError(ValueError):
    """Token ids, segment ids or a padding mask that the model cannot take.

    Raised, on every backend, before the inputs reach the model: an id
    outside the vocabulary (or negative), a segment id outside the segment
    table, a sequence longer than `max_sequence_length`, or inputs whose
    shapes differ.
    """


# === Messages (one source for the NumPy and the tf.data checks) ===

_PREPROCESSOR_HINT = (
    "Use the model's preprocessor (`model.preprocessor`, or "
    "`from_preset(...)` with its preprocessor), which makes all three inputs "
    "for this model."
)


def _range_message(name, value, where, limit_name, limit):
    if name == _TOKEN_IDS:
        remedy = (
            "Token ids must come from this model's own vocabulary. "
            + _PREPROCESSOR_HINT
        )
    else:
        remedy = (
            f"Segment ids must be 0 .. {limit - 1} (0 for the first "
            "segment, 1 for the second). " + _PREPROCESSOR_HINT
        )
    return (
        f"`{name}` holds {value} at position {where}, outside the valid "
        f"range [0, {limit}) ({limit_name}={limit} of this model). {remedy}"
    )


def _length_message(length, shape, max_sequence_length):
    return (
        f"`token_ids` has {length} tokens per sequence (shape {shape}), more "
        f"than this model's max_sequence_length={max_sequence_length}. "
        f"Truncate every sequence to {max_sequence_length} tokens, e.g. with "
        f"the model's preprocessor (`sequence_length={max_sequence_length}`)."
    )


def _shape_message(name, shape, token_shape):
    return (
        f"`{name}` has shape {shape} but `token_ids` has shape {token_shape}: "
        "they must match, one value per token. " + _PREPROCESSOR_HINT
    )


# === Structure: which inputs, and text for preprocessors ===


def model_input_names(model):
    """The names of a model's dict inputs, in order, or `None`.

    `None` for a model whose inputs are not a dict (or not built yet).
    """
    inputs = getattr(model, "input", None) if _is_functional(model) else None
    if isinstance(inputs, Mapping):
        return list(inputs)
    return None


def _is_functional(model):
    # `model.input` raises on a layer that was never called; a functional
    # model (every ELECTRA model) has its inputs from construction.
    return hasattr(model, "_inputs_struct")


def check_input_keys(inputs, model):
    """Raise `InvalidInputError` unless a dict `inputs` has exactly the
    model's input names.

    Anything that is not a dict (text, a tuple, a tensor) passes: text goes
    to the preprocessor, and Keras itself refuses a tuple for a dict-input
    model. An extra `segment_ids` is refused too, also where the model has
    none (`ElectraCausalLM`): its values may be non-zero, which such a model
    cannot honour, so dropping it is not always harmless.
    """
    if not isinstance(inputs, Mapping):
        return
    expected = model_input_names(model)
    if expected is None:
        return
    keys = list(inputs)
    if set(keys) == set(expected):
        return
    unexpected = [k for k in keys if k not in expected]
    missing = [k for k in expected if k not in inputs]
    parts = []
    if unexpected:
        parts.append(f"unexpected {unexpected}")
    if missing:
        parts.append(f"missing {missing}")
    raise InvalidInputError(
        f"{type(model).__name__} takes a dict with exactly the keys "
        f"{expected}; received the keys {keys} ({', '.join(parts)}). "
        "Pass exactly these keys (drop the others), e.g. the output of the "
        "model's preprocessor, or raw text to `predict`/`fit`/`evaluate`."
    )


def _is_text_leaf(x):
    if isinstance(x, (str, bytes)):
        return True
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return False
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "US":
            return True
        # Object arrays: strings, or nested lists of words.
        return x.dtype.kind == "O"
    return "string" in str(dtype).lower()


def _first_non_text(x):
    """The first leaf of `x` (nested lists/tuples) that is not text, or
    `None` if every leaf is text."""
    if isinstance(x, (list, tuple)):
        for item in x:
            bad = _first_non_text(item)
            if bad is not None:
                return bad
        return None
    return None if _is_text_leaf(x) else x


def check_text_input(x, preprocessor):
    """Raise `InvalidInputError` unless `x` is text for `preprocessor`.

    A preprocessor tokenizes strings. Given a dict it would tokenize the
    dict's key names, and given numbers their decimal digits; both are
    refused here with the remedy.
    """
    name = type(preprocessor).__name__
    if isinstance(x, Mapping):
        raise InvalidInputError(
            f"{name} takes raw text, not a dict (received the keys "
            f"{list(x)}). A dict of packed token ids goes to the model: "
            "`task(x)`, or `task.predict(x)` / `fit` / `evaluate`, which run "
            "a dict with the model's input keys unchanged."
        )
    bad = _first_non_text(x)
    if bad is not None:
        kind = getattr(bad, "dtype", None) or type(bad).__name__
        raise InvalidInputError(
            f"{name} takes raw text (strings, lists of strings or string "
            f"tensors); received {kind} values. Pass the text itself; token "
            "ids go to the model directly (`task(x)` with a dict of "
            "`token_ids`, ...)."
        )


class TextInputMixin:
    """For preprocessors: refuse anything but text (`check_text_input`)."""

    def __call__(self, *args, **kwargs):
        check_text_input(args[0] if args else kwargs.get("x"), self)
        return super().__call__(*args, **kwargs)


class InputKeysMixin:
    """For functional ELECTRA models: a dict input must have exactly the
    model's input names, on every path: `model(x)` (before Keras' own
    input-spec check), and `call` for `predict`, `fit`, `evaluate` and
    JAX's stateless calls."""

    def __call__(self, *args, **kwargs):
        check_input_keys(args[0] if args else kwargs.get("inputs"), self)
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=None, mask=None, **kwargs):
        check_input_keys(inputs, self)
        return super().call(inputs, training=training, mask=mask, **kwargs)


# === Limits ===


def input_limits(model):
    """`(vocabulary_size, max_sequence_length, num_segments)` of a model.

    `model` is a backbone or anything with a `backbone`; missing limits are
    `None` (not checked).
    """
    backbone = getattr(model, "backbone", None) or model
    return (
        getattr(backbone, "vocabulary_size", None),
        getattr(backbone, "max_sequence_length", None),
        getattr(backbone, "num_segments", None),
    )


# === Concrete values ===


def _is_concrete(x):
    """Whether `x` holds values now (not a symbolic or traced tensor)."""
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int)):
        return True
    module = type(x).__module__
    if module.startswith("keras"):
        return False  # KerasTensor
    if module.startswith("jax"):
        import jax

        return isinstance(x, jax.Array) and not isinstance(
            x, jax.core.Tracer
        )
    if module.startswith("tensorflow"):
        return type(x).__name__ == "EagerTensor"
    if module.startswith("torch"):
        import torch

        is_compiling = getattr(torch.compiler, "is_compiling", None)
        if is_compiling is not None and is_compiling():
            return False
        return isinstance(x, torch.Tensor) and x.device.type != "meta"
    return hasattr(x, "__array__")


def _to_numpy(x):
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _where(index):
    return "(" + ", ".join(str(int(i)) for i in index) + ")"


def _check_range(name, values, limit_name, limit):
    if limit is None or values.size == 0:
        return
    if values.dtype.kind not in "iu":
        return
    low, high = values.min(), values.max()
    if low >= 0 and high < limit:
        return
    bad = (values < 0) | (values >= limit)
    index = np.argwhere(bad)[0]
    raise InvalidInputError(
        _range_message(
            name, int(values[tuple(index)]), _where(index), limit_name, limit
        )
    )


def validate_token_inputs(inputs, model):
    """Check a dict of concrete `token_ids`/`segment_ids`/`padding_mask`.

    Raises `InvalidInputError` on the first problem found. Anything that is
    not such a dict, or whose values are symbolic, passes unchecked.
    """
    if not isinstance(inputs, dict) or _TOKEN_IDS not in inputs:
        return
    if not _is_concrete(inputs[_TOKEN_IDS]):
        return
    vocabulary_size, max_sequence_length, num_segments = input_limits(model)
    token_ids = _to_numpy(inputs[_TOKEN_IDS])
    if token_ids.dtype.kind not in "iu":
        return  # not integer ids (e.g. ragged lists): left to the model
    if (
        max_sequence_length is not None
        and token_ids.ndim >= 1
        and token_ids.shape[-1] > max_sequence_length
    ):
        raise InvalidInputError(
            _length_message(
                token_ids.shape[-1], tuple(token_ids.shape),
                max_sequence_length,
            )
        )
    _check_range(_TOKEN_IDS, token_ids, "vocabulary_size", vocabulary_size)
    for name in (_SEGMENT_IDS, _PADDING_MASK):
        if name not in inputs or not _is_concrete(inputs[name]):
            continue
        values = _to_numpy(inputs[name])
        if values.shape != token_ids.shape:
            raise InvalidInputError(
                _shape_message(
                    name, tuple(values.shape), tuple(token_ids.shape)
                )
            )
        if name == _SEGMENT_IDS:
            _check_range(name, values, "num_segments", num_segments)


def _in_outer_call():
    """Whether a Keras layer call is already running (a nested call)."""
    # Private: whether a Keras call context is active; no public alias
    # (Keras 3.15).
    from keras.src.backend.common import global_state

    return global_state.get_global_attribute("current_call_ctx") is not None


def check_call_inputs(inputs, model):
    """`validate_token_inputs` for a direct, top-level `model(inputs)`.

    Nested calls (the backbone inside a task's step) are skipped: the task
    checked its data before the step, and on PyTorch the step runs eagerly,
    where a check would cost a device sync per step.
    """
    if _in_outer_call():
        return
    validate_token_inputs(inputs, model)


# === tf.data ===


def _is_tf_dataset(x):
    module = type(x).__module__
    if not module.startswith("tensorflow"):
        return False
    import tensorflow as tf

    return isinstance(x, tf.data.Dataset)


def _tf_text(template, *values):
    """`template` with each `{}` replaced by a string tensor."""
    import tensorflow as tf

    parts = template.split("{}")
    pieces = [_MARK_START + parts[0]]
    for value, part in zip(values, parts[1:]):
        pieces += [value, part]
    pieces[-1] = pieces[-1] + _MARK_END
    return tf.strings.join(pieces)


def _tf_where(index):
    import tensorflow as tf

    joined = tf.strings.reduce_join(
        tf.strings.as_string(index), separator=", "
    )
    return tf.strings.join(["(", joined, ")"])


def _tf_checks(x, model):
    """The assertions of `validate_token_inputs`, as tf ops on one batch."""
    import tensorflow as tf

    vocabulary_size, max_sequence_length, num_segments = input_limits(model)
    token_ids = x[_TOKEN_IDS]
    shape = tf.shape(token_ids, out_type=tf.int64)
    asserts = []
    if max_sequence_length is not None:
        length = shape[-1]
        message = _tf_text(
            _length_message("{}", "{}", max_sequence_length),
            tf.strings.as_string(length),
            _tf_where(shape),
        )
        asserts.append(
            tf.debugging.Assert(length <= max_sequence_length, [message])
        )

    def check_range(name, values, limit_name, limit):
        if limit is None or not values.dtype.is_integer:
            return
        flat = tf.reshape(values, [-1])
        bad = tf.logical_or(flat < 0, flat >= limit)
        first = tf.argmax(tf.cast(bad, tf.int32), output_type=tf.int64)
        message = _tf_text(
            _range_message(name, "{}", "{}", limit_name, limit),
            tf.strings.as_string(tf.gather(flat, first)),
            _tf_where(tf.unravel_index(first, tf.shape(values, tf.int64))),
        )
        asserts.append(
            tf.debugging.Assert(
                tf.logical_not(tf.reduce_any(bad)), [message]
            )
        )

    check_range(_TOKEN_IDS, token_ids, "vocabulary_size", vocabulary_size)
    for name in (_SEGMENT_IDS, _PADDING_MASK):
        if name not in x:
            continue
        other = tf.shape(x[name], out_type=tf.int64)
        asserts.append(
            tf.debugging.Assert(
                _tf_same_shape(other, shape),
                [
                    _tf_text(
                        _shape_message(name, "{}", "{}"),
                        _tf_where(other),
                        _tf_where(shape),
                    )
                ],
            )
        )
        if name == _SEGMENT_IDS:
            check_range(name, x[name], "num_segments", num_segments)
    return asserts


def _tf_same_shape(a, b):
    import tensorflow as tf

    return tf.cond(
        tf.equal(tf.size(a), tf.size(b)),
        lambda: tf.reduce_all(tf.equal(a, b)),
        lambda: tf.constant(False),
    )


def checked_dataset(dataset, model):
    """`dataset` with every batch checked, or `dataset` unchanged.

    Only batches whose inputs are a dict with `token_ids` are checked; a
    dataset of raw text goes through unchanged (the preprocessor makes
    valid ids). The check is a few reductions per batch in the input
    pipeline.
    """
    import tensorflow as tf

    spec = dataset.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(x_spec, dict) or _TOKEN_IDS not in x_spec:
        return dataset
    if not isinstance(x_spec[_TOKEN_IDS], tf.TensorSpec):
        return dataset

    @tf.autograph.experimental.do_not_convert
    def check(*element):
        x = element[0]
        with tf.control_dependencies(_tf_checks(x, model)):
            x = {key: tf.identity(value) for key, value in x.items()}
        element = (x,) + tuple(element[1:])
        return element if len(element) > 1 else element[0]

    return dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE)


def _reraised(error):
    """The `InvalidInputError` carried by a TensorFlow error, or `None`."""
    text = str(error)
    start = text.find(_MARK_START)
    end = text.find(_MARK_END, start)
    if start < 0 or end < 0:
        return None
    message = text[start + len(_MARK_START):end]
    # TensorFlow prints the message as a string literal.
    message = message.replace("\\'", "'").replace('\\"', '"')
    return InvalidInputError(
        message + " (Found in a batch of the `tf.data.Dataset`; the position "
        "is within that batch.)"
    )


# === The task hook ===


def _checked_data(data, model):
    """Check concrete `data` now, or wrap a dataset to check each batch."""
    if _is_tf_dataset(data):
        spec = data.element_spec
        check_input_keys(spec[0] if isinstance(spec, tuple) else spec, model)
        return checked_dataset(data, model)
    check_input_keys(data, model)
    validate_token_inputs(data, model)
    return data


def _checked_validation_data(data, model):
    if data is None or _is_tf_dataset(data):
        return _checked_data(data, model)
    if isinstance(data, (tuple, list)) and data:
        check_input_keys(data[0], model)
        validate_token_inputs(data[0], model)
    return data


def _all_variables(model):
    optimizer = getattr(model, "optimizer", None)
    return (
        list(getattr(model, "variables", None) or [])
        + list(getattr(optimizer, "variables", None) or [])
        + list(getattr(model, "metrics_variables", None) or [])
    )


def _jax_values(model):
    """References to the variables' values, on JAX (no copies)."""
    import keras

    if keras.backend.backend() != "jax":
        return None
    return [(v, v._value) for v in _all_variables(model)]


def _restore_jax_values(model, values):
    """Give JAX variables their values back after a failed `fit`/`predict`.

    Keras' JAX trainer takes the values out of the variables for the length
    of the loop and puts them back at its end, which an error from the data
    (a bad batch of a dataset) skips in `predict`/`evaluate`, and in `fit`
    when the first step fails: the model would be left without weights. The
    latest state is put back where Keras holds it, the values from before
    the call elsewhere.
    """
    if values is None:
        return
    sync = getattr(model, "jax_state_sync", None)
    if sync is not None:
        sync()
    for variable, value in values:
        if variable._value is None and value is not None:
            variable._value = value
    model._jax_state = None
    model._jax_state_synced = True


class InputValidatingMixin(InputKeysMixin):
    """Check inputs in `fit`/`evaluate`/`predict` and `*_on_batch`.

    For task classes (anything with a `backbone`). Concrete arrays are
    checked whole before Keras batches them; a `tf.data.Dataset` is checked
    batch by batch in its pipeline. Either way the compiled step is
    untouched. Raw text is left to the preprocessor.

    One rule for packed inputs: a dict given to a task that has a
    preprocessor is the model's own inputs (as `task(x)` takes them). It
    skips the preprocessor and runs unchanged, after its keys are checked;
    only text is preprocessed.
    """

    def preprocess_samples(self, x, y=None, sample_weight=None):
        if isinstance(x, Mapping):
            check_input_keys(x, self)
            import keras

            return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
        return super().preprocess_samples(x, y, sample_weight)

    def _run_checked(self, method, x, args, kwargs):
        x = _checked_data(x, self)
        values = _jax_values(self)
        try:
            return method(x, *args, **kwargs)
        except Exception as error:
            if type(error).__name__ != "InvalidArgumentError":
                raise
            named = _reraised(error)
            if named is None:
                raise
            _restore_jax_values(self, values)
            raise named from None

    def fit(self, x=None, *args, **kwargs):
        if "validation_data" in kwargs:
            kwargs["validation_data"] = _checked_validation_data(
                kwargs["validation_data"], self
            )
        return self._run_checked(super().fit, x, args, kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        return self._run_checked(super().evaluate, x, args, kwargs)

    def predict(self, x=None, *args, **kwargs):
        return self._run_checked(super().predict, x, args, kwargs)

    def train_on_batch(self, x, *args, **kwargs):
        check_input_keys(x, self)
        validate_token_inputs(x, self)
        return super().train_on_batch(x, *args, **kwargs)

    def test_on_batch(self, x, *args, **kwargs):
        check_input_keys(x, self)
        validate_token_inputs(x, self)
        return super().test_on_batch(x, *args, **kwargs)

    def predict_on_batch(self, x, *args, **kwargs):
        check_input_keys(x, self)
        validate_token_inputs(x, self)
        return super().predict_on_batch(x, *args, **kwargs)
