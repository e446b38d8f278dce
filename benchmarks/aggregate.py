"""Aggregates over tasks and seeds as rliable (Agarwal et al., NeurIPS 2021) defines them: the
interquartile mean and the mean with stratified bootstrap confidence intervals, performance
profiles (score distributions) and the probability of improvement.

rliable 1.2.0 itself is not used because it cannot be installed beside irl_gan: it requires
arch < 8, and arch 7.2 fails on import with pandas 3 (``deprecate_kwarg() missing 1 required
positional argument``), which irl_gan's test dependencies pin. The definitions below are
rliable's (``rliable/metrics.py``, ``rliable/library.py``); tests/test_aggregate.py checks them on
arrays with known answers, and their point estimates matched rliable 1.2.0 (run with pandas 2.3) on
the same arrays.

Scores are arrays of shape ``(runs, tasks)``, a run being one seed of a method. Every function
takes extra leading axes (the bootstrap's replicates) and reduces the last two.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

REPS = 50_000
"""Bootstrap replicates of an interval estimate (rliable's default)."""
PROFILE_REPS = 2_000
"""Bootstrap replicates of a performance profile (rliable's default)."""


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean over all runs and tasks: the mean of the middle half, with a quarter of
    the scores cut from each end (``scipy.stats.trim_mean(scores, 0.25, axis=None)``, rliable's
    ``aggregate_iqm``)."""
    flat = np.sort(scores.reshape(*scores.shape[:-2], -1), axis=-1)
    n = flat.shape[-1]
    cut = int(0.25 * n)
    return flat[..., cut : n - cut].mean(-1)


def mean(scores: np.ndarray) -> np.ndarray:
    """Mean over all runs and tasks (rliable's ``aggregate_mean``: the mean of the task means,
    the same thing when every task has the same number of runs)."""
    return scores.mean(axis=(-2, -1))


def score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """The performance profile: for each threshold ``tau``, the share of runs (over all tasks)
    scoring above it (rliable's ``score_distributions``)."""
    taus = np.asarray(taus, float)
    return (scores[..., None] > taus).mean(axis=(-3, -2))


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y): for each task, the chance that a run of X scores above a run of Y, ties counting
    half (the Mann-Whitney U statistic over ``runs_x * runs_y``), averaged over tasks (rliable's
    ``probability_of_improvement``)."""
    xs, ys = x[..., :, None, :], y[..., None, :, :]
    per_task = ((xs > ys) + 0.5 * (xs == ys)).mean(axis=(-3, -2))
    return per_task.mean(-1)


def _resample(scores: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` stratified resamples of ``scores``: within each task, its runs drawn with replacement
    (rliable's ``StratifiedBootstrap`` without task bootstrapping)."""
    runs, tasks = scores.shape
    idx = rng.integers(0, runs, size=(reps, runs, tasks))
    return scores[idx, np.arange(tasks)]


def interval(statistic: Callable[..., np.ndarray], *scores: np.ndarray, reps: int = REPS, size: float = 0.95,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The point estimate of ``statistic(*scores)`` and its percentile bootstrap interval (rliable's
    ``get_interval_estimates``, method 'percentile'); each array in ``scores`` is resampled on its
    own, stratified by task (``StratifiedIndependentBootstrap`` for two). Returns (point, low, high)."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(s, float) for s in scores]
    samples = statistic(*[_resample(a, reps, rng) for a in arrays])
    tail = 100 * (1 - size) / 2
    low, high = np.percentile(samples, [tail, 100 - tail], axis=0)
    return np.asarray(statistic(*arrays)), low, high
