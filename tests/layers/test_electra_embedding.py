import numpy as np
from keras_hub.src.tests.test_case import TestCase

from keras_electra.layers import ElectraEmbedding
from tests.layers.reference import layer_norm
from tests.layers.reference import numpy
from tests.layers.reference import randomize

VOCABULARY, DIM, MAX_LENGTH = 20, 8, 12


def inputs(batch=2, seq=6, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "token_ids": rng.integers(0, VOCABULARY, (batch, seq)).astype("int32"),
        "segment_ids": rng.integers(0, 2, (batch, seq)).astype("int32"),
    }


def kwargs(**changes):
    return {
        "vocabulary_size": VOCABULARY,
        "embedding_dim": DIM,
        "max_sequence_length": MAX_LENGTH,
        **changes,
    }


class ElectraEmbeddingTest(TestCase):
    def test_layer_basics(self):
        # word, position and segment tables, LayerNorm gamma and beta.
        self.run_layer_test(
            cls=ElectraEmbedding,
            init_kwargs=kwargs(),
            input_data=inputs(),
            expected_output_shape=(2, 6, DIM),
            expected_num_trainable_weights=5,
            # The dropout's seed generator state.
            expected_num_non_trainable_variables=1,
            run_precision_checks=False,
        )

    def test_config_round_trip(self):
        layer = ElectraEmbedding(
            **kwargs(num_segments=3, dropout=0.0, layer_norm_epsilon=1e-5)
        )
        config = layer.get_config()
        for key, value in kwargs(
            num_segments=3, dropout=0.0, layer_norm_epsilon=1e-5
        ).items():
            self.assertEqual(config[key], value)
        restored = ElectraEmbedding.from_config(config)
        self.assertEqual(restored.get_config(), config)

    def test_matches_numpy(self):
        # LayerNorm(word[ids] + position[:seq] + segment[segments]), with
        # Google's epsilon 1e-12 (dropout is off at inference).
        layer = ElectraEmbedding(**kwargs())
        x = inputs(seed=1)
        layer.build(x["token_ids"].shape)
        randomize(layer)
        word = numpy(layer.token_embedding.embeddings)
        position = numpy(layer.position_embedding.position_embeddings)
        segment = numpy(layer.segment_embedding.embeddings)
        gamma = numpy(layer.layer_norm.gamma)
        beta = numpy(layer.layer_norm.beta)
        seq = x["token_ids"].shape[1]
        summed = (
            word[x["token_ids"]] + position[:seq] + segment[x["segment_ids"]]
        )
        expected = layer_norm(summed, gamma, beta, 1e-12)
        self.assertAllClose(numpy(layer(**x)), expected, atol=1e-4)
