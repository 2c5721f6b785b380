"""WordPiece tokenization with character offsets into the original text.

keras-hub's `WordPieceTokenizer` returns token ids only. Question answering
needs, for every context token, the span of original characters it came
from, so that a predicted token span maps back to the exact context text.
This module re-runs `ElectraTokenizer`'s steps in Python while tracking
offsets:

1. BERT normalization, one character at a time (drop control characters,
   NFD + drop accents, lower-case; special tokens such as "[MASK]" are kept
   whole), remembering the original index of each normalized character;
2. keras-hub's split into words (whitespace, punctuation, CJK characters,
   special tokens);
3. greedy longest-match-first WordPiece on each word, giving each piece its
   characters (an unknown word is one `[UNK]` covering the whole word).

The ids equal those of `ElectraTokenizer` (tests check it on real text).
"""

import re

import regex
# Private: the constants keras-hub's WordPieceTokenizer splits words with,
# so that offsets split exactly as it does; no public alias (keras-hub 0.32).
from keras_hub.src.tokenizers.word_piece_tokenizer import MAX_BYTES_PER_WORD
from keras_hub.src.tokenizers.word_piece_tokenizer import PY_CJK_REGEX
from keras_hub.src.tokenizers.word_piece_tokenizer import PY_PUNCTUATION_REGEX
from keras_hub.src.tokenizers.word_piece_tokenizer import PY_WHITESPACE_REGEX


class WordPieceOffsetTokenizer:
    """Python WordPiece with offsets, mirroring an `ElectraTokenizer`.

    Args:
        tokenizer: the `keras_electra.ElectraTokenizer` whose vocabulary and
            normalization to follow.

    Example:
    ```python
    offsets_tokenizer = WordPieceOffsetTokenizer(tokenizer)
    ids, offsets = offsets_tokenizer.tokenize("The cats sat.")
    # offsets[1] == (4, 8) for "cats", or (4, 7) and (7, 8) if split.
    ```
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        vocabulary = tokenizer.get_vocabulary()
        self.token_to_id = {token: i for i, token in enumerate(vocabulary)}
        self.suffix = tokenizer.suffix_indicator
        self.unknown = tokenizer.oov_token
        specials = []
        if tokenizer.special_tokens_in_strings:
            specials = sorted(set(tokenizer.special_tokens), key=len,
                              reverse=True)
        self.special_tokens = set(specials)
        self._special_pattern = (
            re.compile("|".join(re.escape(t) for t in specials))
            if specials
            else None
        )
        split = [PY_WHITESPACE_REGEX, PY_PUNCTUATION_REGEX]
        keep = [PY_PUNCTUATION_REGEX]
        if tokenizer.split_on_cjk:
            split.append(PY_CJK_REGEX)
            keep.append(PY_CJK_REGEX)
        if specials:
            split.insert(0, self._special_pattern.pattern)
            keep.insert(0, self._special_pattern.pattern)
        self._split = regex.compile("|".join(split))
        self._keep = regex.compile("|".join(keep))

    def normalize(self, text):
        """Normalized text and, per normalized character, its source index."""
        chars, sources = [], []
        position = 0
        matches = (
            self._special_pattern.finditer(text) if self._special_pattern else []
        )
        for match in list(matches) + [None]:
            stop = match.start() if match else len(text)
            for i in range(position, stop):
                piece = self.tokenizer._normalize_piece(text[i])
                chars.append(piece)
                sources.extend([i] * len(piece))
            if match:
                chars.append(match.group())
                sources.extend(range(match.start(), match.end()))
                position = match.end()
        return "".join(chars), sources

    def _words(self, text):
        """(start, end) of every word of normalized `text` (keras-hub's split)."""
        words = []
        position = 0
        for match in self._split.finditer(text):
            if match.start() > position:
                words.append((position, match.start()))
            if self._keep.fullmatch(match.group()):
                words.append((match.start(), match.end()))
            position = match.end()
        if position < len(text):
            words.append((position, len(text)))
        return words

    def _word_pieces(self, word):
        """WordPiece (token, start, end within the word) of one word."""
        if word in self.special_tokens:
            return [(word, 0, len(word))]
        if len(word.encode("utf-8")) > MAX_BYTES_PER_WORD:
            return [(self.unknown, 0, len(word))]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end]
                if start > 0:
                    piece = self.suffix + piece
                if piece in self.token_to_id:
                    break
                end -= 1
            if end == start:
                return [(self.unknown, 0, len(word))]
            pieces.append((piece, start, end))
            start = end
        return pieces

    def tokenize(self, text):
        """Token ids and `(start, end)` character offsets into `text`."""
        normalized, sources = self.normalize(text)
        ids, offsets = [], []
        for word_start, word_end in self._words(normalized):
            word = normalized[word_start:word_end]
            for token, start, end in self._word_pieces(word):
                ids.append(self.token_to_id[token])
                first = sources[word_start + start]
                last = sources[word_start + end - 1]
                offsets.append((first, last + 1))
        return ids, offsets
