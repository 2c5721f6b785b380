"""Weight names of keras-hub's own `keras_hub.models.ElectraBackbone`.

The one place that says which variable of our `ElectraBackbone` is which
variable (by Keras path) of keras-hub's. Both are Keras models built from
the same keras-hub layers, so shapes agree and nothing is reshaped.
keras-hub's backbone also has a pooler (`pooled_dense`) that Google's
ELECTRA does not; it has no counterpart here (see `POOLER_KEYS`).
"""

from keras_electra.conversion.weight_table import WeightEntry

# keras-hub's pooler: dense + tanh on the first token. Not part of ELECTRA.
POOLER_KEYS = ("pooled_dense/kernel", "pooled_dense/bias")


class SameLayoutEntry(WeightEntry):
    """A `WeightEntry` whose source tensor has the Keras variable's shape."""

    @property
    def checkpoint_shape(self):
        return self.keras_shape


def _layer(layer, name, weights=("kernel", "bias")):
    return [
        SameLayoutEntry(getattr(layer, w), f"{name}/{w}") for w in weights
    ]


def backbone_table(backbone):
    """Entries for an `ElectraBackbone`, keyed by keras-hub variable paths."""
    emb = backbone.embeddings
    table = [
        SameLayoutEntry(
            emb.token_embedding.embeddings, "token_embedding/embeddings"
        ),
        SameLayoutEntry(
            emb.position_embedding.position_embeddings,
            "position_embedding/embeddings",
        ),
        SameLayoutEntry(
            emb.segment_embedding.embeddings, "segment_embedding/embeddings"
        ),
    ]
    table += _layer(emb.layer_norm, "embeddings_layer_norm", ("gamma", "beta"))
    if backbone.embeddings_projection is not None:
        table += _layer(backbone.embeddings_projection, "embeddings_projection")
    for i, block in enumerate(backbone.transformer_layers):
        p = f"transformer_layer_{i}/"
        attn = block._self_attention_layer
        dense = [
            (getattr(attn, f"{n}_dense"), f"self_attention_layer/{n}")
            for n in ("query", "key", "value")
        ] + [
            (attn.output_dense, "self_attention_layer/attention_output"),
            (
                block._feedforward_intermediate_dense,
                "feedforward_intermediate_dense",
            ),
            (block._feedforward_output_dense, "feedforward_output_dense"),
        ]
        norms = [
            (block._self_attention_layer_norm, "self_attention_layer_norm"),
            (block._feedforward_layer_norm, "feedforward_layer_norm"),
        ]
        for layer, name in dense:
            table += _layer(layer, p + name)
        for layer, name in norms:
            table += _layer(layer, p + name, ("gamma", "beta"))
    return table
