import keras
from keras_hub.src.tokenizers.word_piece_tokenizer import WordPieceTokenizer

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.utils.preset_resolution import PresetResolvingMixin

ELECTRA_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


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
        kwargs.setdefault("strip_accents", lowercase)
        super().__init__(
            vocabulary=vocabulary,
            lowercase=lowercase,
            special_tokens_in_strings=special_tokens_in_strings,
            **kwargs,
        )
