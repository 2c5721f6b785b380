"""A PyTorch-backend workaround of `ElectraPretrainer` (nothing elsewhere).

Kept out of `electra_pretrainer.py`, which reads as the algorithm; the
pretrainer calls `register_torch_parameters(self)` at the end of its
`__init__`, a no-op on other backends.
"""

import keras
from keras_hub.models import Task


def register_torch_parameters(pretrainer):
    """On torch, let `zero_grad()` reach every weight of both networks.

    Keras' torch trainer clears gradients with `torch.nn.Module.zero_grad`,
    which walks registered submodules and parameter dicts. The model's own
    parameter dict is keyed by variable path, and the generator's and the
    discriminator's paths collide (`transformer_layer_0/...`), so it holds
    only one network's weights; and keras-hub tasks keep their parameter
    dicts unregistered with torch (set during `__init__`, when
    `Task.__setattr__` bypasses torch). Without this the generator's
    gradients would add up from step to step. Registering the layer and
    re-tracking each task's variables now, after `__init__`, fixes both.
    """
    if keras.backend.backend() != "torch":
        return
    pretrainer.replaced_token_detection_layer = (
        pretrainer.replaced_token_detection_layer
    )
    for layer in pretrainer._flatten_layers():
        if isinstance(layer, Task):
            # Private (Keras' torch layer): re-registers the variables with
            # torch; no public API does (Keras 3.15).
            layer._track_variables()
