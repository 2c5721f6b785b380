"""Readers for fine-tuning data formats (CoNLL tagging, SQuAD JSON), and a
vocabulary for small models trained from scratch."""

import collections

from keras_electra.data import open_text
from keras_electra.models.electra_tokenizer import ELECTRA_SPECIAL_TOKENS


def read_conll(path, word_column=0, tag_column=-1):
    """Sentences of a CoNLL file: a list of `(words, tags)` pairs.

    One token per line (columns separated by whitespace), an empty line
    after each sentence; `-DOCSTART-` lines are skipped. `.gz` files are
    read decompressed.
    """
    sentences, words, tags = [], [], []
    with open_text(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                if words:
                    sentences.append((words, tags))
                    words, tags = [], []
                continue
            if fields[0] == "-DOCSTART-":
                continue
            if len(fields) < 2:
                raise ValueError(
                    f"{path}:{number}: expected a word and a tag, got "
                    f"{line.strip()!r}."
                )
            words.append(fields[word_column])
            tags.append(fields[tag_column])
    if words:
        sentences.append((words, tags))
    return sentences


def vocabulary_from_words(words, min_count=1):
    """A cased WordPiece vocabulary for training a small model from scratch.

    ELECTRA's special tokens, every character (as a word start and as a
    `##` continuation, so no word is unknown), then every word seen at
    least `min_count` times.
    """
    counts = collections.Counter(words)
    chars = sorted({c for word in counts for c in word})
    vocabulary = list(ELECTRA_SPECIAL_TOKENS)
    vocabulary += chars + ["##" + c for c in chars]
    known = set(vocabulary)
    vocabulary += sorted(
        w for w, c in counts.items()
        if c >= min_count and len(w) > 1 and w not in known
    )
    return vocabulary
