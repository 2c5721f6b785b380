"""Two fine-tuning steps match transformers + torch.optim.AdamW exactly.

Same checkpoint, same batch, dropout 0, AdamW (bias-corrected, eps 1e-6,
weight decay 0.01 except LayerNorm and biases), gradient clipping at 1.0
and Google's layer-wise learning rates. On the torch side the layer-wise
rates are torch parameter groups built from transformers' parameter names,
an independent transcription of Google's depth mapping.
"""

import re

import numpy as np
from keras_hub.src.tests.test_case import TestCase

from keras_electra import ElectraClassifier
from keras_electra.conversion.transformers_loader import (
    export_transformers_weights,
)
from keras_electra.finetuning import ElectraAdamW
from keras_electra.finetuning import layerwise_lr_multipliers
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.conftest import torch_inputs

LR, DECAY, WEIGHT_DECAY = 1e-3, 0.8, 0.01


def hf_depth(name, num_layers):
    """Google's depth of a transformers parameter name."""
    if name.startswith(("electra.embeddings.", "electra.embeddings_project.")):
        return 0
    match = re.match(r"electra\.encoder\.layer\.(\d+)\.", name)
    if match:
        return int(match.group(1)) + 1
    return num_layers + 2  # the task head


class FinetuneStepParityTest(TestCase):
    def test_two_adamw_steps_match_torch(self):
        import keras
        import torch
        from transformers import ElectraForSequenceClassification

        config = tiny_hf_config()
        config.num_labels = 3
        torch.manual_seed(0)
        hf = randomize_(ElectraForSequenceClassification(config))
        directory = save_hf_checkpoint(hf, self.get_temp_dir())
        before = hf.classifier.out_proj.weight.detach().numpy().copy()
        classifier = ElectraClassifier.from_preset(directory, preprocessor=None)
        classifier.compile(
            optimizer=ElectraAdamW(
                learning_rate=LR,
                weight_decay_rate=WEIGHT_DECAY,
                epsilon=1e-6,
                bias_correction=True,
                global_clipnorm=1.0,
                lr_multipliers=layerwise_lr_multipliers(classifier, DECAY),
            ),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )

        num_layers = config.num_hidden_layers
        groups = []
        for name, parameter in hf.named_parameters():
            no_decay = "LayerNorm" in name or name.endswith("bias")
            groups.append(
                {
                    "params": [parameter],
                    "lr": LR * DECAY ** (num_layers + 2 - hf_depth(name, num_layers)),
                    "weight_decay": 0.0 if no_decay else WEIGHT_DECAY,
                }
            )
        torch_optimizer = torch.optim.AdamW(groups, eps=1e-6)
        hf.train()  # dropout is 0 in the tiny config

        batches = [padded_batch(len(TINY_VOCAB), seed=s) for s in (0, 1)]
        labels = [np.array([0, 2, 1]), np.array([1, 1, 0])]
        for batch, y in zip(batches, labels):
            keras_loss = classifier.train_on_batch(batch, y, return_dict=True)["loss"]
            torch_optimizer.zero_grad()
            out = hf(**torch_inputs(batch), labels=torch.tensor(y))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(hf.parameters(), 1.0)
            torch_optimizer.step()
            self.assertAllClose(keras_loss, out.loss.item(), atol=1e-5)

        exported = export_transformers_weights(classifier)
        state = hf.state_dict()
        diffs = {
            key: np.abs(value - state[key].numpy()).max()
            for key, value in exported.items()
        }
        print("fine-tuning step parity, max weight diff",
              max(diffs.values()))
        self.assertLess(max(diffs.values()), 1e-5, diffs)
        # The weights did move.
        moved = np.abs(exported["classifier.out_proj.weight"] - before).max()
        self.assertGreater(moved, 1e-4)
