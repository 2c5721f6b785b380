"""Fine-tune `ElectraQuestionAnswerer` (SQuAD-style spans) and report EM/F1.

There is no SQuAD training set offline (tests/data/qa/squad_sample.json
holds 5 questions, for format checks only), so by default this example
builds cloze-style reading-comprehension questions from the Wikipedia
paragraphs in tests/data/corpus/wikipedia.txt.gz: a sentence of the
paragraph with one word replaced by "what" is the question, the word (at
its character offset) is the answer. Train and evaluation questions come
from different articles. Scores use the official SQuAD v1.1 formulas; the
model is then run on squad_sample.json as a demo. By default it fine-tunes
the pre-trained model bundled with the package (`electra_tiny_gutenberg_en`);
`--preset` names another, `--random-init` trains a tiny model from scratch.

With `--squad-train FILE [--squad-dev FILE]` it trains on real SQuAD JSON
(v1.1, or v2.0 with `--version-2`) instead.

    python examples/finetune_qa.py
    python examples/finetune_qa.py --epochs 1 --max-train 300   # smoke run
    python examples/finetune_qa.py --preset electra_small_discriminator_en \\
        --squad-train train-v1.1.json --squad-dev dev-v1.1.json
"""

import argparse
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402

import keras_electra  # noqa: E402
from keras_electra.data import read_documents  # noqa: E402
from keras_electra.finetuning import read_squad  # noqa: E402
from keras_electra.finetuning import squad_v1_scores  # noqa: E402
from keras_electra.finetuning import squad_v2_scores  # noqa: E402

WIKIPEDIA = os.path.join(common.TEST_DATA, "corpus", "wikipedia.txt.gz")
SQUAD_SAMPLE = os.path.join(common.TEST_DATA, "qa", "squad_sample.json")
# Answers: years and capitalised names, asked as "what year" / "what".
WORD = re.compile(r"\b(1[0-9]{3}|20[0-9]{2}|[A-Z][a-z]{3,})\b")


def cloze_questions(articles, rng, per_paragraph=2, max_words=60,
                    before=5, after=2):
    """SQuAD-format data: one article per entry, cloze questions."""
    data = []
    for a, paragraphs in enumerate(articles):
        entry = {"title": str(a), "paragraphs": []}
        for p, context in enumerate(paragraphs):
            context = " ".join(context.split()[:max_words])
            sentences = [
                m for m in re.finditer(r"[^.!?]+[.!?]", context)
                if len(m.group().split()) >= 6
            ]
            qas = []
            for s in rng.sample(sentences, min(per_paragraph, len(sentences))):
                words = [
                    w for w in WORD.finditer(s.group())
                    if w.start() > 0  # not the capital of the first word
                    and len(re.findall(rf"\b{w.group()}\b", context)) == 1
                ]
                if not words:
                    continue
                w = rng.choice(words)
                # A few words on each side of the blank.
                left = s.group()[: w.start()].split()[-before:]
                right = s.group()[w.end():].split()[:after]
                blank = ["what", "year"] if w.group().isdigit() else ["what"]
                question = " ".join(left + blank + right)
                qas.append(
                    {
                        "id": f"{a}-{p}-{len(qas)}",
                        "question": question,
                        "answers": [
                            {"text": w.group(),
                             "answer_start": s.start() + w.start()}
                        ],
                    }
                )
            if qas:
                entry["paragraphs"].append({"context": context, "qas": qas})
        data.append(entry)
    return {"data": data}


def evaluate(qa, dataset, version_2):
    predictions, null_diffs = qa.predict_squad(
        dataset, version_2=version_2, batch_size=64
    )
    if version_2:
        return squad_v2_scores(dataset, predictions)
    return squad_v1_scores(dataset, predictions)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--squad-train", default=None)
    parser.add_argument("--squad-dev", default=None)
    parser.add_argument("--version-2", action="store_true")
    parser.add_argument("--doc-stride", type=int, default=64)
    parser.add_argument("--max-query-length", type=int, default=16)
    parser.add_argument("--max-train", type=int, default=3000)
    common.add_common_arguments(
        parser, epochs=4, sequence_length=96, learning_rate=1e-3
    )
    args = parser.parse_args()
    common.set_seed(args.seed)
    rng = random.Random(args.seed)

    if args.squad_train:
        train = read_squad(args.squad_train)
        dev = read_squad(args.squad_dev or SQUAD_SAMPLE)
    else:
        articles = read_documents(WIKIPEDIA)
        rng.shuffle(articles)
        train = read_squad(cloze_questions(articles[10:], rng))
        dev = read_squad(cloze_questions(articles[:6], rng))
    keep = list(range(len(train["ids"])))
    rng.shuffle(keep)
    keep = keep[: args.max_train]

    qa = common.build_task(
        keras_electra.ElectraQuestionAnswerer,
        keras_electra.ElectraQuestionAnswererPreprocessor,
        args,
        preprocessor_kwargs={
            "doc_stride": args.doc_stride,
            "max_query_length": args.max_query_length,
        },
    )
    features = qa.preprocessor.featurize(
        [train["questions"][i] for i in keep],
        [train["contexts"][i] for i in keep],
        answers=[train["answers"][i] for i in keep],
    )
    print(f"{len(keep)} training questions -> {len(features.y)} windows")
    common.compile_task(qa, args, len(features.y), tiny_learning_rate=1e-3)

    start = time.time()
    qa.fit(common.shuffled_batches(features.x, features.y, args),
           epochs=args.epochs, verbose=2)
    scores = evaluate(qa, dev["dataset"], args.version_2)
    name = "SQuAD dev" if args.squad_train else "held-out cloze questions"
    print(f"{name} ({len(dev['ids'])} questions): "
          + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()
                      if isinstance(v, float))
          + f"; {time.time() - start:.0f} s")

    sample = read_squad(SQUAD_SAMPLE)
    answers = qa.answer(sample["questions"], sample["contexts"])
    for question, gold, answer in zip(
        sample["questions"], sample["answers"], answers
    ):
        print(f"  Q: {question}\n     predicted: {answer['text']!r}; "
              f"gold: {gold[0]['text'][:60]!r}")
    print("squad_sample.json:", evaluate(qa, sample["dataset"], False))


if __name__ == "__main__":
    main()
