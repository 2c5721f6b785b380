"""Presets that carry LoRA adapters: the base weights and the adapters apart.

After `backbone.enable_lora(rank)`, Keras saves each adapted layer's kernel
with its adapters merged in, and nothing records that LoRA was on: a
reloaded model gives the same outputs, but as plain float weights, the
base lost and LoRA off. Here `save_to_preset` of a LoRA-enabled backbone
or task (every keras_electra class that has `from_preset`, through
`PresetResolvingMixin`) writes instead

- `model.weights.h5`: the *base* weights, unmerged (what the backbone was
  before LoRA, so any keras-hub loader reads the base model);
- `adapter.lora.h5`: the adapters and their rank, as keras-hub's own
  `backbone.save_lora_weights` writes them;
- the task's head and config as usual;

and `from_preset` of such a directory loads the base, then
`backbone.load_lora_weights` (which enables LoRA at the saved rank): the
same outputs, LoRA on, the base frozen and the adapters and head trainable,
so training can go on. `from_preset(..., load_weights=False)` leaves LoRA
off. Imports neither Keras nor keras-hub.
"""

import contextlib
import os

ADAPTER_FILE = "adapter.lora.h5"


def _lora_backbone(model):
    """`model`'s backbone (or `model`, a backbone) if LoRA is on, else
    `None`."""
    backbone = getattr(model, "backbone", model)
    if getattr(backbone, "_lora_enabled_layers", None):
        return backbone
    return None


@contextlib.contextmanager
def _base_weights(backbone):
    """While open, the adapted layers save their base kernel.

    Keras' `Dense` / `EinsumDense` merge the adapters into the kernel they
    save only while `lora_enabled` is set; the adapters are saved apart.
    """
    layers = [
        layer
        for layer in backbone._flatten_layers()
        if getattr(layer, "lora_enabled", False)
    ]
    for layer in layers:
        layer.lora_enabled = False
    try:
        yield
    finally:
        for layer in layers:
            layer.lora_enabled = True


def save_with_adapter(save, model, preset_dir, **kwargs):
    """`save(preset_dir, **kwargs)`, `model`'s adapters apart if LoRA is
    on."""
    backbone = _lora_backbone(model)
    if backbone is None:
        return save(preset_dir, **kwargs)
    with _base_weights(backbone):
        save(preset_dir, **kwargs)
    backbone.save_lora_weights(os.path.join(preset_dir, ADAPTER_FILE))


def restore_adapter(loaded, preset, load_weights=True):
    """`loaded` with the adapters of the preset directory `preset`, if it
    has any, loaded (and LoRA enabled)."""
    if not (load_weights and isinstance(preset, str)):
        return loaded
    path = os.path.join(preset, ADAPTER_FILE)
    backbone = getattr(loaded, "backbone", loaded)
    if os.path.isfile(path) and hasattr(backbone, "load_lora_weights"):
        backbone.load_lora_weights(path)
    return loaded
