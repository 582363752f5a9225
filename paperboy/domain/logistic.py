"""L2-regularised logistic regression with balanced classes, by Newton's method, in numpy: the
"For you" model's classifier on embeddings (Scholar Inbox's, as bench/recommendations.py runs it
with scikit-learn's liblinear: C=10 chosen there on the tuning half). Pure code, no I/O."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float32]
NEWTON_STEPS = 8
TOLERANCE = 1e-4


def fit_logistic(positives: Floats, negatives: Floats, c: float = 10.0) -> Floats:
    """Weights (the last one the intercept) minimising C · Σ balanced log-loss + ½‖w‖² (the
    intercept unpenalised), as liblinear's L2 logistic regression with class_weight="balanced".
    Rows are features; an empty class gives zero weights."""
    if len(positives) == 0 or len(negatives) == 0:
        return np.zeros(positives.shape[1] + 1, dtype=np.float32)
    x = np.vstack([positives, negatives]).astype(np.float64)
    x = np.hstack([x, np.ones((len(x), 1))])
    y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    n = len(y)
    sample = np.where(y == 1, n / (2 * len(positives)), n / (2 * len(negatives))) * c
    penalty = np.ones(x.shape[1])
    penalty[-1] = 1e-6  # the intercept: (almost) free
    w = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (sample * (p - y)) + penalty * w
        curvature = sample * p * (1 - p)
        hessian = (x.T * curvature) @ x
        hessian[np.diag_indices_from(hessian)] += penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < TOLERANCE:
            break
    return w.astype(np.float32)


def decision(weights: Floats, rows: Floats) -> Floats:
    """The fitted model's decision values (log-odds) of `rows`."""
    values: Floats = rows @ weights[:-1] + weights[-1]
    return values
