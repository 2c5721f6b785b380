import keras
import numpy as np
from keras_hub.layers import MultiSegmentPacker
from keras_hub.models import Preprocessor
# Private: keras-hub's preprocessing decorator (tf conversion on the CPU);
# no public alias (keras-hub 0.32).
from keras_hub.src.utils.tensor_utils import preprocessing_function
import tensorflow as tf

from keras_electra.models.electra_backbone import ElectraBackbone
from keras_electra.models.electra_tokenizer import ElectraTokenizer
from keras_electra.models.tf_graph import call_in_graph
from keras_electra.models.sequence_length import DynamicPaddingMixin
from keras_electra.utils.padding import bucketed_length
from keras_electra.utils.padding import cut_to_length
from keras_electra.presets.resolver import PresetResolvingMixin
from keras_electra.utils.input_validation import TextInputMixin
from keras_electra.utils.input_validation import check_text_input

# Label value of sub-tokens that carry no label (not the first of a word,
# special tokens, padding). They get sample weight 0.
IGNORED_LABEL = -1


@keras.saving.register_keras_serializable(package="keras_electra")
class ElectraTokenClassifierPreprocessor(
    TextInputMixin,
    DynamicPaddingMixin,
    PresetResolvingMixin,
    Preprocessor,
):
    """Tokenizes pre-split words and aligns word labels to sub-tokens.

    Input sentences are lists of words (CoNLL style). Each word is split into
    WordPieces; its label goes to its first WordPiece, and the other pieces,
    `[CLS]`, `[SEP]` and padding get sample weight 0 (as Google's tagging
    tasks and transformers' examples do). Sequences are packed as
    `[CLS] pieces [SEP]` and truncated to `sequence_length` (words whose
    first piece is cut off are lost; `word_ids` tells which survived).

    Returns `x` (`"token_ids"`, `"segment_ids"`, `"padding_mask"`), and with
    labels `(x, y, sample_weight)` where `y` is `[batch, sequence_length]`
    label ids and `sample_weight` is 1 exactly at labelled pieces (times the
    per-sentence `sample_weight`, if given).

    Args:
        tokenizer: A `keras_electra.ElectraTokenizer`.
        sequence_length: int. The packed length.

    Call arguments:
        x: words, a `tf.RaggedTensor` `[batch, (words)]` of strings or a
            list of lists of strings.
        y: word labels (ints), with the same ragged shape as `x`.
        sample_weight: optional per-sentence weights `[batch]`.

    Example:
    ```python
    preprocessor = ElectraTokenClassifierPreprocessor(tokenizer, 16)
    x, y, w = preprocessor([["The", "cats", "sat"]], [[0, 1, 0]])
    preprocessor.word_ids([["The", "cats", "sat"]])  # [[-1, 0, 1, -1, 2, -1, ...]]
    ```
    """

    backbone_cls = ElectraBackbone
    # Labels and weights run along the sequence: cut with the inputs.
    per_token_targets = True
    tokenizer_cls = ElectraTokenizer

    def __init__(self, tokenizer, sequence_length=512, **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.sequence_length = sequence_length
        self.packer = None
        self._graph_functions = {}

    def build(self, input_shape):
        super().build(input_shape)
        self.packer = MultiSegmentPacker(
            start_value=self.tokenizer.start_token_id,
            end_value=self.tokenizer.end_token_id,
            pad_value=self.tokenizer.pad_token_id,
            sequence_length=self.sequence_length,
        )
        # Packs per-piece integers (labels, word indices) the same way.
        self.value_packer = MultiSegmentPacker(
            start_value=IGNORED_LABEL,
            end_value=IGNORED_LABEL,
            pad_value=IGNORED_LABEL,
            sequence_length=self.sequence_length,
        )

    @staticmethod
    def _as_ragged(values, dtype=None):
        if isinstance(values, tf.RaggedTensor):
            return values
        if isinstance(values, tf.Tensor):
            return tf.RaggedTensor.from_tensor(values)
        if isinstance(values, (list, tuple)):
            return tf.ragged.constant(values, dtype=dtype)
        return tf.RaggedTensor.from_tensor(tf.convert_to_tensor(values, dtype))

    def _align(self, words, labels=None):
        """Token ids, per-piece word indices and labels, before packing."""
        if words.shape.rank != 2:
            raise ValueError(
                "`ElectraTokenClassifierPreprocessor` takes a batch of "
                "pre-split sentences, shape `[batch, (words)]`. Received "
                f"rank {words.shape.rank}."
            )
        pieces = self.tokenizer(words)  # [batch, (words), (pieces)]
        per_word = pieces.values  # [total_words, (pieces)]
        piece_word = per_word.value_rowids()  # flat word index per piece
        first_of_word = tf.equal(
            tf.range(tf.shape(piece_word, out_type="int64")[0]),
            tf.gather(per_word.row_starts(), piece_word),
        )
        word_in_sentence = tf.range(
            tf.shape(pieces.value_rowids(), out_type="int64")[0]
        ) - tf.gather(pieces.row_starts(), pieces.value_rowids())
        merged = pieces.merge_dims(1, 2)  # [batch, (pieces)]
        word_ids = tf.where(
            first_of_word, tf.gather(word_in_sentence, piece_word), -1
        )
        word_ids = merged.with_flat_values(tf.cast(word_ids, "int32"))
        piece_labels = None
        if labels is not None:
            with tf.control_dependencies(
                [
                    tf.debugging.assert_equal(
                        tf.cast(labels.row_lengths(), "int64"),
                        tf.cast(words.row_lengths(), "int64"),
                        message=(
                            "Every word needs exactly one label: the labels "
                            "`y` must have the same ragged shape as the "
                            "words `x`."
                        ),
                    )
                ]
            ):
                flat = tf.gather(tf.cast(labels.values, "int32"), piece_word)
            piece_labels = merged.with_flat_values(
                tf.where(first_of_word, flat, IGNORED_LABEL)
            )
        return merged, word_ids, piece_labels

    def _pack(self, words, labels=None, sample_weight=None):
        pieces, _, piece_labels = self._align(words, labels)
        x = self._pack_pieces(pieces)
        if piece_labels is None:
            return x
        labels, _ = self.value_packer(piece_labels)
        weights = tf.cast(labels != IGNORED_LABEL, "float32")
        if sample_weight is not None:
            weights *= tf.cast(sample_weight, "float32")[:, None]
        return x, tf.maximum(labels, 0), weights

    def _pack_pieces(self, pieces):
        token_ids, segment_ids = self.packer(pieces)
        return {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": token_ids != self.tokenizer.pad_token_id,
        }

    def _pack_words(self, words):
        pieces, word_ids, _ = self._align(words)
        packed = {
            **self._pack_pieces(pieces),
            "word_ids": self.value_packer(word_ids)[0],
        }
        if self.padding == "max_length":
            return packed
        # The length `call` pads the same words to.
        length = bucketed_length(
            packed["padding_mask"], self.pad_to_multiple_of, self.sequence_length
        )
        return {key: cut_to_length(value, length) for key, value in packed.items()}

    @preprocessing_function
    def call(self, x, y=None, sample_weight=None):
        words = self._as_ragged(x, "string")
        cache = self._graph_functions
        if y is None:
            return call_in_graph(cache, "pack", self._pack, words)
        labels = self._as_ragged(y, "int32")
        if tf.executing_eagerly():
            self._check_label_counts(words, labels)
        if sample_weight is None:
            x, y, sample_weight = call_in_graph(
                cache, "pack_labels", self._pack, words, labels
            )
        else:
            x, y, sample_weight = call_in_graph(
                cache, "pack_weighted", self._pack, words, labels,
                sample_weight,
            )
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)

    @staticmethod
    def _check_label_counts(words, labels):
        num_words = words.row_lengths().numpy()
        num_labels = labels.row_lengths().numpy()
        if len(num_words) != len(num_labels):
            raise ValueError(
                f"Got {len(num_words)} sentences but {len(num_labels)} label "
                "sequences."
            )
        bad = np.flatnonzero(num_words != num_labels)
        if len(bad):
            i = int(bad[0])
            raise ValueError(
                "Every word needs exactly one label: sentence "
                f"{i} has {num_words[i]} words but {num_labels[i]} labels."
            )

    @staticmethod
    def split_words(text):
        """The words of raw strings `[batch]`: split on whitespace (how the
        serving SavedModel reads a text to tag), `[batch, (words)]`."""
        return tf.strings.split(text)

    @preprocessing_function
    def pack_words(self, x):
        """`self(x)` and `word_ids(x)` from one tokenization.

        Returns the packed inputs of the sentences `x` (`"token_ids"`,
        `"segment_ids"`, `"padding_mask"`) with `"word_ids"`, all padded
        alike.
        """
        check_text_input(x, self)
        if not self.built:
            self.build(None)
        words = self._as_ragged(x, "string")
        return call_in_graph(
            self._graph_functions, "pack_words", self._pack_words, words
        )

    def word_ids(self, x):
        """For each packed position, the index of the word it starts, or -1.

        Use it to map per-token predictions back to words: word `j` of
        sentence `i` is predicted at the position where `word_ids[i] == j`
        (`ElectraTokenClassifier.decode_outputs` does).
        """
        return self.pack_words(x)["word_ids"]

    def get_config(self):
        config = super().get_config()
        config.update({"sequence_length": self.sequence_length})
        return config

    @property
    def sequence_length(self):
        """The padded length of model input sequences."""
        return self._sequence_length

    @sequence_length.setter
    def sequence_length(self, value):
        self._sequence_length = value
        if getattr(self, "packer", None) is not None:
            self.packer.sequence_length = value
            self.value_packer.sequence_length = value
