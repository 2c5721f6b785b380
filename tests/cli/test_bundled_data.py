"""The bundled quick-start data: an honest split, as documented."""

import collections
import gzip
import hashlib
import os
import re

from keras_electra import data

PROVENANCE = os.path.join(os.path.dirname(data.__file__), "PROVENANCE.md")


def test_bundled_files_are_the_documented_sources():
    """Each bundled file unpacks to the source whose md5 PROVENANCE.md gives."""
    with open(PROVENANCE, encoding="utf-8") as f:
        documented = dict(
            re.findall(r"^\| `([^`]+\.gz)` \| `[^`]+` \(md5 `([0-9a-f]{32})`\)",
                       f.read(), flags=re.MULTILINE)
        )
    names = [stem + ".txt.gz" for _, stem in data.NOVELS]
    names.append(data.VOCABULARY_FILE)
    assert sorted(documented) == sorted(names)
    for name in names:
        with gzip.open(data.path(name), "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == documented[name], name
    vocabulary = data.vocabulary()
    assert len(vocabulary) == 30522
    assert vocabulary[100:104] == ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def test_author_task_is_balanced_deterministic_and_held_out():
    task = data.author_task(train_per_class=20, test_per_class=30)
    assert task == data.author_task(train_per_class=20, test_per_class=30)
    assert task["label_names"] == ["austen", "dickens", "verne", "wells"]
    for split, count in (("train", 20), ("test", 30)):
        per_label = collections.Counter(label for _, label in task[split])
        assert per_label == {label: count for label in range(4)}
        for text, _ in task[split]:
            assert len(text.split()) == data.PASSAGE_WORDS

    # Each passage lies inside one chapter of its own author's novel: test
    # passages in test chapters, training passages in the others.
    pretraining = "\n".join(
        " ".join(" ".join(doc).split()) for doc in data.pretraining_documents()
    )
    for split, wanted in (("train", False), ("test", True)):
        for text, label in task[split]:
            chapters = data.chapters(data.NOVELS[label][1])
            homes = [
                i for i, chapter in enumerate(chapters)
                if text in " ".join(" ".join(chapter).split())
            ]
            assert homes, text
            assert all(data.is_test_chapter(i) == wanted for i in homes)
            # No test passage is pre-trained on; training passages are.
            assert (text in pretraining) == (not wanted)


def test_read_documents_splits_on_empty_lines(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\nc\n\nd\n\n\ne f\n", encoding="utf-8")
    assert data.read_documents(str(path)) == [["a b", "c"], ["d"], ["e f"]]
    assert data.passages([["a b c", "d e"], ["f g h"]], words=2) == [
        "a b", "c d", "f g",
    ]
