import numpy as np
from keras_hub.src.tests.test_case import TestCase

from keras_electra.layers import ElectraDiscriminatorHead
from tests.layers.reference import gelu
from tests.layers.reference import numpy
from tests.layers.reference import randomize


class ElectraDiscriminatorHeadTest(TestCase):
    def test_layer_basics(self):
        # Serialization, build, eager and compiled calls, a training step.
        self.run_layer_test(
            cls=ElectraDiscriminatorHead,
            init_kwargs={"hidden_dim": 8},
            input_data=np.random.default_rng(0).normal(size=(2, 5, 8)).astype(
                "float32"
            ),
            expected_output_shape=(2, 5),
            expected_num_trainable_weights=4,
            run_precision_checks=False,
        )

    def test_config_round_trip(self):
        head = ElectraDiscriminatorHead(hidden_dim=8, activation="relu")
        config = head.get_config()
        self.assertEqual(config["hidden_dim"], 8)
        self.assertEqual(config["activation"], "relu")
        restored = ElectraDiscriminatorHead.from_config(config)
        self.assertEqual(restored.get_config(), config)

    def test_matches_numpy_dense_gelu_dense(self):
        head = ElectraDiscriminatorHead(hidden_dim=8)
        x = np.random.default_rng(1).normal(size=(3, 4, 6)).astype("float32")
        head.build(x.shape)
        randomize(head)
        w1, b1 = numpy(head.dense.kernel), numpy(head.dense.bias)
        w2 = numpy(head.dense_prediction.kernel)
        b2 = numpy(head.dense_prediction.bias)
        expected = (gelu(x @ w1 + b1) @ w2 + b2)[..., 0]
        self.assertAllClose(numpy(head(x)), expected, atol=1e-4)
