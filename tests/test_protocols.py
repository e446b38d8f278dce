"""Horizon protocols: a training env under ``fixed`` runs every episode to the horizon."""

import dataclasses

import numpy as np
import pytest

from irl_gan.errors import UserError
from irl_gan.tasks import load_spec


def run(env, steps, seed=0):
    """Random actions (seeded) until the episode ends or ``steps`` pass: per step (obs, reward, terminated, truncated)."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = []
    for _ in range(steps):
        action = rng.uniform(env.action_space.low, env.action_space.high).astype(env.action_space.dtype)
        obs, reward, terminated, truncated, _ = env.step(action)
        out.append((obs.copy(), float(reward), terminated, truncated))
        if terminated or truncated:
            break
    return out


def short(task, horizon):
    return dataclasses.replace(load_spec(task), horizon=horizon)


@pytest.mark.parametrize("task", ["hopper", "walker2d", "ant"])
def test_a_body_that_falls_runs_on_to_the_horizon_under_fixed(task):
    spec = short(task, 300)
    native = run(spec.make_env(), 300)
    assert native[-1][2] and len(native) < 300  # random actions fall: the native task ends the episode
    fixed = run(spec.make_env(protocol="fixed"), 400)
    assert len(fixed) == 300 and not any(t for _, _, t, _ in fixed) and fixed[-1][3]
    after = fixed[len(native):]
    assert len({o.tobytes() for o, *_ in after}) > 1  # the physics goes on after the fall (seals' way, no absorbing)


@pytest.mark.parametrize("task", ["invertedpendulum", "inverteddoublependulum"])
def test_a_pendulum_that_falls_is_absorbed_with_reward_zero_until_the_horizon(task):
    spec = short(task, 200)
    native = run(spec.make_env(), 200)
    fall = len(native)
    assert native[-1][2] and fall < 200
    fixed = run(spec.make_env(protocol="fixed"), 300)
    assert len(fixed) == 200 and not any(t for _, _, t, _ in fixed) and fixed[-1][3]
    # up to the fall the same episode, then the last observation again with reward 0
    assert [r for _, r, _, _ in fixed[:fall]] == [r for _, r, _, _ in native]
    assert all(np.array_equal(o, native[-1][0]) and r == 0.0 for o, r, _, _ in fixed[fall:])
    env = spec.make_env(protocol="fixed")
    run(env, 300)
    assert not any(t for _, _, t, _ in run(env, 300, seed=1)[:-1])  # a reset leaves the absorbing state


def test_native_is_the_standard_task_and_fixed_changes_nothing_where_nothing_ends_early():
    spec = short("halfcheetah", 100)
    default, native, fixed = (run(spec.make_env(**kw), 200) for kw in ({}, {"protocol": "native"}, {"protocol": "fixed"}))
    assert len(default) == len(native) == len(fixed) == 100
    for a, b, c in zip(default, native, fixed):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[0], c[0]) and a[1] == b[1] == c[1]
    hopper = short("hopper", 300)
    assert run(hopper.make_env(), 300)[-1][2] and run(hopper.make_env(protocol="native"), 300)[-1][2]


def test_an_unknown_protocol_is_one_line_naming_the_choices():
    with pytest.raises(UserError, match="choose one of native, fixed"):
        load_spec("hopper").make_env(protocol="seals")
