"""The benchmark's aggregates (benchmarks/aggregate.py), rliable's definitions, on scores with known answers."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import aggregate as ag  # noqa: E402


def test_iqm_is_the_mean_of_the_middle_half_of_all_runs_and_tasks():
    scores = np.array([[0, 1, 2, 3], [4, 5, 6, 100]], float)  # 2 runs x 4 tasks
    assert ag.iqm(scores) == pytest.approx(np.mean([2, 3, 4, 5]))
    assert ag.mean(scores) == pytest.approx(121 / 8)
    assert ag.iqm(np.full((3, 7), 0.4)) == pytest.approx(0.4)


def test_probability_of_improvement_is_one_when_every_run_is_better_and_half_when_alike():
    x = np.array([[0.9, 0.8], [1.0, 0.9], [0.95, 0.85]])
    y = np.array([[0.1, 0.2], [0.3, 0.1]])  # fewer runs than x: allowed
    assert ag.probability_of_improvement(x, y) == 1.0 and ag.probability_of_improvement(y, x) == 0.0
    assert ag.probability_of_improvement(x, x) == 0.5
    # one task won outright; in the other no run pair is won and one of the 4 is a tie: (1 + 0.5 / 4) / 2
    assert ag.probability_of_improvement(np.array([[1.0, 0.5], [1.0, 0.2]]), np.array([[0.0, 0.5], [0.0, 0.9]])) == pytest.approx((1 + 0.5 / 4) / 2)
    point, low, high = ag.interval(ag.probability_of_improvement, x, y, reps=500)
    assert point == low == high == 1.0  # dominance survives every resample


def test_a_performance_profile_is_the_share_of_runs_above_each_threshold():
    scores = np.array([[0.2, 0.6], [0.8, 1.0]])
    assert ag.score_distribution(scores, [0.0, 0.5, 0.9, 1.0]).tolist() == [1.0, 0.75, 0.25, 0.0]


def test_stratified_bootstrap_intervals_hold_the_point_and_resample_within_tasks():
    rng = np.random.default_rng(0)
    scores = rng.normal(0.7, 0.2, (5, 7))
    point, low, high = ag.interval(ag.iqm, scores, reps=2000)
    assert low < point < high and high - low < 0.4
    assert ag.interval(ag.iqm, scores, reps=2000)[1] == low  # the same seed, the same interval
    # one run per task: resampling within a task changes nothing
    one = scores[:1]
    assert ag.interval(ag.mean, one, reps=100)[1:] == pytest.approx((ag.mean(one), ag.mean(one)))
    # a task whose runs differ only in it moves the interval only through that task
    runs = np.array([[0.0, 1.0], [0.0, 0.0]])
    _, lo, hi = ag.interval(ag.mean, runs, reps=2000)
    assert lo == 0.0 and hi == 0.5
