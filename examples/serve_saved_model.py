"""Fine-tune the bundled pre-trained ELECTRA, export it, and serve it.

Runs on any Keras backend and needs no network:

    KERAS_BACKEND=torch python examples/serve_saved_model.py

1. Fine-tunes a sentiment classifier on the 200 movie-review sentences of
   `tests/data/classification/polarity.tsv`, starting from the pre-trained
   tiny ELECTRA bundled with the package (`ElectraClassifier.from_preset(
   "electra_tiny_gutenberg_en", num_classes=2)`, no download; `--preset`
   names another checkpoint, e.g. `electra_small_discriminator_en`).
   `--random-init` trains a tiny randomly initialised model instead, with
   the BERT uncased vocabulary bundled with the package (or `--vocab`).
2. Exports it with `classifier.export(path)` as a TensorFlow SavedModel whose
   `serving_default` signature takes raw strings (from JAX or PyTorch the
   exporter rebuilds the model under TensorFlow in a subprocess).
3. Reloads the SavedModel with plain TensorFlow (no Keras model code) and
   serves predictions from it, checking them against `predict`.
4. Prints the TensorFlow Serving REST request for the same sentences.

Options: `--data`, `--preset`, `--random-init`, `--vocab` (with
`--random-init`: a vocabulary file instead of the bundled one), `--output` (default: a temporary directory), `--epochs` (`--epochs 1` for a
quick smoke run).
"""

import argparse
import json
import os
import tempfile

import keras
import numpy as np

import keras_electra
import keras_electra.data

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_DATA = os.path.join(HERE, "..", "tests", "data")
LABELS = ["negative", "positive"]


def read_polarity(path):
    texts, labels = [], []
    with keras_electra.data.open_text(path) as f:
        next(f)  # header: label<TAB>text
        for line in f:
            label, text = line.rstrip("\n").split("\t", 1)
            texts.append(text)
            labels.append(int(label))
    return texts, np.array(labels, "int32")


def build_classifier(preset, sequence_length=48):
    """The classifier fine-tuned from `preset` (Adam, 5e-4)."""
    preprocessor = keras_electra.ElectraTextClassifierPreprocessor.from_preset(
        preset, sequence_length=sequence_length
    )
    classifier = keras_electra.ElectraClassifier.from_preset(
        preset, num_classes=len(LABELS), preprocessor=preprocessor
    )
    return compiled(classifier, learning_rate=5e-4)


def build_random_classifier(vocabulary, sequence_length=48):
    """A tiny randomly initialised classifier (Adam, 1e-3); `vocabulary`: a
    list of tokens or the path of a vocabulary file."""
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocabulary)
    backbone = keras_electra.ElectraBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        embedding_dim=16,
        intermediate_dim=64,
        max_sequence_length=64,
        dropout=0.0,
    )
    preprocessor = keras_electra.ElectraTextClassifierPreprocessor(
        tokenizer, sequence_length=sequence_length
    )
    classifier = keras_electra.ElectraClassifier(
        backbone, num_classes=len(LABELS), preprocessor=preprocessor,
        dropout=0.0,
    )
    return compiled(classifier, learning_rate=1e-3)


def compiled(classifier, learning_rate):
    classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return classifier


def serve(saved_model_dir, sentences):
    """Predictions from the SavedModel alone: TensorFlow + TF Text ops."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the WordPiece ops)

    served = tf.saved_model.load(saved_model_dir)
    serving_default = served.signatures["serving_default"]
    outputs = serving_default(text=tf.constant(sentences))
    return {name: value.numpy() for name, value in outputs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=os.path.join(TEST_DATA, "classification", "polarity.tsv"),
    )
    parser.add_argument(
        "--preset",
        default="electra_tiny_gutenberg_en",
        help="The pre-trained model to fine-tune (default: the bundled one).",
    )
    parser.add_argument(
        "--random-init",
        action="store_true",
        help="A tiny randomly initialised model instead (no pre-training).",
    )
    parser.add_argument(
        "--vocab",
        default=None,
        help="With --random-init: a WordPiece vocabulary file (default: the "
        "bundled uncased one).",
    )
    parser.add_argument("--output", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    texts, labels = read_polarity(args.data)
    # The file is sorted by label; mix it (list inputs are not reshuffled).
    order = np.random.default_rng(0).permutation(len(texts))
    texts, labels = [texts[i] for i in order], labels[order]
    if args.random_init:
        classifier = build_random_classifier(
            args.vocab or keras_electra.data.vocabulary()
        )
    else:
        classifier = build_classifier(args.preset)
    print(f"Fine-tuning on {len(texts)} sentences ({keras.backend.backend()})")
    classifier.fit(texts, labels, batch_size=16, epochs=args.epochs, verbose=2)

    output = args.output or tempfile.mkdtemp(prefix="electra_serving_")
    # TF Serving layout: <model_base_path>/<version>/saved_model.pb
    path = os.path.join(output, "sentiment", "1")
    classifier.export(path, label_names=LABELS, overwrite=True)
    print(f"Exported the SavedModel to {path}")

    sentences = [
        texts[labels.argmax()],  # a positive training sentence
        texts[labels.argmin()],  # a negative one
        "",  # empty input is fine
    ]
    served = serve(path, sentences)
    for sentence, label, score in zip(
        sentences, served["label"], served["score"]
    ):
        print(f"{label.decode():>8s} ({score:.2f})  {sentence!r}")

    expected = keras.ops.convert_to_numpy(classifier.predict(sentences, verbose=0))
    difference = np.abs(served["logits"] - expected).max()
    print(f"max |SavedModel - predict| over the logits: {difference:.2e}")
    if difference > 1e-5:
        raise SystemExit("The SavedModel does not match `predict`.")

    request = {"signature_name": "serving_default", "instances": sentences}
    print(
        "TensorFlow Serving REST request "
        "(POST /v1/models/sentiment:predict):\n" + json.dumps(request)
    )


if __name__ == "__main__":
    main()
