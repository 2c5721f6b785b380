"""Convert a preset of keras-hub's own `ElectraBackbone` into ours.

keras-hub ships ELECTRA presets (`electra_*_uncased_en`) for its
`keras_hub.models.ElectraBackbone`, which differs from Google's model in
two ways: it adds a pooler (dropped here, with a logged note) and uses the
tanh approximation of GELU (ours is Google's exact GELU, so outputs differ
slightly: the weights are the same, the function is Google's).
"""

import json
import logging
import os

from keras_electra.conversion import keras_hub_table
from keras_electra.conversion.weight_table import assign_weights

logger = logging.getLogger(__name__)

KERAS_HUB_BACKBONE = "keras_hub>ElectraBackbone"
CONFIG_FILE = "config.json"


def is_keras_hub_electra_preset(directory):
    """Whether `directory` is a preset of keras-hub's `ElectraBackbone`."""
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        return json.load(f).get("registered_name") == KERAS_HUB_BACKBONE


def backbone_kwargs_from_keras_hub(config):
    """Our `ElectraBackbone` arguments from keras-hub's backbone config."""
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["num_layers"],
        "num_heads": config["num_heads"],
        "hidden_dim": config["hidden_dim"],
        "embedding_dim": config["embedding_dim"],
        "intermediate_dim": config["intermediate_dim"],
        "dropout": config.get("dropout", 0.1),
        "max_sequence_length": config.get("max_sequence_length", 512),
        "num_segments": config.get("num_segments", 2),
    }


def load_keras_hub_backbone(directory):
    """Our `ElectraBackbone` (and tokenizer) from a keras-hub preset.

    Returns `(backbone, tokenizer)`; `tokenizer` is `None` when the preset
    has none.
    """
    import keras
    import keras_hub

    from keras_electra.models.electra_backbone import ElectraBackbone
    from keras_electra.models.electra_tokenizer import ElectraTokenizer

    theirs = keras_hub.models.ElectraBackbone.from_preset(directory)
    backbone = ElectraBackbone(
        **backbone_kwargs_from_keras_hub(theirs.get_config()),
        dtype=theirs.dtype_policy,
    )
    tensors = {
        v.path: keras.ops.convert_to_numpy(v) for v in theirs.weights
    }
    logger.warning(
        "keras-hub's ElectraBackbone in `%s` has a pooler (`pooled_dense`, "
        "dense + tanh on the first token) that Google's ELECTRA does not; "
        "it is not converted. Note also that keras-hub's model uses the tanh "
        "approximation of GELU and keras_electra the exact one, so outputs "
        "differ slightly from keras-hub's.",
        directory,
    )
    assign_weights(
        keras_hub_table.backbone_table(backbone),
        tensors,
        source=directory,
        ignore=keras_hub_table.POOLER_KEYS,
    )
    tokenizer = None
    if os.path.exists(os.path.join(directory, "tokenizer.json")):
        theirs_tokenizer = keras_hub.models.ElectraTokenizer.from_preset(
            directory
        )
        vocabulary = theirs_tokenizer.get_vocabulary()
        if len(vocabulary) != backbone.vocabulary_size:
            raise ValueError(
                f"The tokenizer of `{directory}` has {len(vocabulary)} tokens "
                f"but its backbone's `vocab_size` is "
                f"{backbone.vocabulary_size}: the vocabulary does not belong "
                "to this checkpoint."
            )
        tokenizer = ElectraTokenizer(
            vocabulary=vocabulary, lowercase=theirs_tokenizer.lowercase
        )
    return backbone, tokenizer


def convert_keras_hub_preset(directory, output_dir):
    """Convert keras-hub's ElectraBackbone preset into our Keras preset."""
    backbone, tokenizer = load_keras_hub_backbone(directory)
    backbone.save_to_preset(output_dir)
    if tokenizer is not None:
        tokenizer.save_to_preset(output_dir)
    return backbone
