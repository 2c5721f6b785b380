"""Give a question answerer a known answer, whatever its backbone's weights."""

import numpy as np
from keras import ops


def solve_span_head(qa, features, row, start, end, logit=8.0):
    """Set `qa`'s span head so that window `row` of `features` (a dict of
    `token_ids`, `segment_ids`, `padding_mask`) has start logit `logit` at
    token `start`, end logit `logit` at token `end`, and 0 at its other
    context tokens.

    Ridge regression on the backbone's hidden states of that window (a
    plain least-squares fit is exact but ill-conditioned: its weights ran
    to norm 6e4 over a whole window, so float32 rounding moved the logits
    by 2e-2). Checked: the start (end) logit at `start` (`end`) exceeds
    every other context token's by at least `logit / 2`, so the best span
    is `start`..`end`.
    """
    window = {k: np.asarray(v)[row : row + 1] for k, v in features.items()}
    # Only the context's tokens (segment 1) can be in a span; fitting
    # those alone keeps the problem well conditioned.
    real = window["padding_mask"][0].astype(bool) & (
        window["segment_ids"][0] == 1
    )
    hidden = ops.convert_to_numpy(qa.backbone(window))[0][real]
    positions = np.flatnonzero(real)
    targets = np.zeros((len(hidden), 2))
    targets[positions == start, 0] = logit
    targets[positions == end, 1] = logit
    assert targets.sum() == 2 * logit  # both positions are context tokens
    design = np.concatenate([hidden, np.ones((len(hidden), 1))], axis=1)
    ridge = 1e-4 * np.eye(design.shape[1])
    solution = np.linalg.solve(design.T @ design + ridge, design.T @ targets)
    fitted = design @ solution
    for column, position in ((0, start), (1, end)):
        best = fitted[positions == position, column][0]
        others = fitted[positions != position, column]
        assert best - others.max() >= logit / 2, fitted
    qa.span_head.kernel.assign(solution[:-1].astype("float32"))
    qa.span_head.bias.assign(solution[-1].astype("float32"))
