"""demo_resets: the generator's episodes begin in states of the demos (reference state initialisation)."""

import numpy as np
import pytest

from irl_gan.data import load_demos, make_meta, save_demos
from irl_gan.errors import UserError
from irl_gan.resets import DemoStateResets, demo_states
from irl_gan.rollout import random_policy, rollout
from irl_gan.tasks import load_spec


@pytest.fixture
def pendulum_demos(tmp_path):
    spec = load_spec("invertedpendulum")
    env = spec.make_env()
    path = tmp_path / "d.h5"
    save_demos(path, rollout(env, random_policy(env), 3, 0, progress=False), make_meta(spec, env, None, False, "test"))
    return spec, load_demos(path, spec)


def is_demo_state(obs, states):
    return bool((np.abs(states - obs).max(axis=1) == 0).any())


def test_a_demo_reset_puts_the_simulator_in_the_demo_state_it_returns(pendulum_demos):
    spec, demos = pendulum_demos
    states = demo_states(demos.episodes)
    assert len(states) == sum(e.length for e in demos.episodes)
    env = DemoStateResets(spec.make_env(), states, share=1.0)
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        sim = env.unwrapped
        assert info["demo_reset"] and is_demo_state(obs, states)
        np.testing.assert_array_equal(np.concatenate([sim.data.qpos, sim.data.qvel]), obs)
    # The episode goes on from there as from any state: the next observation is the simulator's.
    nxt, *_ = env.step(np.zeros(1))
    np.testing.assert_array_equal(nxt, sim._get_obs())


def test_the_share_of_demo_resets_is_the_setting(pendulum_demos):
    spec, demos = pendulum_demos
    states = demo_states(demos.episodes)
    never, half = DemoStateResets(spec.make_env(), states, 0.0), DemoStateResets(spec.make_env(), states, 0.5)
    # (the demos began at the resets of seeds 0-2: other seeds begin elsewhere)
    assert not any(is_demo_state(never.reset(seed=s)[0], states) for s in range(100, 120))
    half.reset(seed=0)
    flags = [half.reset()[1].get("demo_reset", False) for _ in range(400)]
    assert 0.4 < np.mean(flags) < 0.6


def test_demo_resets_refuse_an_env_whose_observation_is_not_its_state():
    # Reacher observes cosines, sines and the target: no state to set from an observation.
    spec = load_spec("reacher")
    env = spec.make_env()
    with pytest.raises(UserError, match="Reacher-v5's observations are not its joint positions and velocities.*set demo_resets to 0"):
        DemoStateResets(env, np.zeros((3, env.observation_space.shape[0])), 0.5)


def test_every_generator_episode_begins_in_a_demo_state_at_share_1(pendulum_demos, tmp_path):
    from irl_gan.trainer import Trainer, resolve_config

    spec, demos = pendulum_demos
    config = resolve_config(spec, [("test", {"demos": str(demos.path), "demo_episodes": 2, "n_envs": 1, "demo_resets": 1.0,
                                             "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}})])
    trainer = Trainer(spec, demos, config, tmp_path / "run")
    trainer.model.learn(64)
    arrays = trainer.recorder.rollout_arrays()
    starts = [0, *(np.flatnonzero(arrays["terminated"][:-1, 0] | arrays["truncated"][:-1, 0]) + 1)]
    states = demo_states(demos.select(2))
    assert len(starts) > 1  # a random policy drops the pendulum: several episodes began in the rollout
    assert all(is_demo_state(arrays["obs"][t, 0], states) for t in starts)
    # Only the demos learned from are starting points: the third episode's states are not.
    assert not any(is_demo_state(arrays["obs"][t, 0], demo_states(demos.episodes[2:])) for t in starts)


def test_demo_resets_are_for_an_imitation_generator():
    from irl_gan.trainer import resolve_config

    with pytest.raises(UserError, match="'demo_resets' starts an imitation generator's episodes from demo states; --algo rl"):
        resolve_config(load_spec("pendulum"), [("test", {"algo": "rl", "demo_resets": 0.5})])
    with pytest.raises(UserError, match=r"'demo_resets' must be a number in \[0, 1\]"):
        resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "demo_resets": 1.5})])
