"""Weight names of Google's original (TF1) ELECTRA checkpoints.

The one place that says which Keras variable is which variable in a
checkpoint written by google-research/electra's `run_pretraining.py`
(the released `electra_{small,base,large}` models). The names follow from
Google's code:

- `model/modeling.py` (`BertModel`): the embeddings live in
  `electra/embeddings/` (`word_embeddings`, `position_embeddings`,
  `token_type_embeddings`, `LayerNorm/{gamma,beta}`) for both networks
  unless the generator's embeddings are untied; each network's projection
  is `<scope>/embeddings_project/{kernel,bias}` (only when the embedding
  size differs from that network's hidden size); each layer is
  `<scope>/encoder/layer_<i>/` with `attention/self/{query,key,value}`,
  `attention/output/dense`, `attention/output/LayerNorm`,
  `intermediate/dense`, `output/dense` and `output/LayerNorm`.
- `run_pretraining.py`: the discriminator's scope is `electra`, the
  generator's `generator` (sharing `electra/embeddings`); the heads are
  `generator_predictions/{dense,LayerNorm,output_bias}` and
  `discriminator_predictions/{dense,dense_1}` (`dense_1` is the second,
  unnamed `tf.layers.dense`: the 1-unit output layer).

TF1 kernels are stored `[in, out]` like Keras', so nothing is transposed;
attention kernels and biases are stored flat (`[hidden, hidden]`,
`[hidden]`) and reshaped to Keras' `[hidden, heads, head_dim]` etc.
"""

import numpy as np

from keras_electra.conversion.weight_table import WeightEntry

DISCRIMINATOR_SCOPE = "electra"
GENERATOR_SCOPE = "generator"
GENERATOR_HEAD_SCOPE = "generator_predictions"
DISCRIMINATOR_HEAD_SCOPE = "discriminator_predictions"
KNOWN_SCOPES = (
    DISCRIMINATOR_SCOPE,
    GENERATOR_SCOPE,
    GENERATOR_HEAD_SCOPE,
    DISCRIMINATOR_HEAD_SCOPE,
)

# Checkpoint variables that are not model weights: the step counter and
# the slots of Google's `AdamWeightDecayOptimizer` (`<variable>/adam_m`,
# `<variable>/adam_v`).
GLOBAL_STEP = "global_step"
OPTIMIZER_SLOTS = ("adam_m", "adam_v")


def is_skipped(name):
    """Whether a checkpoint variable is training state, not a weight."""
    return name == GLOBAL_STEP or name.rsplit("/", 1)[-1] in OPTIMIZER_SLOTS


def word_embeddings_name(scope=DISCRIMINATOR_SCOPE):
    return f"{scope}/embeddings/word_embeddings"


def position_embeddings_name(scope=DISCRIMINATOR_SCOPE):
    return f"{scope}/embeddings/position_embeddings"


def token_type_embeddings_name(scope=DISCRIMINATOR_SCOPE):
    return f"{scope}/embeddings/token_type_embeddings"


def layer_prefix(scope, index):
    return f"{scope}/encoder/layer_{index}/"


class TF1WeightEntry(WeightEntry):
    """A `WeightEntry` whose checkpoint tensor is a TF1 variable.

    Kernels are `[in, out]` matrices (Keras attention kernels
    `[hidden, heads, head_dim]` and `[heads, head_dim, hidden]` flattened
    around `in_axes`); biases are vectors.
    """

    @property
    def checkpoint_shape(self):
        shape = self.keras_shape
        if self.key.endswith("/kernel"):
            return (
                int(np.prod(shape[: self.in_axes])),
                int(np.prod(shape[self.in_axes :])),
            )
        if self.key.endswith("bias"):
            return (int(np.prod(shape)),)
        return shape


def _dense(layer, name, in_axes=1):
    return [
        TF1WeightEntry(layer.kernel, f"{name}/kernel", in_axes=in_axes),
        TF1WeightEntry(layer.bias, f"{name}/bias"),
    ]


def _layer_norm(layer, name):
    return [
        TF1WeightEntry(layer.gamma, f"{name}/LayerNorm/gamma"),
        TF1WeightEntry(layer.beta, f"{name}/LayerNorm/beta"),
    ]


def embeddings_table(embeddings, scope=DISCRIMINATOR_SCOPE):
    """Entries for an `ElectraEmbedding` (`<scope>/embeddings/...`)."""
    return [
        TF1WeightEntry(
            embeddings.token_embedding.embeddings, word_embeddings_name(scope)
        ),
        TF1WeightEntry(
            embeddings.position_embedding.position_embeddings,
            position_embeddings_name(scope),
        ),
        TF1WeightEntry(
            embeddings.segment_embedding.embeddings,
            token_type_embeddings_name(scope),
        ),
    ] + _layer_norm(embeddings.layer_norm, f"{scope}/embeddings")


def encoder_table(backbone, scope):
    """Entries for the projection and transformer stack of a backbone."""
    table = []
    if backbone.embeddings_projection is not None:
        table += _dense(
            backbone.embeddings_projection, f"{scope}/embeddings_project"
        )
    for i, block in enumerate(backbone.transformer_layers):
        p = layer_prefix(scope, i)
        attn = block._self_attention_layer
        for name in ("query", "key", "value"):
            table += _dense(
                getattr(attn, f"{name}_dense"), f"{p}attention/self/{name}"
            )
        table += _dense(attn.output_dense, f"{p}attention/output/dense", 2)
        table += _layer_norm(
            block._self_attention_layer_norm, f"{p}attention/output"
        )
        table += _dense(
            block._feedforward_intermediate_dense, f"{p}intermediate/dense"
        )
        table += _dense(block._feedforward_output_dense, f"{p}output/dense")
        table += _layer_norm(block._feedforward_layer_norm, f"{p}output")
    return table


def backbone_table(
    backbone, scope=DISCRIMINATOR_SCOPE, embeddings_scope=DISCRIMINATOR_SCOPE
):
    """Entries for an `ElectraBackbone` stored under `scope`.

    `embeddings_scope` is where its embeddings live: `electra` for the
    discriminator and for a generator with tied embeddings (Google's
    default), `generator` for a generator with untied embeddings.
    """
    return embeddings_table(backbone.embeddings, embeddings_scope) + (
        encoder_table(backbone, scope)
    )


def generator_head_table(masked_lm):
    """Entries for `ElectraMaskedLM`'s head (`generator_predictions/`).

    The output matrix is the (tied) word embedding table, so it has no
    entry of its own.
    """
    head = masked_lm.masked_lm_head
    return (
        _dense(head._intermediate_dense, f"{GENERATOR_HEAD_SCOPE}/dense")
        + _layer_norm(head._intermediate_layer_norm, GENERATOR_HEAD_SCOPE)
        + [TF1WeightEntry(head._bias, f"{GENERATOR_HEAD_SCOPE}/output_bias")]
    )


def discriminator_head_table(discriminator):
    """Entries for `ElectraDiscriminator`'s head (`discriminator_predictions`).

    `dense_1` is the 1-unit output layer (transformers' `dense_prediction`).
    """
    head = discriminator.discriminator_head
    return _dense(head.dense, f"{DISCRIMINATOR_HEAD_SCOPE}/dense") + _dense(
        head.dense_prediction, f"{DISCRIMINATOR_HEAD_SCOPE}/dense_1"
    )
