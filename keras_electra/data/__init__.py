"""The bundled quick-start data: four public-domain novels and a vocabulary.

Installed with the package (see `PROVENANCE.md` beside this file), so that
`keras-electra quickstart` runs with no download:

- four novels from Project Gutenberg, one per author, one paragraph per
  line, one empty line between chapters (`*.txt.gz`);
- BERT's uncased WordPiece vocabulary (`uncased_vocab.txt.gz`, the one of
  Google's English ELECTRA checkpoints).

From them, `author_task()` builds a small labelled task, "which of the four
authors wrote this passage", and `pretraining_documents()` the pre-training
text. The split is by chapter: every `TEST_CHAPTER_EVERY`-th chapter of each
novel is held out. Test passages come only from held-out chapters; training
passages and all pre-training text come only from the other chapters, so no
test passage is ever seen, labelled or not, before evaluation.
"""

import gzip
import os
import random
import re

DATA_DIR = os.path.dirname(os.path.abspath(__file__))
VOCABULARY_FILE = "uncased_vocab.txt.gz"
# (label, file stem): one novel per author.
NOVELS = (
    ("austen", "pride_and_prejudice"),
    ("dickens", "great_expectations"),
    ("verne", "twenty_thousand_leagues_under_the_sea"),
    ("wells", "the_war_of_the_worlds"),
)
LABEL_NAMES = tuple(label for label, _ in NOVELS)
# Chapters 5, 10, 15, ... (1-based) of every novel are the test chapters.
TEST_CHAPTER_EVERY = 5
# Words per passage of the author task (about 64 WordPieces).
PASSAGE_WORDS = 48
# The task's data seed: fixed, independent of the model's seed.
TASK_SEED = 1234


def path(name):
    """The absolute path of a bundled file."""
    return os.path.join(DATA_DIR, name)


def open_text(filename):
    """Open a UTF-8 text file for reading; `.gz` files are decompressed."""
    if os.fspath(filename).endswith(".gz"):
        return gzip.open(filename, "rt", encoding="utf-8")
    return open(filename, encoding="utf-8")


def read_documents(filename):
    """Read pre-training text: a list of documents, each a list of lines.

    The format of Google's pre-training data builder: one paragraph (or
    sentence) per line, an empty line between documents. `.gz` files are
    read decompressed.
    """
    with open_text(filename) as f:
        return documents_from_lines(f)


def documents_from_lines(lines):
    """Split lines of text into documents (lists of stripped, non-empty
    lines) at the empty lines."""
    documents, current = [], []
    for line in lines:
        line = line.strip()
        if line:
            current.append(line)
        elif current:
            documents.append(current)
            current = []
    if current:
        documents.append(current)
    return documents


def vocabulary():
    """The bundled uncased WordPiece vocabulary, as a list of tokens."""
    with open_text(path(VOCABULARY_FILE)) as f:
        return [line.rstrip("\n") for line in f]


def chapters(stem):
    """The chapters of a bundled novel (lists of paragraphs)."""
    return read_documents(path(stem + ".txt.gz"))


def is_test_chapter(index):
    """Whether the chapter with 0-based `index` is held out for testing."""
    return (index + 1) % TEST_CHAPTER_EVERY == 0


def pretraining_documents():
    """Every non-test chapter of the four novels, as documents."""
    return [
        chapter
        for _, stem in NOVELS
        for i, chapter in enumerate(chapters(stem))
        if not is_test_chapter(i)
    ]


def held_out_documents():
    """Every test chapter of the four novels, as documents (never used for
    pre-training; the quick start measures replaced token detection on
    them)."""
    return [
        chapter
        for _, stem in NOVELS
        for i, chapter in enumerate(chapters(stem))
        if is_test_chapter(i)
    ]


def passages(chapter_list, words=PASSAGE_WORDS):
    """Cut chapters into passages of exactly `words` words.

    Each chapter's paragraphs are joined into one stream of words, which is
    cut into consecutive, non-overlapping windows (a passage may span a
    paragraph break, never a chapter break); the short rest of each chapter
    is dropped.
    """
    result = []
    for chapter in chapter_list:
        stream = " ".join(chapter).split()
        for start in range(0, len(stream) - words + 1, words):
            result.append(" ".join(stream[start : start + words]))
    return result


def author_task(
    train_per_class=64,
    test_per_class=100,
    words=PASSAGE_WORDS,
    seed=TASK_SEED,
    train_seed=None,
):
    """The bundled labelled task: which author wrote a passage.

    For each author (novel), `train_per_class` passages are drawn at random
    (with `seed`) from the passages of its training chapters and
    `test_per_class` from those of its test chapters (see
    `is_test_chapter`). The classes are balanced, so chance is 25%.

    `train_seed` (default: `seed`) draws the training passages; the test
    passages depend on `seed` only, so several training draws share one
    test set.

    Returns:
        A dict with `"train"` and `"test"`, each a list of `(text, label)`
        (label = index into `"label_names"`), shuffled, and `"label_names"`.
    """
    # Each split has its own random stream, so the test passages are the
    # same whatever the training draw.
    rngs = {
        "train": random.Random(seed if train_seed is None else train_seed),
        "test": random.Random(seed),
    }
    splits = {"train": [], "test": []}
    for label, (_, stem) in enumerate(NOVELS):
        all_chapters = chapters(stem)
        by_split = {
            "train": passages(
                [c for i, c in enumerate(all_chapters) if not is_test_chapter(i)],
                words,
            ),
            "test": passages(
                [c for i, c in enumerate(all_chapters) if is_test_chapter(i)],
                words,
            ),
        }
        for split, count in (
            ("train", train_per_class),
            ("test", test_per_class),
        ):
            pool = by_split[split]
            if count > len(pool):
                raise ValueError(
                    f"The {split} chapters of {stem} give {len(pool)} "
                    f"passages of {words} words; {count} were asked for."
                )
            splits[split] += [
                (text, label) for text in rngs[split].sample(pool, count)
            ]
    for name, split in splits.items():
        rngs[name].shuffle(split)
    return {**splits, "label_names": list(LABEL_NAMES)}


# A sentence ends at . ! or ? (optionally followed by closing quotes or
# brackets) before whitespace and an opening quote or a capital letter.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]?[A-Z])")


def sentences(paragraph):
    """Split a paragraph into sentences (a plain rule; see `_SENTENCE_END`)."""
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def sentence_pairs(chapter_list, min_words=4, max_words=30):
    """Consecutive sentence pairs `(first, second)` within one paragraph,
    each sentence `min_words` to `max_words` words long."""
    pairs = []
    for chapter in chapter_list:
        for paragraph in chapter:
            parts = sentences(paragraph)
            for a, b in zip(parts, parts[1:]):
                if all(min_words <= len(s.split()) <= max_words for s in (a, b)):
                    pairs.append((a, b))
    return pairs


SENTENCE_ORDER_LABELS = ("in_order", "swapped")


def sentence_order_task(
    train_size=256, test_size=400, seed=TASK_SEED, train_seed=None
):
    """Which of two consecutive sentences came first?

    Pairs of consecutive sentences of one paragraph from the four bundled
    novels; half are shown in their order (`"in_order"`), half swapped
    (`"swapped"`). Training pairs come from training chapters, test pairs
    only from held-out chapters (`is_test_chapter`). Nothing in a sentence
    is changed: the label is about the order of whole sentences, which the
    model must read from their content (who is named or referred to, what
    answers what).

    Returns:
        A dict with `"train"` and `"test"` lists of `((text_a, text_b),
        label)` and `"label_names"`.
    """
    rngs = {
        "train": random.Random(seed if train_seed is None else train_seed),
        "test": random.Random(seed),
    }
    pools = {"train": [], "test": []}
    for _, stem in NOVELS:
        for i, chapter in enumerate(chapters(stem)):
            split = "test" if is_test_chapter(i) else "train"
            pools[split] += sentence_pairs([chapter])
    result = {"label_names": list(SENTENCE_ORDER_LABELS)}
    for split, size in (("train", train_size), ("test", test_size)):
        rng = rngs[split]
        chosen = rng.sample(pools[split], size)
        labels = [0] * (size // 2) + [1] * (size - size // 2)
        rng.shuffle(labels)
        result[split] = [
            ((a, b) if label == 0 else (b, a), label)
            for (a, b), label in zip(chosen, labels)
        ]
    return result
