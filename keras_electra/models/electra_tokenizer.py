import re
import unicodedata

import keras
import regex
# Private: the patterns keras-hub's WordPieceTokenizer splits words with
# (Python and TF versions) and its longest word; `tokenize_with_offsets`
# must split exactly as it does, and keras-hub exports none of them (0.32).
from keras_hub.src.tokenizers import word_piece_tokenizer as word_piece
from keras_hub.tokenizers import WordPieceTokenizer

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.presets.resolver import PresetResolvingMixin

ELECTRA_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# RE2 patterns of the characters BERT's normalizer drops (Unicode category
# C*, except tab, newline and carriage return, plus U+FFFD). RE2 has no
# \p{Cn} (unassigned), so that one is "none of the assigned categories".
_DROPPED_CHARACTERS = (
    r"[\x{0}-\x{8}\x{B}\x{C}\x{E}-\x{1F}\x{7F}-\x{9F}"
    r"\p{Cf}\p{Co}\x{FFFD}]"
)
_UNASSIGNED_CHARACTERS = r"[^\p{L}\p{M}\p{N}\p{P}\p{S}\p{Z}\p{C}]"


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraTokenizer(PresetResolvingMixin, WordPieceTokenizer):
    """ELECTRA's WordPiece tokenizer (BERT's, uncased by default).

    Google's ELECTRA checkpoints use BERT's uncased vocabulary: text is
    lower-cased and accents are stripped before WordPiece. Special tokens
    written in the text (for example `"[MASK]"`) map to their ids, so that
    fill-mask and replaced-token detection work on raw strings.

    If input is a batch of strings (rank > 0), the output is a
    `tf.RaggedTensor`; a scalar string gives a dense `[None]` tensor.

    Args:
        vocabulary: A list of strings, or the path of a text file with one
            WordPiece token per line (line number = token id).
        lowercase: bool. Lower-case and strip accents before WordPiece (BERT
            "uncased"). Defaults to `True`, as for all of Google's ELECTRA
            checkpoints.
        special_tokens_in_strings: bool. Map special tokens that appear in
            the text to their ids. Defaults to `True`.

    Example:
    ```python
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += ["the", "quick", "brown", "fox", "jumped", "."]
    tokenizer = keras_electra.ElectraTokenizer(vocabulary=vocab)
    tokenizer("The quick [MASK] fox jumped.")  # [5, 6, 4, 8, 9, 10]
    tokenizer.detokenize([5, 6, 7])  # "the quick brown"
    ```
    """

    backbone_cls = ElectraBackbone

    def __init__(
        self,
        vocabulary=None,
        lowercase=True,
        strip_accents=None,
        special_tokens_in_strings=True,
        **kwargs,
    ):
        self._add_special_token("[CLS]", "cls_token")
        self._add_special_token("[SEP]", "sep_token")
        self._add_special_token("[PAD]", "pad_token")
        self._add_special_token("[MASK]", "mask_token")
        self._add_special_token("[UNK]", "unk_token")
        # `start_token`/`end_token` for compatibility with keras-hub layers.
        self._add_special_token("[CLS]", "start_token")
        self._add_special_token("[SEP]", "end_token")
        # BERT's normalizer runs before keras-hub's splitting (see
        # `_normalize_*`); keras-hub's own lower-casing (an NFKC case fold)
        # and accent stripping stay off, because they differ from BERT's.
        self.uncased = lowercase
        self.strip_accents_bert = (
            lowercase if strip_accents is None else strip_accents
        )
        super().__init__(
            vocabulary=vocabulary,
            lowercase=False,
            strip_accents=False,
            special_tokens_in_strings=special_tokens_in_strings,
            **kwargs,
        )

    # === BERT normalization ===
    # Google's (and transformers' `BertNormalizer`) order: drop control and
    # format characters, NFD + drop combining marks (accents), then
    # lower-case each character on its own (so a final "Σ" becomes "σ").
    # Special tokens written in the text are kept as they are.

    def _special_tokens_in_text(self):
        if not self.special_tokens_in_strings:
            return []
        return sorted(set(self.special_tokens), key=len, reverse=True)

    def _normalize_python(self, text):
        specials = self._special_tokens_in_text()
        if not specials:
            return self._normalize_piece(text)
        pattern = "(" + "|".join(re.escape(t) for t in specials) + ")"
        pieces = re.split(pattern, text)
        return "".join(
            p if i % 2 else self._normalize_piece(p)
            for i, p in enumerate(pieces)
        )

    def _normalize_piece(self, text):
        text = "".join(
            c
            for c in text
            if c in "\t\n\r"
            or not (unicodedata.category(c).startswith("C") or c == "\ufffd")
        )
        if self.strip_accents_bert:
            text = unicodedata.normalize("NFD", text)
            text = "".join(
                c for c in text if unicodedata.category(c) != "Mn"
            )
        if self.uncased:
            text = "".join(c.lower() for c in text)
        return text

    def _normalize_tf(self, text):
        import tensorflow as tf
        import tensorflow_text as tf_text

        specials = self._special_tokens_in_text()
        # Control characters but tab/newline/return, format, private-use
        # and unassigned characters, and U+FFFD are dropped.
        text = tf.strings.regex_replace(text, _DROPPED_CHARACTERS, "")
        text = tf.strings.regex_replace(text, _UNASSIGNED_CHARACTERS, "")
        # Shield special tokens with private-use characters (which the
        # steps below leave alone), and restore them at the end.
        for i, token in enumerate(specials):
            text = tf.strings.regex_replace(
                text, re.escape(token), chr(0xF0000 + i)
            )
        if self.strip_accents_bert:
            text = tf_text.normalize_utf8(text, "NFD")
            text = tf.strings.regex_replace(text, r"\p{Mn}", "")
        if self.uncased:
            # ICU lower-cases a word-final capital sigma to "ς"; BERT
            # lower-cases character by character ("σ").
            text = tf.strings.regex_replace(text, "\u03a3", "\u03c3")
            text = tf.strings.lower(text, encoding="utf-8")
        for i, token in enumerate(specials):
            text = tf.strings.regex_replace(
                text, chr(0xF0000 + i), token.replace("\\", "\\\\")
            )
        return text

    def tokenize(self, inputs):
        if self._use_tf_workflow():
            import tensorflow as tf

            if not isinstance(inputs, (tf.Tensor, tf.RaggedTensor)):
                inputs = tf.convert_to_tensor(inputs)
            inputs = self._normalize_tf(inputs)
        else:
            inputs = _map_strings(inputs, self._normalize_python)
        return super().tokenize(inputs)

    # === Offsets into the original text ===

    def tokenize_with_offsets(self, inputs):
        """Token ids, and where each token comes from in the original text.

        What question answering needs to map a predicted token span back to
        the exact characters of the context. Python strings are tokenized
        in Python (character offsets); string tensors with TensorFlow ops,
        eagerly or inside a graph (`tf.data`, a served SavedModel; byte
        offsets, as TF Text's `tokenize_with_offsets`).

        Args:
            inputs: a string, a list of strings, or a string tensor
                `[batch]`.

        Returns:
            `(ids, starts, ends)`:
            - for a string, three lists; `text[starts[i]:ends[i]]` is the
              text of token `i` (`[UNK]` covers a whole unknown word). The
              ids equal `tokenizer(text)`. For a list of strings, lists of
              such lists.
            - for a string tensor `[batch]`, ragged tensors `[batch,
              (tokens)]`: int32 ids, int64 byte offsets into the UTF-8
              strings. The ids equal `tokenizer(text)` except for texts
              whose normalization merges or splits words (e.g. a dropped
              control character between two words): compare them where it
              matters (question answering's windows do).

        Example:
        ```python
        ids, starts, ends = tokenizer.tokenize_with_offsets("The cats sat.")
        # starts[1], ends[1] == 4, 8 for "cats" (or 4, 7 and 7, 8 if split).
        ```
        """
        if isinstance(inputs, bytes):
            inputs = inputs.decode("utf-8")
        if isinstance(inputs, str):
            ids, offsets = self.python_offsets().tokenize(inputs)
            return ids, [s for s, _ in offsets], [e for _, e in offsets]
        if isinstance(inputs, (list, tuple)):
            rows = [self.tokenize_with_offsets(x) for x in inputs]
            return tuple([row[k] for row in rows] for k in range(3))
        return self._tokenize_with_offsets_tf(inputs)

    def python_offsets(self):
        """The `WordPieceOffsets` of this tokenizer's vocabulary (cached)."""
        cached = getattr(self, "_python_offsets", None)
        if cached is None or cached.vocabulary is not self.vocabulary:
            cached = WordPieceOffsets(self)
            self._python_offsets = cached
        return cached

    def _tokenize_with_offsets_tf(self, text):
        """`tokenize_with_offsets` of a string tensor `[batch]`, in TF ops.

        `tokenize` normalizes a whole text, then splits it into words (on
        whitespace, punctuation, CJK characters and special tokens), then
        runs WordPiece. Normalization can change lengths (dropped
        characters, accents), so here the original text is split into
        words first, keeping each word's byte span, and each word is
        normalized on its own. A piece's span is its span inside the
        normalized word mapped onto the original word: the first piece of a
        word starts, and the last ends, exactly at the word's boundaries.
        """
        import tensorflow as tf
        import tensorflow_text as tf_text

        if self.split_on_cjk:
            split_pattern = word_piece.WHITESPACE_PUNCTUATION_AND_CJK_REGEX
            keep_pattern = word_piece.PUNCTUATION_AND_CJK_REGEX
        else:
            split_pattern = word_piece.WHITESPACE_AND_PUNCTUATION_REGEX
            keep_pattern = word_piece.PUNCTUATION_REGEX
        # keras-hub's own (private) helpers of `WordPieceTokenizer`: the
        # special tokens it splits on, and its TF Text WordPiece op.
        special_pattern = word_piece.get_special_tokens_pattern(
            self._special_tokens_for_splitting()
        )
        if special_pattern is not None:
            split_pattern = f"{special_pattern}|{split_pattern}"
            keep_pattern = f"{special_pattern}|{keep_pattern}"
        words, word_starts, word_ends = tf_text.regex_split_with_offsets(
            text,
            delim_regex_pattern=split_pattern,
            keep_delim_regex_pattern=keep_pattern,
        )
        normalized = self._normalize_tf(words.flat_values)
        self._maybe_initialized_tf()
        ids, starts, ends = self._fast_word_piece.tokenize_with_offsets(
            normalized
        )  # [total_words, (pieces)], offsets inside the normalized words
        word_of_piece = ids.value_rowids()
        word_start = tf.gather(
            tf.cast(word_starts.flat_values, tf.int64), word_of_piece
        )
        word_end = tf.gather(
            tf.cast(word_ends.flat_values, tf.int64), word_of_piece
        )
        word_length = word_end - word_start
        piece_starts = word_start + tf.minimum(
            tf.cast(starts.values, tf.int64), word_length
        )
        is_last = tf.equal(
            tf.range(tf.shape(word_of_piece, out_type=tf.int64)[0]) + 1,
            tf.gather(ids.row_limits(), word_of_piece),
        )
        piece_ends = tf.where(
            is_last,
            word_end,
            word_start
            + tf.minimum(tf.cast(ends.values, tf.int64), word_length),
        )

        def per_text(flat):
            return words.with_flat_values(ids.with_values(flat)).merge_dims(
                1, 2
            )

        return (
            per_text(tf.cast(ids.values, tf.int32)),
            per_text(piece_starts),
            per_text(piece_ends),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "lowercase": self.uncased,
                "strip_accents": self.strip_accents_bert,
            }
        )
        return config


class WordPieceOffsets:
    """`ElectraTokenizer`'s steps in Python, tracking character offsets.

    The Python side of `ElectraTokenizer.tokenize_with_offsets` (get it
    with `tokenizer.python_offsets()`):

    1. BERT normalization, one character at a time (drop control
       characters, NFD + drop accents, lower-case; special tokens such as
       "[MASK]" are kept whole), remembering the original index of each
       normalized character;
    2. keras-hub's split into words (whitespace, punctuation, CJK
       characters, special tokens);
    3. greedy longest-match-first WordPiece on each word, giving each piece
       its characters (an unknown word is one `[UNK]` covering the whole
       word).

    The ids equal those of `ElectraTokenizer` (tests check it on real text).

    Args:
        tokenizer: the `ElectraTokenizer` whose vocabulary and normalization
            to follow.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.vocabulary = tokenizer.vocabulary
        vocabulary = tokenizer.get_vocabulary()
        self.token_to_id = {token: i for i, token in enumerate(vocabulary)}
        self.suffix = tokenizer.suffix_indicator
        self.unknown = tokenizer.oov_token
        specials = tokenizer._special_tokens_in_text()
        self.special_tokens = set(specials)
        self._special_pattern = (
            re.compile("|".join(re.escape(t) for t in specials))
            if specials
            else None
        )
        split = [word_piece.PY_WHITESPACE_REGEX, word_piece.PY_PUNCTUATION_REGEX]
        keep = [word_piece.PY_PUNCTUATION_REGEX]
        if tokenizer.split_on_cjk:
            split.append(word_piece.PY_CJK_REGEX)
            keep.append(word_piece.PY_CJK_REGEX)
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
        if len(word.encode("utf-8")) > word_piece.MAX_BYTES_PER_WORD:
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


def _map_strings(inputs, fn):
    """Apply `fn` to every string of a (nested) list of strings."""
    if isinstance(inputs, bytes):
        return fn(inputs.decode("utf-8"))
    if isinstance(inputs, str):
        return fn(inputs)
    if hasattr(inputs, "to_list"):  # tf.RaggedTensor
        inputs = inputs.to_list()
    if hasattr(inputs, "numpy"):  # eager tf.Tensor
        inputs = inputs.numpy()
    if hasattr(inputs, "tolist"):  # numpy array
        inputs = inputs.tolist()
        if not isinstance(inputs, list):  # a scalar
            return _map_strings(inputs, fn)
    return [_map_strings(x, fn) for x in inputs]
