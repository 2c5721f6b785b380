import numpy as np

from keras_electra.losses import ReplacedTokenLoss


def test_matches_googles_weighted_mean():
    labels = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]], "float32")
    logits = np.array([[-2.0, 3.0, 0.5], [0.2, -1.0, 4.0]], "float32")
    weights = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], "float32")
    # -[y log s(x) + (1 - y) log(1 - s(x))], averaged over weighted tokens.
    sigmoid = 1 / (1 + np.exp(-logits))
    per_token = -(labels * np.log(sigmoid) + (1 - labels) * np.log(1 - sigmoid))
    expected = (per_token * weights).sum() / weights.sum()
    got = ReplacedTokenLoss()(labels, logits, sample_weight=weights)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)
