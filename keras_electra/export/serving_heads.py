"""What each task returns from its serving signatures.

The exporter builds every serving graph the same way: raw strings ->
in-graph WordPiece -> packed `token_ids`/`segment_ids`/`padding_mask` ->
the task's Keras model -> named outputs. Only the first and last steps
depend on the task, and each task contributes them here as a
`ServingHead`: the names of its string inputs and outputs, which of the
task's functions pack the strings, derive extra model inputs from the
token ids (the masked LM's `mask_positions`) and map the model's logits to
named outputs (probabilities, labels, tags, ...). Those functions are the
task's own, written with TensorFlow ops (`decode_outputs`,
`mask_features`, the preprocessors), which its text-level methods
(`predict_labels`, `fill_mask`, ...) run too: a head is wiring only.

This module builds TensorFlow graphs: it runs only in a process whose
Keras backend is TensorFlow (the exporter guarantees that, see
`keras_electra.export.saved_model`). Heads are registered by task class
name so that this module imports no task class.
"""

import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the WordPiece ops)

from keras_electra.utils.padding import packer_like

_HEADS = {}


def register_serving_head(task_class_name):
    """Register a `ServingHead` subclass for a task class (by its name).

    A task is served by the head registered for the first class in its
    MRO with a registered name, so subclasses of a task inherit its head.

    Example:
    ```python
    @register_serving_head("MyElectraTask")
    class MyHead(ServingHead):
        def outputs(self, model_outputs, features):
            return {"logits": model_outputs}
    ```
    """

    def decorator(head_cls):
        _HEADS[task_class_name] = head_cls
        return head_cls

    return decorator


def serving_head_class(task):
    """The `ServingHead` class registered for `task` (a task or a task
    class), or a clear error."""
    task_class = task if isinstance(task, type) else type(task)
    for cls in task_class.__mro__:
        if cls.__name__ in _HEADS:
            return _HEADS[cls.__name__]
    raise ValueError(
        f"Cannot export a {task_class.__name__}: no serving head is "
        f"registered for it. Exportable tasks: {', '.join(sorted(_HEADS))}. "
        "Register one with "
        "`keras_electra.export.serving_heads.register_serving_head`."
    )


def int32_features(x):
    """The packed model inputs of a preprocessor's output, as int32."""
    return {
        name: tf.cast(x[name], tf.int32)
        for name in ("token_ids", "segment_ids", "padding_mask")
    }


class ServingHead:
    """Maps a task's features and logits to named serving outputs.

    Subclasses set `text_inputs` (the names of the raw string inputs of the
    `serving_default` signature; two names for sentence pairs) and
    implement `outputs`. They may override `add_features` to derive extra
    model inputs from the packed features; the model is fed the features
    named like its inputs.

    Args:
        task: the Keras task (TensorFlow backend).
        options: dict of export options (`label_names`, `top_k`, ...).
    """

    text_inputs = ("text",)
    pair_inputs = ("text_a", "text_b")
    # Whether raw-string serving takes one text or a pair by default.
    pairs_default = False
    supports_pairs = True
    # Whether the outputs name labels (`label_names` export option).
    uses_label_names = False
    # Rank of the model's int inputs: `[batch, seq]`.
    feature_rank = 2

    def __init__(self, task, options):
        self.task = task
        self.options = dict(options)
        # A task whose own preprocessor does more than pack (the masked
        # LM's masks at random) names the class that packs its text.
        self.preprocessor = packer_like(
            task.preprocessor,
            getattr(task, "text_packer_cls", None),
            options.get("sequence_length"),
        )

    @classmethod
    def string_inputs(cls, pairs):
        """Names of the `serving_default` string inputs (or a clear error
        if the task does not serve `pairs`)."""
        if pairs is None:
            pairs = cls.pairs_default
        if pairs and not cls.supports_pairs:
            raise ValueError(
                "This task serves single texts; `pairs=True` is not "
                "supported."
            )
        return cls.pair_inputs if pairs else cls.text_inputs

    def string_rank(self, name):
        """Rank of the string input `name` (`[batch]` by default)."""
        return 1

    def pack(self, texts):
        """Tokenize and pack a tuple of string tensors `[batch]` with the
        task's preprocessor (`[CLS] a [SEP] (b [SEP])`, padded to the
        batch's bucket as `predict` pads). Returns int32 features."""
        x = self.preprocessor(x=texts if len(texts) > 1 else texts[0])
        return int32_features(x)

    def add_features(self, features):
        """Derive extra features (model inputs or helpers for `outputs`)
        from the packed int32 `token_ids`, `segment_ids`, `padding_mask`."""
        return dict(features)

    def outputs(self, model_outputs, features):
        """Named output tensors (batch-major) from the model's outputs."""
        raise NotImplementedError


@register_serving_head("ElectraDiscriminator")
class DiscriminatorServingHead(ServingHead):
    """Replaced-token detection: per-token probabilities that a token was
    replaced, the tokens themselves, and the 0.5-threshold decision
    (`ElectraDiscriminator.decode_outputs`)."""

    def outputs(self, logits, features):
        return self.task.decode_outputs(logits, features)


@register_serving_head("ElectraMaskedLM")
class MaskedLMServingHead(ServingHead):
    """Fill-mask: the top-k predictions at every `[MASK]` token.

    `[MASK]` positions are found in the packed token ids
    (`ElectraMaskedLM.mask_features`); outputs `[batch, masks, ...]`
    (`ElectraMaskedLM.decode_outputs` with the `top_k` option).
    """

    def add_features(self, features):
        return self.task.mask_features(features)

    def outputs(self, logits, features):
        top_k = self.options.get("top_k") or 5
        return self.task.decode_outputs(logits, features, top_k=top_k)


@register_serving_head("ElectraClassifier")
class ClassifierServingHead(ServingHead):
    """Sentence (pair) classification: class probabilities and the label
    (`ElectraClassifier.decode_outputs`, with the `label_names` option).

    Regression (`num_classes=1`) returns the predicted `score` only. A
    classifier built with `activation="softmax"` outputs probabilities
    already; any other activation's outputs are returned as `outputs`.
    """

    uses_label_names = True

    def outputs(self, outputs, features):
        return self.task.decode_outputs(
            outputs, label_names=self.options.get("label_names")
        )


@register_serving_head("ElectraTokenClassifier")
class TokenClassifierServingHead(ServingHead):
    """Word tagging: a tag for every whitespace-separated word of the text.

    The text is split into words (`split_words`), which the task's own
    preprocessor tokenizes and aligns, as in training (`pack_words`); a
    word's tag is the prediction at its first WordPiece
    (`ElectraTokenClassifier.decode_outputs`, with the `label_names`
    option). Outputs per token (`logits`, `tag_ids`, `tags`) and per word
    (`words`, `word_tag_ids`, `word_tags`, `word_scores`), `[batch,
    max_words]`: words cut off by truncation get tag id 0, positions past
    a text's last word `""` and -1. The token-id signatures give the
    per-token outputs only.
    """

    supports_pairs = False
    uses_label_names = True

    def pack(self, texts):
        (text,) = texts
        words = self.preprocessor.split_words(text)
        packed = self.preprocessor.pack_words(words)
        return {
            **int32_features(packed),
            "words": words,
            "word_ids": packed["word_ids"],
        }

    def outputs(self, logits, features):
        return self.task.decode_outputs(
            logits, features, label_names=self.options.get("label_names")
        )


@register_serving_head("ElectraMultipleChoice")
class MultipleChoiceServingHead(ServingHead):
    """Multiple choice: which of a prompt's choices is right.

    `serving_default` takes `prompt` (`[batch]` strings) and `choices`
    (`[batch, num_choices]` strings, at least one choice per prompt); each
    `(prompt, choice)` pair is packed as the task's preprocessor does,
    `[CLS] prompt [SEP] choice [SEP]`. Outputs
    (`ElectraMultipleChoice.decode_outputs`): `logits` and
    `probabilities` (softmax over the choices) `[batch, num_choices]`,
    `label_id` (the best choice's index), `label` (its text; the index as
    a string in the token-id signatures, which have no text) and `score`
    (its probability). The token-id signatures take `[batch, num_choices,
    seq]` features.
    """

    text_inputs = ("prompt", "choices")
    pair_inputs = ("prompt", "choices")
    pairs_default = True
    feature_rank = 3

    @classmethod
    def string_inputs(cls, pairs):
        if pairs is False:
            raise ValueError(
                "Multiple choice takes (prompt, choices); `pairs=False` is "
                "not supported."
            )
        return cls.pair_inputs

    def string_rank(self, name):
        return 2 if name == "choices" else 1

    def pack(self, texts):
        prompts, choices = texts
        return {
            **int32_features(self.preprocessor(x=(prompts, choices))),
            "choices": choices,
        }

    def outputs(self, logits, features):
        return self.task.decode_outputs(logits, features)


@register_serving_head("ElectraQuestionAnswerer")
class QuestionAnswererServingHead(ServingHead):
    """Extractive question answering on one window per question.

    `serving_default` takes `question` and `context` strings, packed by the
    task's preprocessor into each example's first window
    (`ElectraQuestionAnswererPreprocessor.first_windows`: `[CLS] question
    [SEP] context [SEP]`, the question cut to `max_query_length` tokens;
    `ElectraQuestionAnswerer.answer` also slides further windows over long
    contexts). The answer, its `score`, token positions
    `start_index`/`end_index` and `null_score_diff` are
    `ElectraQuestionAnswerer.decode_outputs`' (the task's own span search,
    with the `max_answer_length` option).
    """

    text_inputs = ("question", "context")
    pair_inputs = ("question", "context")
    pairs_default = True

    @classmethod
    def string_inputs(cls, pairs):
        if pairs is False:
            raise ValueError(
                "Question answering takes (question, context) pairs; "
                "`pairs=False` is not supported."
            )
        return cls.pair_inputs

    def __init__(self, task, options):
        super().__init__(task, options)
        self.sequence_length = int(
            options.get("sequence_length") or task.preprocessor.sequence_length
        )
        self.max_answer_length = int(options.get("max_answer_length") or 30)

    def pack(self, texts):
        questions, contexts = texts
        windows = self.task.preprocessor.first_windows(
            questions, contexts, self.sequence_length
        )
        return {
            **int32_features(windows),
            "start_offsets": windows["start_offsets"],
            "end_offsets": windows["end_offsets"],
            "contexts": contexts,
        }

    def outputs(self, logits, features):
        return self.task.decode_outputs(
            logits, features, max_answer_length=self.max_answer_length
        )
