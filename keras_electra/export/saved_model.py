"""Export ELECTRA tasks as TensorFlow SavedModels for serving.

`task.export(path)` (every keras_electra task, see
`keras_electra.models.electra_task_export`) and `export_saved_model(task,
path)` write a SavedModel that TensorFlow Serving (or any SavedModel
consumer) loads without Keras or keras_electra, only TensorFlow and TF
Text's ops. Its signatures:

- `serving_default`: raw UTF-8 strings in (`tf.string`, shape `[None]`;
  two inputs for sentence pairs and question answering; a prompt and
  `[None, None]` choices for multiple choice), tokenized and packed inside
  the graph by the task's own preprocessor, task outputs out (see
  `keras_electra.export.serving_heads`). A request is padded as `predict`
  pads it: to its longest text, rounded up to the preprocessor's
  `pad_to_multiple_of` (or to `sequence_length` with
  `padding="max_length"`), so a one-sentence request costs a one-sentence
  forward pass.
- `token_ids` (int32) and `token_ids_int64`: `token_ids`, `segment_ids`
  and `padding_mask`, `[batch, seq]` (`[batch, choices, seq]` for multiple
  choice) with any batch size and any sequence length up to the backbone's
  `max_sequence_length`.

How the graph is built, whatever the task's backend: the serving graph is
always traced by Keras' TensorFlow backend. A task living under TensorFlow
is traced in-process. A Keras process cannot switch backend, so a task
living under JAX or PyTorch is saved as a Keras preset (backend-independent
config, weights and vocabulary) to a temporary directory and rebuilt in a
subprocess with `KERAS_BACKEND=tensorflow`, which traces and writes the
same graph. (Keras' own `model.export` converts JAX functions with jax2tf
into opaque XLA modules, fails for PyTorch, and has no string
preprocessing; rebuilding under TensorFlow gives every backend the same
plain TF graph, tested the same way.)

The export is written to a temporary directory beside `path` and renamed
into place: a failed export never leaves a half-written model.
"""

import os

import keras

from keras_electra.export.tf_subprocess import staged
from keras_electra.export.tf_subprocess import write_in_tensorflow_subprocess
from keras_electra.utils.label_names import check_label_names

SERVING_SIGNATURE = "serving_default"
TOKEN_IDS_SIGNATURE = "token_ids"
TOKEN_IDS_INT64_SIGNATURE = "token_ids_int64"
FEATURE_NAMES = ("token_ids", "segment_ids", "padding_mask")


def export_saved_model(
    task,
    path,
    *,
    pairs=None,
    label_names=None,
    top_k=5,
    max_answer_length=30,
    sequence_length=None,
    jit_compile=False,
    overwrite=False,
):
    """Write `task` as a TensorFlow SavedModel with string-in signatures.

    What `task.export(path, **options)` does (its default
    `format="serving"`). Works from any Keras backend (see the module
    docstring for how). The task needs its preprocessor: its tokenizer and
    packing are built into the graph.

    Args:
        task: an exportable keras_electra task (`ElectraClassifier`,
            `ElectraTokenClassifier`, `ElectraQuestionAnswerer`,
            `ElectraMultipleChoice`, `ElectraDiscriminator`,
            `ElectraMaskedLM`) with a preprocessor.
        path: the SavedModel directory to write. For TensorFlow Serving use
            `<model_base_path>/<version>`, e.g. `models/electra/1`.
        pairs: bool or `None`. Whether `serving_default` takes sentence
            pairs (two string inputs, `text_a` and `text_b`). `None` uses
            the task's default: pairs (`question`, `context`) for question
            answering, single texts otherwise.
        label_names: list of strings or `None`. Names of the classes or tags
            returned in the `label`/`tags` outputs (`ElectraClassifier`,
            `ElectraTokenClassifier`; other tasks take none). `None` uses
            the task's `label_names` attribute if set, else the ids as
            strings.
        top_k: int. How many predictions the masked LM returns per `[MASK]`.
        max_answer_length: int. Longest answer span, in tokens (question
            answering).
        sequence_length: int or `None`. The most tokens raw strings are
            packed to (longer ones are truncated); each request is padded
            as the preprocessor pads. Defaults to the preprocessor's.
        jit_compile: bool. Compile the model's part of every signature
            with XLA (the tokenizer's string ops stay outside). Off by
            default: TensorFlow Serving runs XLA functions only when
            started with `--xla_cpu_compilation_enabled=true` (an
            experimental flag; without it every request fails), and each
            new input shape (batch size x padded length) is compiled on
            its first request. Where the SavedModel is loaded by
            TensorFlow itself (`tf.saved_model.load`), XLA served
            ELECTRA-small 1.1-1.4x faster on 2 CPU cores (one 12-word
            sentence, 32 passages; `benchmarks/SERVING.md`).
        overwrite: bool. Replace an existing `path`.

    Returns:
        The absolute `path`.

    Example:
    ```python
    classifier.export("models/sentiment/1")
    # the same:
    keras_electra.export_saved_model(classifier, "models/sentiment/1")

    # Anywhere, without Keras or keras_electra:
    import tensorflow as tf
    import tensorflow_text  # registers the WordPiece ops

    served = tf.saved_model.load("models/sentiment/1")
    served.signatures["serving_default"](text=tf.constant(["Great film!"]))
    ```
    """
    options = dict(pairs=pairs, label_names=label_names, top_k=top_k,
                   max_answer_length=max_answer_length,
                   sequence_length=sequence_length, jit_compile=jit_compile,
                   overwrite=overwrite)
    return export_many([(task, path)], **options)[0]


def export_many(exports, **options):
    """`export_saved_model` several tasks; from JAX or PyTorch, in one
    TensorFlow subprocess.

    Exporting from a non-TensorFlow backend starts a TensorFlow process;
    this pays that start-up once for all tasks (e.g. the generator and the
    discriminator after pre-training).

    Args:
        exports: a list of `(task, path)` or `(task, path, options)` where
            `options` is a dict of `export_saved_model` keyword arguments
            for that task.
        **options: `export_saved_model` keyword arguments for all tasks.

    Returns:
        The list of absolute paths written.
    """
    jobs = []
    for item in exports:
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValueError(
                "Each export is `(task, path)` or `(task, path, options)`. "
                f"Received: {item!r}"
            )
        task, path = item[0], item[1]
        kwargs = {**options, **(item[2] if len(item) == 3 else {})}
        unknown = set(kwargs) - set(_EXPORT_DEFAULTS)
        if unknown:
            raise TypeError(
                f"Unknown export option(s) {sorted(unknown)}; the options "
                f"are {sorted(_EXPORT_DEFAULTS)}."
            )
        kwargs = {**_EXPORT_DEFAULTS, **kwargs}
        job_options = _check_export_args(task, path, **kwargs)
        jobs.append((task, os.path.abspath(os.fspath(path)), job_options))
    paths = [path for _, path, _ in jobs]
    if len(set(paths)) != len(paths):
        raise ValueError(f"Two exports write to the same path: {paths}")
    with staged(jobs) as targets:
        if keras.backend.backend() == "tensorflow":
            for (task, _, job_options), target in zip(jobs, targets):
                write_saved_model(task, target, job_options)
        else:
            write_in_tensorflow_subprocess(jobs, targets, "saved_model")
    return paths


_EXPORT_DEFAULTS = {
    "pairs": None,
    "label_names": None,
    "top_k": 5,
    "max_answer_length": 30,
    "sequence_length": None,
    "jit_compile": False,
    "overwrite": False,
}


def _check_export_args(
    task,
    path,
    pairs,
    label_names,
    top_k,
    max_answer_length,
    sequence_length,
    jit_compile,
    overwrite,
):
    from keras_electra.export.serving_heads import serving_head_class

    if pairs is not None and not isinstance(pairs, bool):
        raise ValueError(f"`pairs` must be a bool or None. Received: {pairs!r}")
    # Raises for tasks that cannot be served, or not with these `pairs`.
    head_class = serving_head_class(task)
    head_class.string_inputs(pairs)
    preprocessor = getattr(task, "preprocessor", None)
    if preprocessor is None or getattr(preprocessor, "tokenizer", None) is None:
        raise ValueError(
            f"Exporting a {type(task).__name__} needs its preprocessor: the "
            "tokenizer and packing go into the serving graph. Build the task "
            "with `from_preset` or pass `preprocessor=...`."
        )
    for name, value in (
        ("top_k", top_k),
        ("max_answer_length", max_answer_length),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f"`{name}` must be a positive int. Received: {value!r}"
            )
    if label_names is not None and not head_class.uses_label_names:
        raise ValueError(
            f"A {type(task).__name__} export takes no `label_names` (only "
            "classifiers and token classifiers name their labels). "
            f"Received: {label_names!r}"
        )
    if label_names is None and head_class.uses_label_names:
        # The task's own names (set in the task's constructor, or by hand).
        # Resolved here, in the caller's process: the TensorFlow subprocess
        # rebuilds the task from its config, which may not hold them.
        label_names = getattr(task, "label_names", None) or None
    label_names = check_label_names(
        label_names, getattr(task, "num_classes", None) or None
    )
    max_length = task.backbone.max_sequence_length
    length = sequence_length or preprocessor.sequence_length
    if not isinstance(length, int) or length < 2 or length > max_length:
        raise ValueError(
            f"`sequence_length` must be an int in [2, {max_length}] (the "
            "backbone's `max_sequence_length`). Received: "
            f"{sequence_length if sequence_length else length!r}"
            + ("" if sequence_length else " (from the preprocessor)")
        )
    if not isinstance(jit_compile, bool):
        raise ValueError(
            f"`jit_compile` must be True or False. Received: {jit_compile!r}"
        )
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"{path!r} already exists. Pass `overwrite=True` to replace it."
        )
    return {
        "pairs": pairs,
        "label_names": label_names,
        "top_k": top_k,
        "max_answer_length": max_answer_length,
        "sequence_length": length,
        "jit_compile": jit_compile,
        "overwrite": bool(overwrite),
    }


# --- The TensorFlow side: trace and save the serving graph. ---


def write_saved_model(task, path, options):
    """Trace the serving signatures of `task` and save them to `path`.

    Needs the TensorFlow backend. `options` as made by `export`.
    """
    import tensorflow as tf

    from keras_electra.export.serving_heads import serving_head_class

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "`write_saved_model` runs under the TensorFlow backend; use "
            "`task.export(path)`, which handles other backends."
        )
    head = serving_head_class(task)(task, options)
    string_names = head.string_inputs(options.get("pairs"))
    model_input_names = list(task.input.keys())
    max_length = task.backbone.max_sequence_length

    # The Keras model is traced once, as one function that every signature
    # calls (int32 inputs, dynamic batch and sequence length).
    # `[batch, seq]`, or `[batch, choices, seq]` for multiple choice.
    feature_shape = [None] * head.feature_rank
    model_fn = tf.function(
        lambda inputs: task(inputs, training=False),
        autograph=False,
        jit_compile=options["jit_compile"],
    ).get_concrete_function(
        {
            name: tf.TensorSpec(feature_shape, tf.int32, name=name)
            for name in model_input_names
        }
    )

    def run_task(features):
        features = head.add_features(features)
        model_outputs = model_fn(
            {name: features[name] for name in model_input_names}
        )
        return head.outputs(model_outputs, features)

    def serve_strings(*texts):
        features = head.pack(texts)
        outputs = run_task(features)
        outputs["token_ids"] = features["token_ids"]
        return outputs

    serve_strings = tf.function(
        serve_strings,
        input_signature=[
            tf.TensorSpec([None] * head.string_rank(name), tf.string, name=name)
            for name in string_names
        ],
        autograph=False,
    )

    def serve_token_ids(token_ids, segment_ids, padding_mask):
        checks = [
            tf.debugging.assert_equal(
                tf.shape(token_ids),
                tf.shape(segment_ids),
                message="token_ids and segment_ids must have the same shape",
            ),
            tf.debugging.assert_equal(
                tf.shape(token_ids),
                tf.shape(padding_mask),
                message="token_ids and padding_mask must have the same shape",
            ),
            tf.debugging.assert_less_equal(
                tf.shape(token_ids)[-1],
                max_length,
                message=(
                    "the sequence length exceeds the model's "
                    f"max_sequence_length ({max_length})"
                ),
            ),
        ]
        with tf.control_dependencies(checks):
            features = {
                "token_ids": tf.cast(token_ids, tf.int32),
                "segment_ids": tf.cast(segment_ids, tf.int32),
                "padding_mask": tf.cast(padding_mask, tf.int32),
            }
        return run_task(features)

    def token_id_specs(dtype):
        return [tf.TensorSpec(feature_shape, dtype, name=n) for n in FEATURE_NAMES]

    serve_ids = tf.function(serve_token_ids, autograph=False)
    signatures = {
        SERVING_SIGNATURE: serve_strings.get_concrete_function(),
        TOKEN_IDS_SIGNATURE: serve_ids.get_concrete_function(
            *token_id_specs(tf.int32)
        ),
        TOKEN_IDS_INT64_SIGNATURE: serve_ids.get_concrete_function(
            *token_id_specs(tf.int64)
        ),
    }
    root = tf.Module()
    # Keras variables of the TensorFlow backend are trackable: listing them
    # saves their values with the signatures that capture them. The
    # functions are saved as signatures only (attaching them to `root` too
    # would make `tf.saved_model.save` trace them all again).
    root.model_variables = list(task.variables)
    tf.saved_model.save(root, path, signatures=signatures)
