import keras
import numpy as np
import pytest
from keras import ops
from keras_hub.src.tests.test_case import TestCase

from keras_electra import ElectraQuestionAnswerer
from keras_electra import ElectraQuestionAnswererPreprocessor
from keras_electra import ElectraTokenizer
from keras_electra.conversion.transformers_loader import (
    export_transformers_weights,
)
from tests.conftest import TINY_VOCAB
from tests.conftest import padded_batch
from tests.conftest import randomize_
from tests.conftest import save_hf_checkpoint
from tests.conftest import tiny_hf_config
from tests.conftest import torch_inputs
from tests.span_head import solve_span_head
from tests.tiny_models import tiny_backbone

QUESTIONS = ["what sat on the mat ?", "what jumped ?"]
CONTEXTS = [
    "the lazy cat sat on the mat . the dog was quick",
    "the quick brown fox jumped over the lazy dog .",
]
ANSWERS = [
    {"text": "lazy cat", "answer_start": 4},
    {"text": "quick brown fox", "answer_start": 4},
]


class ElectraQuestionAnswererTest(TestCase):
    def test_transformers_parity(self):
        import torch
        from transformers import ElectraForQuestionAnswering

        torch.manual_seed(0)
        hf = randomize_(ElectraForQuestionAnswering(tiny_hf_config())).eval()
        directory = save_hf_checkpoint(hf, self.get_temp_dir())
        qa = ElectraQuestionAnswerer.from_preset(directory)
        batch = padded_batch(len(TINY_VOCAB))
        with torch.no_grad():
            out = hf(**torch_inputs(batch))
        logits = ops.convert_to_numpy(qa(batch, training=False))
        self.assertEqual(logits.shape, (3, 2, 12))
        diff = max(
            np.abs(logits[:, 0] - out.start_logits.numpy()).max(),
            np.abs(logits[:, 1] - out.end_logits.numpy()).max(),
        )
        print("ElectraForQuestionAnswering max diff", diff)
        self.assertLess(diff, 1e-5)
        exported = export_transformers_weights(qa)
        self.assertAllClose(
            exported["qa_outputs.bias"], hf.qa_outputs.bias.detach().numpy()
        )
        # End to end on raw text: answers are exact substrings of contexts.
        qa.preprocessor.sequence_length = 24
        results = qa.answer(QUESTIONS, CONTEXTS, max_answer_length=4)
        for result, context in zip(results, CONTEXTS):
            self.assertIn(result["text"], context)
            self.assertGreater(len(result["text"]), 0)
            self.assertLessEqual(len(result["n_best"]), 20)

    def test_loss_is_mean_of_start_and_end_cross_entropy(self):
        import torch

        keras.utils.set_random_seed(0)
        backbone = tiny_backbone(
            num_layers=1, embedding_dim=None, dropout=0.1
        )
        tokenizer = ElectraTokenizer(vocabulary=TINY_VOCAB)
        preprocessor = ElectraQuestionAnswererPreprocessor(
            tokenizer, sequence_length=24, doc_stride=8
        )
        qa = ElectraQuestionAnswerer(backbone, preprocessor=preprocessor)
        features = preprocessor.featurize(QUESTIONS, CONTEXTS, ANSWERS)
        # Each labelled span is exactly the answer text.
        for f, (s, e) in enumerate(features.y):
            context = CONTEXTS[features.example_index[f]]
            offsets = features.offsets[f]
            answer = ANSWERS[features.example_index[f]]["text"]
            self.assertEqual(context[offsets[s, 0] : offsets[e, 1]], answer)
        logits = ops.convert_to_numpy(qa(features.x, training=False))
        loss = qa.evaluate(features.x, features.y, verbose=0)
        t = torch.tensor(logits)
        labels = torch.tensor(features.y, dtype=torch.long)
        ce = torch.nn.functional.cross_entropy
        expected = (ce(t[:, 0], labels[:, 0]) + ce(t[:, 1], labels[:, 1])) / 2
        self.assertAllClose(loss, expected.item(), atol=1e-5)
        # `fit` featurizes raw (questions, contexts) + answers itself.
        history = qa.fit((QUESTIONS, CONTEXTS), ANSWERS, epochs=1, verbose=0)
        self.assertIn("loss", history.history)
        with pytest.raises(ValueError, match="cannot run inside `tf.data`"):
            import tensorflow as tf

            tf.function(
                lambda q, c: preprocessor(x=(q, c))
            )(tf.constant(QUESTIONS), tf.constant(CONTEXTS))

    def test_heads_load_from_a_discriminator_checkpoint(self):
        import torch
        from transformers import ElectraForPreTraining

        from keras_electra import ElectraMultipleChoice
        from keras_electra import ElectraTokenClassifier

        torch.manual_seed(0)
        hf = randomize_(ElectraForPreTraining(tiny_hf_config())).eval()
        directory = save_hf_checkpoint(hf, self.get_temp_dir())
        table = hf.electra.embeddings.word_embeddings.weight.detach().numpy()
        with pytest.warns(UserWarning, match="exceeds the backbone"):
            tasks = [
                ElectraTokenClassifier.from_preset(directory, num_classes=3),
                ElectraQuestionAnswerer.from_preset(directory),
                ElectraMultipleChoice.from_preset(directory),
            ]
        for task in tasks:
            # The default 512-token preprocessor is cut to the 64 positions.
            self.assertEqual(task.preprocessor.sequence_length, 64)
            self.assertAllClose(
                ops.convert_to_numpy(task.backbone.token_embedding.embeddings),
                table,
            )
        # End to end with a known answer: the span head is solved to give
        # start logit 8 at "cat", end logit 8 at "sat" and 0 elsewhere
        # (`tests/span_head.py`), so the best span is "cat sat", whatever
        # the backbone's weights.
        qa = tasks[1]
        question, context = "what sat ?", "the cat sat on the mat ."
        features = qa.preprocessor.featurize([question], [context])
        starts = features.offsets[0][:, 0]
        real = features.x["padding_mask"][0].astype(bool)
        (cat,) = np.flatnonzero(real & (starts == context.index("cat")))
        (sat,) = np.flatnonzero(real & (starts == context.index("sat")))
        solve_span_head(qa, features.x, 0, cat, sat)
        result = qa.answer(question, context, max_answer_length=4)
        self.assertEqual(result["text"], "cat sat")

    def test_empty_context_has_no_answer(self):
        backbone = tiny_backbone(
            num_layers=1, embedding_dim=None, max_sequence_length=16,
            dropout=0.1,
        )
        preprocessor = ElectraQuestionAnswererPreprocessor(
            ElectraTokenizer(vocabulary=TINY_VOCAB), sequence_length=16
        )
        qa = ElectraQuestionAnswerer(backbone, preprocessor=preprocessor)
        features = preprocessor.featurize(["what sat ?"], [""])
        # [CLS] question [SEP] [SEP]: one window, no context token.
        self.assertEqual(features.x["padding_mask"][0].sum(), 6)
        self.assertTrue(np.all(features.offsets == -1))
        result = qa.answer("what sat ?", "")
        self.assertEqual(result["text"], "")
        self.assertEqual(result["n_best"], [])
