import keras
import numpy as np
import pytest
from keras import ops
from keras_hub.src.tests.test_case import TestCase

from keras_electra import ElectraTokenClassifier
from keras_electra import ElectraTokenClassifierPreprocessor
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

TAGS = ["O", "B-ANIMAL", "I-ANIMAL"]
# "cats" -> cat ##s, "mats." -> mat ##s ., "" -> no piece at all.
SENTENCES = [["The", "cats", "sat"], ["on", "", "a", "mats."]]
LABELS = [[0, 1, 0], [0, 0, 1, 2]]


def tiny_preprocessor(sequence_length=12):
    tokenizer = ElectraTokenizer(vocabulary=TINY_VOCAB)
    return ElectraTokenClassifierPreprocessor(tokenizer, sequence_length)


class ElectraTokenClassifierPreprocessorTest(TestCase):
    def test_first_piece_alignment(self):
        ids = {t: i for i, t in enumerate(TINY_VOCAB)}
        x, y, weights = tiny_preprocessor()(x=SENTENCES, y=LABELS)
        x = {k: ops.convert_to_numpy(v) for k, v in x.items()}
        # Hand-packed: [CLS] the cat ##s sat [SEP] / [CLS] on a mat ##s . [SEP]
        expected_ids = [
            ["[CLS]", "the", "cat", "##s", "sat", "[SEP]"],
            ["[CLS]", "on", "a", "mat", "##s", ".", "[SEP]"],
        ]
        for row, tokens in zip(x["token_ids"], expected_ids):
            self.assertEqual(row[: len(tokens)].tolist(), [ids[t] for t in tokens])
            self.assertTrue((row[len(tokens):] == 0).all())
        # Labels at the first piece of each word, weight 0 elsewhere.
        self.assertEqual(
            ops.convert_to_numpy(y)[:, :7].tolist(),
            [[0, 0, 1, 0, 0, 0, 0], [0, 0, 1, 2, 0, 0, 0]],
        )
        self.assertEqual(
            ops.convert_to_numpy(weights)[:, :7].tolist(),
            [[0, 1, 1, 0, 1, 0, 0], [0, 1, 1, 1, 0, 0, 0]],
        )
        word_ids = ops.convert_to_numpy(tiny_preprocessor().word_ids(SENTENCES))
        self.assertEqual(
            word_ids[:, :7].tolist(),
            [[-1, 0, 1, -1, 2, -1, -1], [-1, 0, 2, 3, -1, -1, -1]],
        )

    def test_truncation_and_sentence_weights(self):
        preprocessor = tiny_preprocessor(sequence_length=4)
        x, y, weights = preprocessor(
            x=SENTENCES, y=LABELS, sample_weight=np.array([1.0, 0.5])
        )
        # [CLS] the cat [SEP]: "sat" is cut off, its label is lost.
        self.assertEqual(ops.convert_to_numpy(weights).tolist(),
                         [[0, 1, 1, 0], [0, 0.5, 0.5, 0]])

    def test_label_count_mismatch(self):
        with pytest.raises(Exception, match="exactly one label"):
            tiny_preprocessor()(x=SENTENCES, y=[[0, 1], [0, 0, 1, 2]])


class ElectraTokenClassifierTest(TestCase):
    def test_transformers_parity(self):
        import torch
        from transformers import ElectraForTokenClassification

        config = tiny_hf_config()
        config.num_labels = 3
        config.id2label = dict(enumerate(TAGS))
        config.label2id = {t: i for i, t in enumerate(TAGS)}
        torch.manual_seed(0)
        hf = randomize_(ElectraForTokenClassification(config)).eval()
        directory = save_hf_checkpoint(hf, self.get_temp_dir())
        tagger = ElectraTokenClassifier.from_preset(directory)
        self.assertEqual(tagger.label_names, TAGS)
        batch = padded_batch(len(TINY_VOCAB))
        with torch.no_grad():
            expected = hf(**torch_inputs(batch)).logits.numpy()
        logits = ops.convert_to_numpy(tagger(batch, training=False))
        print("ElectraForTokenClassification max diff",
              np.abs(logits - expected).max())
        self.assertAllClose(logits, expected, atol=1e-5, rtol=0)
        exported = export_transformers_weights(tagger)
        self.assertAllClose(
            exported["classifier.weight"], hf.classifier.weight.detach().numpy()
        )
        # Word predictions are the logits' argmax at each word's first piece.
        tagger.preprocessor.sequence_length = 12
        x = tagger.preprocessor(x=SENTENCES)
        word_ids = ops.convert_to_numpy(tagger.preprocessor.word_ids(SENTENCES))
        argmax = ops.convert_to_numpy(tagger(x, training=False)).argmax(-1)
        predicted = tagger.predict_tags(SENTENCES)
        for i, words in enumerate(SENTENCES):
            expected_tags = ["O"] * len(words)  # words without pieces: "O"
            for position, word in enumerate(word_ids[i]):
                if word >= 0:
                    expected_tags[word] = TAGS[argmax[i, position]]
            self.assertEqual(predicted[i], expected_tags)

    def test_fit_on_words_and_entity_scores(self):
        keras.utils.set_random_seed(0)
        backbone = tiny_backbone(
            num_layers=1, embedding_dim=None, max_sequence_length=16
        )
        tagger = ElectraTokenClassifier(
            backbone, preprocessor=tiny_preprocessor(), label_names=TAGS,
            dropout=0.0,
        )
        self.assertEqual(tagger.num_classes, 3)
        # Two sentences to memorize: the loss must fall and every word,
        # hence both entities, come out right.
        tagger.compile(optimizer=create_optimizer(tagger, learning_rate=1e-2))
        history = tagger.fit(SENTENCES, LABELS, batch_size=2, epochs=25,
                             verbose=0)
        losses = history.history["loss"]
        print("token classifier loss", losses[0], "->", losses[-1])
        self.assertLess(losses[-1], 0.1 * losses[0])
        gold = [[TAGS[i] for i in labels] for labels in LABELS]
        self.assertEqual(tagger.predict_tags(SENTENCES), gold)
        scores = tagger.evaluate_entities(SENTENCES, gold)
        self.assertEqual(
            (scores["num_gold"], scores["num_predicted"], scores["num_correct"]),
            (2, 2, 2),
        )
        self.assertEqual(scores["f1"], 1.0)
        # Known predictions, scored by hand (conlleval: an entity counts
        # only with its type, start and end): gold entities (0, 1-1) and
        # (1, 2-3); predicted (0, 1-1) right, (0, 2-2) spurious and
        # (1, 2-2) cut short. P = 1/3, R = 1/2, F1 = 2PR / (P + R) = 0.4.
        predicted = [["O", "B-ANIMAL", "B-ANIMAL"],
                     ["O", "O", "B-ANIMAL", "O"]]
        tagger.predict_tags = lambda sentences, batch_size=32: predicted
        scores = tagger.evaluate_entities(SENTENCES, gold)
        self.assertEqual(
            (scores["num_gold"], scores["num_predicted"], scores["num_correct"]),
            (2, 3, 1),
        )
        self.assertAllClose(
            [scores["precision"], scores["recall"], scores["f1"]],
            [1 / 3, 1 / 2, 0.4],
        )

    def test_errors(self):
        backbone = tiny_backbone(
            num_layers=1, embedding_dim=None, max_sequence_length=16,
            dropout=0.1,
        )
        with pytest.raises(ValueError, match="needs `num_classes`"):
            ElectraTokenClassifier(backbone)
        with pytest.raises(ValueError, match="`label_names` has 3 names"):
            ElectraTokenClassifier(backbone, num_classes=2, label_names=TAGS)
        tagger = ElectraTokenClassifier(backbone, num_classes=2)
        with pytest.raises(ValueError, match="needs `label_names`"):
            tagger.predict_tags(SENTENCES)
