"""Moved: WordPiece offsets are `ElectraTokenizer.tokenize_with_offsets`.

One implementation, on the tokenizer (`keras_electra/models/
electra_tokenizer.py`), for Python strings and string tensors alike. This
old import path keeps the old class name for its Python side
(`WordPieceOffsetTokenizer(tokenizer).tokenize(text)` returns `(ids,
offsets)`).
"""

from keras_electra.models.electra_tokenizer import WordPieceOffsets

WordPieceOffsetTokenizer = WordPieceOffsets
