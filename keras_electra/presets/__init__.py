"""Preset names (Google's released ELECTRA checkpoints and the bundled
pre-trained tiny model), and how presets resolve.

- `electra_presets`: the registry (data): the six built-in names, their
  `hf://google/...` sources and architectures, keras-hub's aliases of them
  (`KERAS_HUB_ALIASES`), Google's fine-tuning defaults per model size
  (`FINETUNING_DEFAULTS`), and the presets that ship inside the package
  (`BUNDLED_PRESETS`, files in `bundled/<name>/`);
- `resolver`: what `from_preset(preset)` of every keras_electra class does
  first: a built-in name, an `hf://` handle or a local transformers or
  keras-hub directory becomes a Keras preset directory, converted once
  into the cache;
- `cache`: where the converted presets live (`$KERAS_ELECTRA_CACHE`) and
  how they are written (atomically, one conversion at a time);
- `validation`: checks of a preset's files, so a broken one fails clearly.

The first `from_preset(name)` downloads the source once, checks it against
the registered architecture, converts it and keeps the Keras preset in the
cache (`$KERAS_ELECTRA_CACHE/presets/<name>`); later calls need no network.
Without network, `keras-electra convert --preset-name <name> SOURCE_DIR`
installs a preset into that same place from local files.

The names are also registered with keras-hub (by
`keras_electra/models/electra_backbone.py`), so that
`keras_electra.ElectraBackbone.presets` (and every task's `presets`) lists
them. Importing this package imports neither Keras nor keras-hub, and
nothing else of keras_electra but `utils`.
"""

from keras_electra.presets.cache import preset_path
from keras_electra.presets.electra_presets import BUNDLED_PRESETS
from keras_electra.presets.electra_presets import DISCRIMINATOR
from keras_electra.presets.electra_presets import ELECTRA_PRESETS
from keras_electra.presets.electra_presets import FINETUNING_DEFAULTS
from keras_electra.presets.electra_presets import GENERATOR
from keras_electra.presets.electra_presets import GOOGLE_RELEASE
from keras_electra.presets.electra_presets import HF_FILES
from keras_electra.presets.electra_presets import HF_URL
from keras_electra.presets.electra_presets import KERAS_HUB_ALIASES
from keras_electra.presets.electra_presets import LICENSE
from keras_electra.presets.electra_presets import PAIR_MEMBERS
from keras_electra.presets.electra_presets import SIZES
from keras_electra.presets.electra_presets import TASKS
from keras_electra.presets.electra_presets import canonical_name
from keras_electra.presets.electra_presets import finetuning_defaults
from keras_electra.presets.electra_presets import builtin_names
from keras_electra.presets.electra_presets import is_builtin_name
from keras_electra.presets.electra_presets import is_bundled_name
from keras_electra.presets.electra_presets import parameter_count
from keras_electra.presets.resolver import bundled_preset_dir
from keras_electra.presets.resolver import check_architecture
from keras_electra.presets.resolver import offline_instructions
from keras_electra.presets.resolver import resolve_builtin_preset
from keras_electra.presets.resolver import resolve_preset
