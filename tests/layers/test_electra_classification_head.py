import numpy as np
import pytest
from keras_hub.src.tests.test_case import TestCase

from keras_electra.layers import ElectraClassificationHead
from tests.layers.reference import gelu
from tests.layers.reference import numpy
from tests.layers.reference import randomize


def sequence_output(seed=0, shape=(3, 5, 8)):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


class ElectraClassificationHeadTest(TestCase):
    def test_google_head_basics(self):
        self.run_layer_test(
            cls=ElectraClassificationHead,
            init_kwargs={"num_classes": 3},
            input_data=sequence_output(),
            expected_output_shape=(3, 3),
            expected_num_trainable_weights=2,
            # The dropout's seed generator state.
            expected_num_non_trainable_variables=1,
            run_precision_checks=False,
        )

    def test_transformers_head_basics(self):
        self.run_layer_test(
            cls=ElectraClassificationHead,
            init_kwargs={"num_classes": 2, "hidden_dim": 8, "head": "transformers"},
            input_data=sequence_output(),
            expected_output_shape=(3, 2),
            expected_num_trainable_weights=4,
            # The dropout's seed generator state.
            expected_num_non_trainable_variables=1,
            run_precision_checks=False,
        )

    def test_config_round_trip(self):
        head = ElectraClassificationHead(
            num_classes=4,
            hidden_dim=8,
            head="transformers",
            dropout=0.2,
            activation="softmax",
        )
        config = head.get_config()
        for key, value in (
            ("num_classes", 4), ("hidden_dim", 8), ("head", "transformers"),
            ("dropout", 0.2), ("activation", "softmax"),
        ):
            self.assertEqual(config[key], value)
        restored = ElectraClassificationHead.from_config(config)
        self.assertEqual(restored.get_config(), config)

    def test_google_head_matches_numpy(self):
        # Dropout (inactive at inference) -> dense on the [CLS] vector.
        head = ElectraClassificationHead(num_classes=3)
        x = sequence_output(1)
        head.build(x.shape)
        randomize(head)
        w, b = numpy(head.out_proj.kernel), numpy(head.out_proj.bias)
        self.assertAllClose(numpy(head(x)), x[:, 0] @ w + b, atol=1e-4)

    def test_transformers_head_matches_numpy(self):
        # dense -> exact GELU -> dense (`out_proj`), on the [CLS] vector.
        head = ElectraClassificationHead(
            num_classes=2, hidden_dim=6, head="transformers"
        )
        x = sequence_output(2)
        head.build(x.shape)
        randomize(head)
        w1, b1 = numpy(head.dense.kernel), numpy(head.dense.bias)
        w2, b2 = numpy(head.out_proj.kernel), numpy(head.out_proj.bias)
        expected = gelu(x[:, 0] @ w1 + b1) @ w2 + b2
        self.assertAllClose(numpy(head(x)), expected, atol=1e-4)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="head"):
            ElectraClassificationHead(num_classes=2, head="pooler")
        with pytest.raises(ValueError, match="hidden_dim"):
            ElectraClassificationHead(num_classes=2, head="transformers")
        with pytest.raises(ValueError, match="num_classes"):
            ElectraClassificationHead(num_classes=0)
