"""Weight names of transformers' ELECTRA checkpoints.

The one place that says which Keras variable is which tensor in a
transformers (`ElectraModel`, `ElectraForPreTraining`, `ElectraForMaskedLM`,
...) checkpoint. `transformers_loader.py` reads it to load checkpoints and
`export_transformers_weights` to write them.
"""

from keras_electra.conversion.weight_table import WeightEntry

# The prefix under which task models keep their `ElectraModel`.
BASE_MODEL_PREFIX = "electra."


def backbone_table(backbone, prefix=BASE_MODEL_PREFIX):
    """Entries for an `ElectraBackbone` (transformers' `ElectraModel`)."""
    emb = backbone.embeddings
    table = [
        WeightEntry(
            emb.token_embedding.embeddings,
            f"{prefix}embeddings.word_embeddings.weight",
        ),
        WeightEntry(
            emb.position_embedding.position_embeddings,
            f"{prefix}embeddings.position_embeddings.weight",
        ),
        WeightEntry(
            emb.segment_embedding.embeddings,
            f"{prefix}embeddings.token_type_embeddings.weight",
        ),
        WeightEntry(
            emb.layer_norm.gamma, f"{prefix}embeddings.LayerNorm.weight"
        ),
        WeightEntry(emb.layer_norm.beta, f"{prefix}embeddings.LayerNorm.bias"),
    ]
    if backbone.embeddings_projection is not None:
        proj = backbone.embeddings_projection
        table += [
            WeightEntry(
                proj.kernel, f"{prefix}embeddings_project.weight", True
            ),
            WeightEntry(proj.bias, f"{prefix}embeddings_project.bias"),
        ]
    for i, block in enumerate(backbone.transformer_layers):
        table += _transformer_layer_table(block, f"{prefix}encoder.layer.{i}.")
    return table


def _transformer_layer_table(block, p):
    attn = block._self_attention_layer
    table = []
    for name in ("query", "key", "value"):
        dense = getattr(attn, f"{name}_dense")
        table += [
            WeightEntry(dense.kernel, f"{p}attention.self.{name}.weight", True),
            WeightEntry(dense.bias, f"{p}attention.self.{name}.bias"),
        ]
    table += [
        WeightEntry(
            attn.output_dense.kernel,
            f"{p}attention.output.dense.weight",
            True,
            in_axes=2,
        ),
        WeightEntry(attn.output_dense.bias, f"{p}attention.output.dense.bias"),
        WeightEntry(
            block._self_attention_layer_norm.gamma,
            f"{p}attention.output.LayerNorm.weight",
        ),
        WeightEntry(
            block._self_attention_layer_norm.beta,
            f"{p}attention.output.LayerNorm.bias",
        ),
        WeightEntry(
            block._feedforward_intermediate_dense.kernel,
            f"{p}intermediate.dense.weight",
            True,
        ),
        WeightEntry(
            block._feedforward_intermediate_dense.bias,
            f"{p}intermediate.dense.bias",
        ),
        WeightEntry(
            block._feedforward_output_dense.kernel,
            f"{p}output.dense.weight",
            True,
        ),
        WeightEntry(
            block._feedforward_output_dense.bias, f"{p}output.dense.bias"
        ),
        WeightEntry(
            block._feedforward_layer_norm.gamma, f"{p}output.LayerNorm.weight"
        ),
        WeightEntry(
            block._feedforward_layer_norm.beta, f"{p}output.LayerNorm.bias"
        ),
    ]
    return table


def generator_head_table(masked_lm):
    """Entries for `ElectraMaskedLM`'s head (`ElectraForMaskedLM`).

    `generator_lm_head.weight` is tied to the word embeddings and so is not
    in this table; the loader checks it equals them when a checkpoint
    stores it.
    """
    head = masked_lm.masked_lm_head
    return [
        WeightEntry(
            head._intermediate_dense.kernel,
            "generator_predictions.dense.weight",
            True,
        ),
        WeightEntry(
            head._intermediate_dense.bias, "generator_predictions.dense.bias"
        ),
        WeightEntry(
            head._intermediate_layer_norm.gamma,
            "generator_predictions.LayerNorm.weight",
        ),
        WeightEntry(
            head._intermediate_layer_norm.beta,
            "generator_predictions.LayerNorm.bias",
        ),
        WeightEntry(head._bias, "generator_lm_head.bias"),
    ]


def causal_lm_head_table(causal_lm):
    """Entries for `ElectraCausalLM`'s head (`ElectraForCausalLM`).

    The same tensor names as `ElectraForMaskedLM`; `generator_lm_head.weight`
    is again the (tied) word embedding table.
    """
    head = causal_lm.lm_head
    return _dense_entries(head.dense, "generator_predictions.dense") + [
        WeightEntry(
            head.layer_norm.gamma, "generator_predictions.LayerNorm.weight"
        ),
        WeightEntry(head.layer_norm.beta, "generator_predictions.LayerNorm.bias"),
        WeightEntry(head.bias, "generator_lm_head.bias"),
    ]


def discriminator_head_table(discriminator):
    """Entries for `ElectraDiscriminator`'s head (`ElectraForPreTraining`)."""
    head = discriminator.discriminator_head
    return [
        WeightEntry(
            head.dense.kernel, "discriminator_predictions.dense.weight", True
        ),
        WeightEntry(head.dense.bias, "discriminator_predictions.dense.bias"),
        WeightEntry(
            head.dense_prediction.kernel,
            "discriminator_predictions.dense_prediction.weight",
            True,
        ),
        WeightEntry(
            head.dense_prediction.bias,
            "discriminator_predictions.dense_prediction.bias",
        ),
    ]


def _dense_entries(dense, key):
    """`{key}.weight` (transposed) and `{key}.bias` of a Keras `Dense`."""
    return [
        WeightEntry(dense.kernel, f"{key}.weight", True),
        WeightEntry(dense.bias, f"{key}.bias"),
    ]


def classifier_head_table(classifier):
    """Entries for `ElectraClassifier`'s head (`ElectraForSequenceClassification`).

    Only the `"transformers"` head has transformers weights; Google's head
    (one dense layer) has no counterpart there.
    """
    head = classifier.classification_head
    if head.dense is None:
        raise ValueError(
            "This ElectraClassifier uses Google's head (dropout -> dense), "
            "which transformers' ElectraForSequenceClassification does not "
            "have. Build it with `head='transformers'` to exchange weights "
            "with transformers."
        )
    return _dense_entries(head.dense, "classifier.dense") + _dense_entries(
        head.out_proj, "classifier.out_proj"
    )


def token_classifier_head_table(token_classifier):
    """Entries for `ElectraTokenClassifier` (`ElectraForTokenClassification`)."""
    return _dense_entries(token_classifier.token_classifier_dense, "classifier")


def question_answerer_head_table(question_answerer):
    """Entries for `ElectraQuestionAnswerer` (`ElectraForQuestionAnswering`)."""
    return _dense_entries(question_answerer.span_head, "qa_outputs")


def multiple_choice_head_table(multiple_choice):
    """Entries for `ElectraMultipleChoice` (`ElectraForMultipleChoice`)."""
    head = multiple_choice.multiple_choice_head
    table = []
    if head.summary is not None:
        table += _dense_entries(head.summary, "sequence_summary.summary")
    return table + _dense_entries(head.classifier, "classifier")
