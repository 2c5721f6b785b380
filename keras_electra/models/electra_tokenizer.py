import re
import unicodedata

import keras
from keras_hub.tokenizers import WordPieceTokenizer

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.utils.preset_resolution import PresetResolvingMixin

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

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "lowercase": self.uncased,
                "strip_accents": self.strip_accents_bert,
            }
        )
        return config


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
