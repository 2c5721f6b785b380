import keras
import numpy as np
from keras import ops
from keras_hub.src.tests.test_case import TestCase

from keras_electra import ElectraMultipleChoice
from keras_electra import ElectraMultipleChoicePreprocessor
from keras_electra import ElectraTokenizer
from keras_electra.conversion.transformers_loader import (
    export_transformers_weights,
)
from keras_electra.optimizers.optimization import create_optimizer
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.conftest import torch_inputs
from tests.tiny_models import tiny_backbone

PROMPTS = ["the cat sat on the", "the quick brown fox"]
CHOICES = [["mat .", "dog", "fox jumped"], ["jumped", "sat on", "was lazy"]]


class ElectraMultipleChoiceTest(TestCase):
    def test_transformers_parity(self):
        import torch
        from transformers import ElectraForMultipleChoice

        torch.manual_seed(0)
        hf = randomize_(ElectraForMultipleChoice(tiny_hf_config())).eval()
        directory = save_hf_checkpoint(hf, self.get_temp_dir())
        model = ElectraMultipleChoice.from_preset(directory)
        head = model.multiple_choice_head
        self.assertEqual(head.summary_activation, "gelu")
        self.assertEqual(head.summary_last_dropout, 0.1)
        # [batch=2, choices=3, seq=12] from three padded rows.
        flat = padded_batch(len(TINY_VOCAB), batch=3)
        batch = {
            k: np.stack([v, v[::-1]]) for k, v in flat.items()
        }
        with torch.no_grad():
            expected = hf(**torch_inputs(batch)).logits.numpy()
        logits = ops.convert_to_numpy(model(batch, training=False))
        self.assertEqual(logits.shape, (2, 3))
        print("ElectraForMultipleChoice max diff",
              np.abs(logits - expected).max())
        self.assertAllClose(logits, expected, atol=1e-5, rtol=0)
        exported = export_transformers_weights(model)
        self.assertAllClose(
            exported["sequence_summary.summary.weight"],
            hf.sequence_summary.summary.weight.detach().numpy(),
        )

    def test_preprocessor_and_fit(self):
        ids = {t: i for i, t in enumerate(TINY_VOCAB)}
        tokenizer = ElectraTokenizer(vocabulary=TINY_VOCAB)
        preprocessor = ElectraMultipleChoicePreprocessor(tokenizer, 10)
        x = preprocessor(x=(PROMPTS, CHOICES))
        token_ids = ops.convert_to_numpy(x["token_ids"])
        segment_ids = ops.convert_to_numpy(x["segment_ids"])
        self.assertEqual(token_ids.shape, (2, 3, 10))
        tokens = ["[CLS]", "the", "cat", "sat", "on", "the", "[SEP]", "mat",
                  ".", "[SEP]"]
        self.assertEqual(token_ids[0, 0].tolist(), [ids[t] for t in tokens])
        self.assertEqual(segment_ids[0, 0].tolist(), [0] * 7 + [1] * 3)
        # Round-robin truncation to 8: 5 + 2 tokens -> 3 + 2.
        short = ElectraMultipleChoicePreprocessor(tokenizer, 8)
        short_ids = ops.convert_to_numpy(short(x=(PROMPTS, CHOICES))["token_ids"])
        tokens = ["[CLS]", "the", "cat", "sat", "[SEP]", "fox", "jumped",
                  "[SEP]"]
        self.assertEqual(short_ids[0, 2].tolist(), [ids[t] for t in tokens])

        keras.utils.set_random_seed(0)
        backbone = tiny_backbone(
            num_layers=1, embedding_dim=None, max_sequence_length=16
        )
        # No dropout: the training loss and the predictions below see the
        # same network.
        model = ElectraMultipleChoice(
            backbone, preprocessor=preprocessor, summary_last_dropout=0.0
        )
        # Learnable (each choice is scored on its own, so the model must
        # tell the right choices' tokens from the others'): the loss must
        # fall from about ln 3 by 10x and both questions come out right.
        labels = [2, 0]
        model.compile(optimizer=create_optimizer(model, learning_rate=1e-2))
        history = model.fit(
            (PROMPTS, CHOICES), labels, epochs=20, verbose=0
        ).history
        print("multiple choice loss", history["loss"][0], "->",
              history["loss"][-1])
        self.assertLess(history["loss"][-1], 0.1 * history["loss"][0])
        logits = ops.convert_to_numpy(
            model.predict((PROMPTS, CHOICES), verbose=0)
        )
        self.assertEqual(logits.shape, (2, 3))
        self.assertEqual(logits.argmax(-1).tolist(), labels)
