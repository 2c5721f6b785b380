"""`keras-electra predict`, `fill-mask` and `detect`: a model's answers
on texts given as arguments or in a file (`--input`)."""

import json

import numpy as np

import keras_electra
from keras_electra.cli import readers
from keras_electra.cli.export import is_saved_model
from keras_electra.cli.export import saved_model_predict
from keras_electra.cli.finetune import load_classifier
from keras_electra.cli.finetune import predict_classes
from keras_electra.cli.shared import UsageError
from keras_electra.cli.shared import say
from keras_electra.presets import DISCRIMINATOR
from keras_electra.presets import GENERATOR
from keras_electra.pretraining.pair_preset import member_preset as pair_member


def read_texts(args):
    if args.input:
        texts = [line for line in readers.read_lines(args.input) if line.strip()]
        if not texts:
            raise UsageError(f"--input {args.input!r} holds no text")
        return texts
    return list(args.texts)


def cmd_predict(args):
    texts = read_texts(args)
    if is_saved_model(args.model):
        labels, scores, _ = saved_model_predict(args.model, texts)
    else:
        classifier, names = load_classifier(args.model)
        probabilities = predict_classes(classifier, texts, 64)
        labels = [names[i] for i in np.argmax(probabilities, -1)]
        scores = probabilities.max(-1).tolist()
    for text, label, score in zip(texts, labels, scores):
        if args.json:
            say(json.dumps({"text": text, "label": label, "score": score}))
        else:
            say(f"{label}\t{score:.3f}\t{text}")


def cmd_fill_mask(args):
    texts = read_texts(args)
    generator = keras_electra.ElectraMaskedLM.from_preset(
        pair_member(args.model, GENERATOR)
    )
    for text, masks in zip(texts, generator.fill_mask(texts, top_k=args.top_k)):
        say(text)
        for i, candidates in enumerate(masks, 1):
            shown = ", ".join(f"{t} ({p:.2f})" for t, p in candidates)
            say(f"  [MASK] {i}: {shown}")


def cmd_detect(args):
    texts = read_texts(args)
    discriminator = keras_electra.ElectraDiscriminator.from_preset(
        pair_member(args.model, DISCRIMINATOR)
    )
    for text, tokens in zip(texts, discriminator.detect_replaced(texts)):
        marked = [
            f"[{t}]" if p > args.threshold else t for t, p in tokens
        ]
        say(" ".join(marked))
        replaced = [(t, p) for t, p in tokens if p > args.threshold]
        shown = ", ".join(f"{t} ({p:.2f})" for t, p in replaced) or "none"
        say(f"  replaced (p > {args.threshold}): {shown}")
