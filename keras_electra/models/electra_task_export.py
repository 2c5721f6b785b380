"""`task.export(path)`: the raw-string serving SavedModel, from any backend.

`ServingExportMixin` is listed first in the bases of every exportable task
(`ElectraClassifier`, `ElectraTokenClassifier`, `ElectraQuestionAnswerer`,
`ElectraMultipleChoice`, `ElectraMaskedLM`, `ElectraDiscriminator`). It
overrides `keras.Model.export` once for all of them:

- `format="serving"` (the default): `keras_electra.export.export_saved_model`,
  a TensorFlow SavedModel that takes raw strings and returns labels and
  probabilities, loadable with TensorFlow alone, written the same way from
  TensorFlow, JAX and PyTorch.
- Keras' formats `"tf_saved_model"`, `"onnx"`, `"litert"`, `"openvino"`:
  `keras.Model.export` (Keras' token-id graph), written by Keras'
  TensorFlow backend from every backend (`keras_electra.export.
  keras_formats`); any other `format`: `keras.Model.export`, unchanged.
"""

SERVING_FORMAT = "serving"


class ServingExportMixin:
    """Gives a task `export(path)` = the raw-string serving SavedModel."""

    def export(
        self,
        filepath,
        format=SERVING_FORMAT,
        verbose=None,
        input_signature=None,
        **kwargs,
    ):
        """Export the task for inference.

        By default (`format="serving"`) this writes a TensorFlow SavedModel
        for serving, the same as
        `keras_electra.export.export_saved_model(task, filepath, **kwargs)`:
        its `serving_default` signature takes raw UTF-8 strings (tokenized
        inside the graph as the task's preprocessor does) and returns the
        task's predictions by name (e.g. a classifier's `label`,
        `label_id`, `score` and `probabilities`); `token_ids` and
        `token_ids_int64` take packed token ids. It reloads with
        `tf.saved_model.load` and TF Text's ops, without Keras or
        keras_electra, and is written the same way from the TensorFlow, JAX
        and PyTorch backends (from JAX and PyTorch, the task is rebuilt
        under TensorFlow in a subprocess). The task needs its preprocessor.

        Any other `format` is Keras' own `keras.Model.export` (e.g.
        `format="tf_saved_model"`: Keras' graph over token-id inputs, no
        string preprocessing; `"onnx"`, `"litert"`, `"openvino"`,
        `"torch"`), called unchanged with `verbose`, `input_signature` and
        `**kwargs`; see Keras' documentation for what each backend supports.

        Args:
            filepath: the SavedModel directory to write. For TensorFlow
                Serving use `<model_base_path>/<version>`, e.g.
                `models/sentiment/1`.
            format: `"serving"` (default) or one of Keras' export formats.
            verbose: bool. With `"serving"`, `True` prints the path written.
            input_signature: Keras formats only; must be `None` with
                `"serving"`.
            **kwargs: with `"serving"`, the options of `export_saved_model`:
                `pairs`, `label_names` (default: the task's `label_names`,
                if set, else the ids as strings), `top_k`,
                `max_answer_length`, `sequence_length`, `jit_compile`,
                `overwrite`. With
                another format, Keras' format-specific options.

        Returns:
            With `"serving"`, the absolute path written; otherwise what
            `keras.Model.export` returns.

        Example:
        ```python
        classifier.export("models/sentiment/1")

        # Anywhere, with TensorFlow and TF Text only:
        import tensorflow as tf
        import tensorflow_text  # registers the WordPiece ops

        served = tf.saved_model.load("models/sentiment/1")
        served.signatures["serving_default"](text=tf.constant(["Great!"]))
        ```
        """
        if format != SERVING_FORMAT:
            # Imported here, as below.
            from keras_electra.export import keras_formats

            if format in keras_formats.KERAS_FORMATS:
                # Written by Keras' TensorFlow backend from every backend.
                return keras_formats.export_keras_format(
                    self,
                    filepath,
                    format=format,
                    verbose=verbose,
                    input_signature=input_signature,
                    **kwargs,
                )
            return super().export(
                filepath,
                format=format,
                verbose=verbose,
                input_signature=input_signature,
                **kwargs,
            )
        if input_signature is not None:
            raise ValueError(
                '`input_signature` does not apply to format="serving": its '
                "signatures are fixed (strings, and token ids of any batch "
                "size and length). Received: "
                f"input_signature={input_signature!r}"
            )
        # Imported here, not at module level: `keras_electra.export` builds
        # on the task classes, whose modules import this one.
        from keras_electra.export.saved_model import export_saved_model

        path = export_saved_model(self, filepath, **kwargs)
        if verbose:
            print(f"Saved the serving SavedModel at {path}")
        return path
