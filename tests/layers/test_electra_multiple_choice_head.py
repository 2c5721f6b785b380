import numpy as np
from keras_hub.src.tests.test_case import TestCase

from keras_electra.layers import ElectraMultipleChoiceHead
from tests.layers.reference import gelu
from tests.layers.reference import numpy
from tests.layers.reference import randomize

BATCH, CHOICES, SEQ, HIDDEN = 2, 3, 5, 8


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "sequence_output": rng.normal(size=(BATCH * CHOICES, SEQ, HIDDEN)).astype(
            "float32"
        ),
        "choice_token_ids": np.ones((BATCH, CHOICES, SEQ), "int32"),
    }


class ElectraMultipleChoiceHeadTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            cls=ElectraMultipleChoiceHead,
            init_kwargs={"hidden_dim": HIDDEN},
            input_data=inputs(),
            expected_output_shape=(BATCH, CHOICES),
            expected_num_trainable_weights=4,
            # The dropout's seed generator state.
            expected_num_non_trainable_variables=1,
            # `fit` needs one batch size for all inputs; the choices are
            # folded into the batch of `sequence_output`.
            run_training_check=False,
            run_precision_checks=False,
        )

    def test_config_round_trip(self):
        head = ElectraMultipleChoiceHead(
            hidden_dim=HIDDEN,
            summary_use_proj=False,
            summary_activation=None,
            summary_first_dropout=0.1,
            summary_last_dropout=0.0,
        )
        config = head.get_config()
        self.assertEqual(config["summary_use_proj"], False)
        self.assertIsNone(config["summary_activation"])
        restored = ElectraMultipleChoiceHead.from_config(config)
        self.assertEqual(restored.get_config(), config)
        self.assertIsNone(restored.summary)

    def test_matches_numpy(self):
        # transformers' ElectraSequenceSummary + classifier on [CLS]:
        # dense -> exact GELU -> dense(1), one score per choice.
        head = ElectraMultipleChoiceHead(hidden_dim=HIDDEN)
        x = inputs(1)
        head.build(x["sequence_output"].shape, x["choice_token_ids"].shape)
        randomize(head)
        ws, bs = numpy(head.summary.kernel), numpy(head.summary.bias)
        wc, bc = numpy(head.classifier.kernel), numpy(head.classifier.bias)
        cls = x["sequence_output"][:, 0]
        expected = (gelu(cls @ ws + bs) @ wc + bc).reshape(BATCH, CHOICES)
        self.assertAllClose(numpy(head(**x)), expected, atol=1e-4)

    def test_without_projection_matches_numpy(self):
        head = ElectraMultipleChoiceHead(
            hidden_dim=HIDDEN, summary_use_proj=False, summary_activation=None
        )
        x = inputs(2)
        head.build(x["sequence_output"].shape, x["choice_token_ids"].shape)
        randomize(head)
        self.assertLen(head.trainable_weights, 2)
        wc, bc = numpy(head.classifier.kernel), numpy(head.classifier.bias)
        cls = x["sequence_output"][:, 0]
        expected = (cls @ wc + bc).reshape(BATCH, CHOICES)
        self.assertAllClose(numpy(head(**x)), expected, atol=1e-4)
