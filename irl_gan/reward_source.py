"""What the generator is rewarded with for the steps it took: one interface, three sources.

* ``EnvReward``: the env's own reward (the oracle, ``--algo rl``).
* ``FrozenReward``: a learned reward held fixed (``reward``, as ``irl-gan retrain`` trains).
* ``LiveReward``: the estimator's reward under the current cost (every imitation algo).

``reward(obs, acts, next_obs, terminated, env_reward)`` takes raw steps in the env's units with a
batch axis. A learned reward adds, at a termination, the discounted worth of staying in the
absorbing state, ``γ/(1-γ) r(s_abs)``, so that a learned cost cannot be gamed by ending episodes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from irl_gan.segments import Segments, transitions


class RewardSource:
    """The reward of raw steps; ``env_reward`` is what the env paid for them."""

    def reward(self, obs, acts, next_obs, terminated, env_reward=None) -> np.ndarray:
        raise NotImplementedError

    def cost_changed(self) -> None:
        """The cost moved: forget what was computed from it."""


class EnvReward(RewardSource):
    """The env's own reward, as the env paid it."""

    def reward(self, obs, acts, next_obs, terminated, env_reward=None) -> np.ndarray:
        return np.asarray(env_reward, dtype=np.float64)


class _Learned(RewardSource):
    """A learned per-step reward, with the absorbing state's discounted worth at a termination."""

    def __init__(self, gamma: float):
        self.gamma = gamma

    def reward(self, obs, acts, next_obs, terminated, env_reward=None) -> np.ndarray:
        term = np.asarray(terminated, dtype=bool)
        return self.step_reward(obs, acts, next_obs, term) + term * self.gamma / (1 - self.gamma) * self.absorbing_reward()

    def step_reward(self, obs, acts, next_obs, terminated: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def absorbing_reward(self) -> float:
        """``r(s_abs)``: the reward of one step in the absorbing state."""
        raise NotImplementedError


class FrozenReward(_Learned):
    """A learned reward held fixed: a run's cost loaded back (``irl_gan.reward.LearnedReward``, or
    the mean of its snapshots). With ``log_pi`` the fresh policy's ``-α log π`` is in the reward,
    as it was in the generator's (MaxEnt RL with PPO); without, SAC's entropy term plays that part."""

    def __init__(self, frozen, gamma: float, log_pi: Callable[[Segments], torch.Tensor] | None = None):
        super().__init__(gamma)
        self.frozen, self.log_pi = frozen, log_pi

    @torch.no_grad()
    def step_reward(self, obs, acts, next_obs, terminated: np.ndarray) -> np.ndarray:
        reward = self.frozen(obs, acts, next_obs, terminated)
        if self.log_pi is None:
            return reward
        log_pi = self.log_pi(transitions(obs, acts, next_obs, terminated))
        return reward - log_pi.sum(-1).double().numpy().reshape(np.shape(reward))

    def absorbing_reward(self) -> float:
        return self.frozen.absorbing_reward()


class LiveReward(_Learned):
    """The estimator's reward under its current cost. With ``log_pi`` (``α log π`` per step of a
    segment) the reward has the policy's ``-α log π`` in it; without, it has none (SAC's entropy
    term plays that part)."""

    def __init__(self, estimator, gamma: float, log_pi: Callable[[Segments], torch.Tensor] | None):
        super().__init__(gamma)
        self.estimator, self.log_pi = estimator, log_pi
        self._absorbing: float | None = None

    def cost_changed(self) -> None:
        self._absorbing = None  # r(s_abs), cached while the cost stands still

    @torch.no_grad()
    def step_reward(self, obs, acts, next_obs, terminated: np.ndarray) -> np.ndarray:
        seg = transitions(obs, acts, next_obs, terminated)
        log_pi = self.log_pi(seg) if self.log_pi is not None else torch.zeros(len(seg), 1)
        return self.estimator.reward(seg, log_pi).sum(-1).double().numpy()

    @torch.no_grad()
    def absorbing_reward(self) -> float:
        # Cached: SAC asks at every sample.
        if self._absorbing is None:
            config = self.estimator.cost.config
            zeros_obs, zeros_act = np.zeros((1, config.obs_dim - 1)), np.zeros((1, config.act_dim))
            absorbing = transitions(zeros_obs, zeros_act, zeros_obs, np.array([True]), absorbing=True)
            self._absorbing = float(self.estimator.reward(absorbing, torch.zeros(1, 1)).sum())
        return self._absorbing
