"""Horizon protocols: how a training env ends its episodes.

* ``native``: the standard gymnasium task. An episode ends where the task ends it (a Hopper that
  falls, a pendulum past its angle) or at the time limit.
* ``fixed``: every episode lasts the task's horizon, as in seals' fixed-horizon tasks, the ones
  ``imitation`` benchmarks on. A termination tells a learner which states end the reward, and
  imitation refuses episodes of varying length unless told otherwise (its docs call that
  unsupported). A task whose env takes ``terminate_when_unhealthy`` (Hopper, Walker2d, Ant,
  Humanoid) runs on with it off, as seals' MuJoCo tasks do: the body lies where it fell and earns
  no healthy reward (gymnasium v5 pays that only while healthy). Any other termination (the
  pendulums) is absorbed: the rest of the episode repeats the last observation with reward 0,
  as seals' ``AbsorbAfterDoneWrapper`` does.

The protocol is a property of training envs only: evaluation is always on the standard task.
"""

from __future__ import annotations

import inspect

import gymnasium as gym

PROTOCOLS = ("native", "fixed")


class AbsorbAfterTermination(gym.Wrapper):
    """After the inner env terminates, stay in an absorbing state: the last observation again,
    reward 0, ``terminated`` False, the action ignored. Truncation passes through, so a
    ``TimeLimit`` outside this wrapper ends every episode at the horizon.

    seals' ``AbsorbAfterDoneWrapper`` with its defaults (``absorb_reward=0``, the final
    observation repeated), except that seals absorbs the inner time limit too and relies on an
    outer one; here the outer ``TimeLimit`` alone counts the steps.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self._absorbing = None  # the observation repeated once the inner env has terminated

    def reset(self, **kwargs):
        self._absorbing = None
        return self.env.reset(**kwargs)

    def step(self, action):
        if self._absorbing is not None:
            return self._absorbing, 0.0, False, False, {"absorbing": True}
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated:
            self._absorbing = obs
        return obs, reward, False, truncated, info


def takes_unhealthy_switch(env_id: str) -> bool:
    """Whether ``env_id``'s constructor takes gymnasium's ``terminate_when_unhealthy``."""
    from gymnasium.envs.registration import load_env_creator

    entry = gym.spec(env_id).entry_point
    try:
        creator = load_env_creator(entry) if isinstance(entry, str) else entry
        return "terminate_when_unhealthy" in inspect.signature(creator).parameters
    except (TypeError, ValueError, ImportError, AttributeError):
        return False


def fixed_horizon_kwargs(env_id: str) -> dict:
    """Constructor arguments that keep ``env_id``'s episodes running after a fall, where it has one."""
    return {"terminate_when_unhealthy": False} if takes_unhealthy_switch(env_id) else {}


def fixed_horizon(env: gym.Env, horizon: int) -> gym.Env:
    """``env`` with every termination absorbed and every episode truncated at ``horizon`` steps."""
    return gym.wrappers.TimeLimit(AbsorbAfterTermination(env), max_episode_steps=horizon)


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        from irl_gan.errors import UserError

        raise UserError(f"protocol {protocol!r}: choose one of {', '.join(PROTOCOLS)}")
    return protocol
