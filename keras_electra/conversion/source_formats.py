"""The checkpoint formats `from_preset` converts, registered with the
preset resolver (`keras_electra.presets.resolver`).

`conversion` builds models, so it sits above `presets`: the resolver
imports no converter, and learns the formats from this registration, which
`keras_electra.conversion` runs when imported (`import keras_electra`
imports it). Importing this module imports neither Keras nor a converter;
each function below imports its converter when called (so that a test
that replaces a converter function is seen too).
"""

from keras_electra.presets import resolver

TRANSFORMERS = resolver.TRANSFORMERS
KERAS_HUB = "keras_hub"


def convert_transformers(source_dir, output_dir):
    """A transformers checkpoint directory -> a Keras preset."""
    from keras_electra.conversion import transformers_loader

    return transformers_loader.convert_transformers_checkpoint(
        source_dir, output_dir
    )


def transformers_backbone_config(source_dir):
    """`ElectraBackbone` arguments of a transformers checkpoint."""
    from keras_electra.conversion import transformers_loader

    config = transformers_loader.load_transformers_config(source_dir)
    return transformers_loader.backbone_kwargs_from_config(config)


def is_keras_hub_preset(directory):
    """Whether `directory` is a preset of keras-hub's `ElectraBackbone`."""
    from keras_electra.conversion import keras_hub_loader

    return keras_hub_loader.is_keras_hub_electra_preset(directory)


def convert_keras_hub(source_dir, output_dir):
    """A keras-hub `ElectraBackbone` preset -> ours."""
    from keras_electra.conversion import keras_hub_loader

    return keras_hub_loader.convert_keras_hub_preset(source_dir, output_dir)


def register():
    """Register the formats (again: it replaces, so it is idempotent)."""
    resolver.register_source_format(
        TRANSFORMERS,
        detect=resolver.is_transformers_dir,
        convert=convert_transformers,
        backbone_config=transformers_backbone_config,
    )
    resolver.register_source_format(
        KERAS_HUB,
        detect=is_keras_hub_preset,
        convert=convert_keras_hub,
        cache_prefix="keras_hub--",
    )


register()
