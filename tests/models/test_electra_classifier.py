import keras
import numpy as np
import pytest
from keras import ops
from keras_hub.src.tests.test_case import TestCase

from keras_electra import ElectraClassifier
from keras_electra import ElectraTextClassifierPreprocessor
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

# The shared tiny backbone with embeddings as wide as its hidden layer and
# Keras' default dropout.
BACKBONE = dict(embedding_dim=None, dropout=0.1)


def tiny_preprocessor():
    tokenizer = ElectraTokenizer(vocabulary=TINY_VOCAB)
    return ElectraTextClassifierPreprocessor(tokenizer, sequence_length=12)


class ElectraClassifierTest(TestCase):
    def test_transformers_parity(self):
        import torch
        from transformers import ElectraForSequenceClassification

        config = tiny_hf_config()
        config.num_labels = 3
        torch.manual_seed(0)
        hf = randomize_(ElectraForSequenceClassification(config)).eval()
        directory = save_hf_checkpoint(hf, self.get_temp_dir())
        classifier = ElectraClassifier.from_preset(directory)
        self.assertEqual(classifier.head, "transformers")
        self.assertEqual(classifier.num_classes, 3)
        batch = padded_batch(len(TINY_VOCAB))
        with torch.no_grad():
            expected = hf(**torch_inputs(batch)).logits.numpy()
        logits = ops.convert_to_numpy(classifier(batch, training=False))
        print("ElectraForSequenceClassification max diff",
              np.abs(logits - expected).max())
        self.assertAllClose(logits, expected, atol=1e-5, rtol=0)
        # And back: the exported tensors are transformers' own.
        exported = export_transformers_weights(classifier)
        state = hf.state_dict()
        for key in ("classifier.dense.weight", "classifier.out_proj.bias"):
            self.assertAllClose(exported[key], state[key].numpy())

    def test_google_head_is_dropout_then_dense_on_cls(self):
        classifier = ElectraClassifier(tiny_backbone(**BACKBONE), num_classes=4)
        head = classifier.classification_head
        self.assertIsNone(head.dense)
        batch = padded_batch(len(TINY_VOCAB), batch=2, seq=8)
        hidden = ops.convert_to_numpy(classifier.backbone(batch))
        kernel = ops.convert_to_numpy(head.out_proj.kernel)
        bias = ops.convert_to_numpy(head.out_proj.bias)
        expected = hidden[:, 0] @ kernel + bias
        logits = ops.convert_to_numpy(classifier(batch, training=False))
        self.assertAllClose(logits, expected, atol=1e-5)
        with pytest.raises(ValueError, match="head='transformers'"):
            export_transformers_weights(classifier)

    def test_fit_raw_strings_pairs_and_regression(self):
        keras.utils.set_random_seed(0)
        classifier = ElectraClassifier(
            tiny_backbone(**BACKBONE), num_classes=2, preprocessor=tiny_preprocessor()
        )
        # Learnable: the label is 1 for "the ...", 0 for "a ...". Google's
        # optimizer (a larger learning rate) and the default loss must
        # bring the loss down by 10x and fit every example.
        texts = ["the quick fox", "a lazy dog", "the cat sat", "a dog sat"]
        labels = np.array([1, 0, 1, 0])
        classifier.compile(
            optimizer=create_optimizer(classifier, learning_rate=1e-2)
        )
        history = classifier.fit(
            texts, labels, batch_size=4, epochs=20, verbose=0
        ).history
        print("classifier loss", history["loss"][0], "->", history["loss"][-1])
        self.assertLess(history["loss"][-1], 0.1 * history["loss"][0])
        logits = ops.convert_to_numpy(classifier.predict(texts, verbose=0))
        self.assertEqual(logits.shape, (4, 2))
        self.assertEqual(logits.argmax(-1).tolist(), labels.tolist())
        # Sentence pairs: [CLS] a [SEP] b [SEP], segment ids 0 then 1.
        pairs = (["the fox", "a cat"], ["the dog", "the mat"])
        x = classifier.preprocessor(x=pairs)
        self.assertEqual(ops.convert_to_numpy(x["segment_ids"])[0].max(), 1)
        classifier.fit(pairs, [0, 1], batch_size=2, verbose=0)
        # Regression (STS-B): one output, mean squared error.
        regressor = ElectraClassifier(
            tiny_backbone(embedding_dim=None),
            num_classes=1,
            preprocessor=tiny_preprocessor(),
            dropout=0.0,
        )
        self.assertIsInstance(regressor.loss, keras.losses.MeanSquaredError)
        targets = np.array([0.2, 0.8], "float32")
        loss = regressor.evaluate(pairs, targets, verbose=0)
        predictions = ops.convert_to_numpy(regressor.predict(pairs, verbose=0))
        self.assertEqual(predictions.shape, (2, 1))
        self.assertAllClose(
            loss, np.mean((predictions[:, 0] - targets) ** 2), atol=1e-5
        )

    def test_from_discriminator_checkpoint_then_fit(self):
        import torch
        from transformers import ElectraForPreTraining

        torch.manual_seed(0)
        hf = randomize_(ElectraForPreTraining(tiny_hf_config())).eval()
        directory = save_hf_checkpoint(hf, self.get_temp_dir())
        classifier = ElectraClassifier.from_preset(directory, num_classes=2)
        self.assertEqual(classifier.head, "google")
        # The backbone carries the discriminator's weights.
        word_embeddings = hf.electra.embeddings.word_embeddings.weight
        self.assertAllClose(
            ops.convert_to_numpy(classifier.backbone.token_embedding.embeddings),
            word_embeddings.detach().numpy(),
        )
        classifier.preprocessor.sequence_length = 12
        classifier.fit(["the quick fox", "a lazy dog"], [1, 0], verbose=0)
        with pytest.raises(ValueError, match="needs `num_classes`"):
            ElectraClassifier.from_preset(directory)

    def test_saving_round_trip(self):
        classifier = ElectraClassifier(
            tiny_backbone(**BACKBONE), num_classes=3, head="transformers"
        )
        self.run_model_saving_test(
            cls=ElectraClassifier,
            init_kwargs={
                "backbone": classifier.backbone,
                "num_classes": 3,
                "head": "transformers",
            },
            input_data=padded_batch(len(TINY_VOCAB), batch=2, seq=8),
        )

    def test_bad_head(self):
        with pytest.raises(ValueError, match="`head` must be one of"):
            ElectraClassifier(tiny_backbone(**BACKBONE), num_classes=2, head="pooler")
