"""Converters of ELECTRA checkpoints into keras_electra (Keras) presets.

- `transformers_loader` (+ `transformers_table`): transformers
  checkpoints, both ways;
- `google_tf1_loader` (+ `google_tf1_table`): Google's original TF1
  release, one network or the generator + discriminator pair;
- `keras_hub_loader` (+ `keras_hub_table`): presets of keras-hub's own
  `ElectraBackbone`;
- `weight_table`: the tensor-by-tensor mapping they share;
- `command`: `keras-electra convert` (`tools/convert_checkpoint.py`).

Importing this package registers the transformers and keras-hub formats
with the preset resolver (`source_formats`), so that `from_preset` converts
them on the fly; it imports no Keras.
"""

from keras_electra.conversion import source_formats  # noqa: F401 (registers)
