import keras
import numpy as np
from keras_hub.src.tests.test_case import TestCase

from keras_electra.layers import ElectraFlattenChoices


def choices(batch=2, num_choices=3, seq=4):
    rng = np.random.default_rng(0)
    shape = (batch, num_choices, seq)
    return {
        "token_ids": rng.integers(0, 50, shape).astype("int32"),
        "segment_ids": rng.integers(0, 2, shape).astype("int32"),
        "padding_mask": rng.integers(0, 2, shape).astype("int32"),
    }


class ElectraFlattenChoicesTest(TestCase):
    def test_folds_choices_into_the_batch_like_numpy(self):
        x = choices()
        out = ElectraFlattenChoices()(x)
        self.assertEqual(set(out), set(x))
        for key, value in x.items():
            # Row-major: choice j of example i is row i * num_choices + j.
            self.assertAllEqual(out[key], value.reshape(-1, value.shape[-1]))

    def test_symbolic_shapes(self):
        inputs = {
            key: keras.Input(shape=(3, 4), dtype="int32", name=key)
            for key in ("token_ids", "segment_ids", "padding_mask")
        }
        out = ElectraFlattenChoices()(inputs)
        for key in inputs:
            self.assertEqual(tuple(out[key].shape), (None, 4))
            self.assertEqual(out[key].dtype, "int32")

    def test_config_round_trip(self):
        layer = ElectraFlattenChoices(name="flatten")
        restored = ElectraFlattenChoices.from_config(layer.get_config())
        self.assertEqual(restored.name, "flatten")
        self.assertEqual(restored.get_config(), layer.get_config())
        self.run_serialization_test(layer)
        self.assertEqual(layer.weights, [])
