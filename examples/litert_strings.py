"""A LiteRT (TFLite) classifier that takes raw strings, run by ai-edge-litert.

    python examples/litert_strings.py [--output electra_strings.tflite]

Runs under the TensorFlow backend (it sets `KERAS_BACKEND=tensorflow`) on
the pre-trained tiny ELECTRA bundled with the package
(`electra_tiny_gutenberg_en`, no download), with a randomly initialised
2-class head: it shows the plumbing, not a trained classifier.

1. One `tf.function`: strings -> tf-text's `FastBertNormalizer` and
   `FastWordpieceTokenizer` (the WordPiece ops that have TFLite kernels) ->
   `[CLS] ... [SEP]` padded to `--sequence-length` with builtin ops -> the
   classifier -> logits.
2. Written through `keras.export.ExportArchive` (which freezes the Keras
   weights into the file; a plain `tf.saved_model.save` leaves them as
   uninitialised resource variables, and LiteRT then returns NaN), then
   converted with builtin ops plus tf-text's two custom ops (no Flex
   delegate: ai-edge-litert has none).
3. Run by `ai_edge_litert.interpreter.InterpreterWithCustomOps` with tf-text's
   op registrars, and compared with the task's own preprocessor and
   `predict`.

Two known differences from `ElectraTokenizer` (Google's BERT rules):
`FastBertNormalizer` folds compatibility characters (NFKC: "ﬁ" -> "fi",
"Ｆｕｌｌ" -> "full") and turns control characters into spaces, and a
special token typed in the text ("[MASK]") is split into pieces. The exact
rules need `tf.strings` ops that only the Flex delegate runs. The example
prints whether each text's ids match.

The registrars (`tensorflow_text.core.pybinds.tflite_registrar` in tf-text
2.21) link against TensorFlow's shared library: the `tensorflow` wheel must
be installed where the model runs (on Android or in C++, link tf-text's
TFLite kernels instead).
"""

import argparse
import os
import tempfile

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_text as tf_text  # noqa: E402
from ai_edge_litert.interpreter import InterpreterWithCustomOps  # noqa: E402
from tensorflow_text.core.pybinds import tflite_registrar  # noqa: E402

import keras_electra  # noqa: E402

TEXTS = [
    "It is a truth universally acknowledged, that a single man in possession "
    "of a good fortune, must be in want of a wife.",
    "THE QUICK brown fox—jumped over the lazy dog?!",
    "naïve résumé façade Ångström",
    "It was the best of times, it was the worst of times. " * 30,
    "",
    "ﬁne ½ Ｆｕｌｌ",  # NFKC folding: differs from ElectraTokenizer
    "the [MASK] sat on the mat",  # a typed special token: differs too
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output", default=None,
                   help="where to write the .tflite (default: a temporary "
                   "directory)")
    p.add_argument("--sequence-length", type=int, default=128)
    return p.parse_args(argv)


def strings_in_function(classifier, length):
    """strings [batch] -> {"logits", "token_ids"}, TFLite-convertible."""
    vocabulary = classifier.preprocessor.tokenizer.get_vocabulary()
    cls_id, sep_id, pad_id = (
        vocabulary.index(t) for t in ("[CLS]", "[SEP]", "[PAD]")
    )
    normalizer = tf_text.FastBertNormalizer(lower_case_nfd_strip_accents=True)
    wordpiece = tf_text.FastWordpieceTokenizer(
        vocab=vocabulary, suffix_indicator="##", max_bytes_per_word=100,
        token_out_type=tf.int32, unknown_token="[UNK]",
        no_pretokenization=False, support_detokenization=False,
    )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(text):
        ids = wordpiece.tokenize(normalizer.normalize(text))  # ragged
        # Fixed-length packing with builtin ops (no RaggedTensorToTensor).
        values = tf.concat([ids.values, [pad_id]], 0)  # never empty
        lengths = tf.cast(tf.minimum(ids.row_lengths(), length - 2), tf.int32)
        body_positions = tf.range(length - 2)[None, :]
        index = tf.cast(ids.row_starts(), tf.int32)[:, None] + body_positions
        body = tf.where(
            body_positions < lengths[:, None],
            tf.gather(values, tf.minimum(index, tf.shape(values)[0] - 1)),
            pad_id,
        )
        batch = tf.shape(body)[0]
        token_ids = tf.concat(
            [tf.fill([batch, 1], cls_id), body, tf.fill([batch, 1], pad_id)], 1
        )
        positions = tf.range(length)[None, :]
        token_ids = tf.where(positions == lengths[:, None] + 1, sep_id,
                             token_ids)
        inputs = {
            "token_ids": token_ids,
            "segment_ids": tf.zeros_like(token_ids),
            "padding_mask": positions < lengths[:, None] + 2,
        }
        return {"logits": classifier(inputs, training=False),
                "token_ids": token_ids}

    return serve


def convert(classifier, length):
    """The `.tflite` bytes of the strings-in classifier."""
    saved_model = tempfile.mkdtemp(prefix="electra_strings_")
    archive = keras.export.ExportArchive()
    archive.track(classifier)  # freezes the weights into the file
    archive.add_endpoint(
        "serve", strings_in_function(classifier, length),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    archive.write_out(saved_model, verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = True  # tf-text's two ops
    return converter.convert()


def main(argv=None):
    args = parse_args(argv)
    keras.utils.set_random_seed(0)
    classifier = keras_electra.ElectraClassifier.from_preset(
        "electra_tiny_gutenberg_en", num_classes=2
    )
    model = convert(classifier, args.sequence_length)
    output = args.output or os.path.join(
        tempfile.mkdtemp(), "electra_strings.tflite")
    with open(output, "wb") as f:
        f.write(model)
    print(f"wrote {output} ({len(model):,} bytes)")

    interpreter = InterpreterWithCustomOps(
        model_path=output,
        custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS,
    )
    served = interpreter.get_signature_runner()(
        text=np.array(TEXTS, dtype=object)
    )
    # The task's own packing and numbers, padded to the same length.
    classifier.preprocessor.padding = "max_length"
    classifier.preprocessor.sequence_length = args.sequence_length
    expected_ids = keras.ops.convert_to_numpy(
        classifier.preprocessor(TEXTS)["token_ids"]
    )
    expected = classifier.predict(TEXTS, verbose=0)
    for i, text in enumerate(TEXTS):
        same = bool((served["token_ids"][i] == expected_ids[i]).all())
        diff = float(np.abs(served["logits"][i] - expected[i]).max())
        print(f"ids {'equal' if same else 'DIFFER'}, max |logit diff| "
              f"{diff:.1e}: {text[:48]!r}")


if __name__ == "__main__":
    main()
