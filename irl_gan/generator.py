"""The generator's density ``log q``: ``log π(a | s)`` of an SB3 policy, for any actions.

The discriminator needs ``log π`` of demonstration actions as well as of the generator's own,
so densities are evaluated, never only sampled. Both are densities over actions in the
env's units:

* PPO (diagonal Gaussian, unsquashed, its samples clipped to the action bounds before the env
  sees them): the Gaussian log-density of the action as given, except that for an action
  dimension at a bound the mean is first held inside the bounds. Without that, the density at a
  clipped action falls without limit as the mean moves past the bound, and the reward's
  ``-α log π`` pays the policy to move it further. While the mean is inside the bounds this is
  the plain density.
* SAC (tanh-squashed Gaussian on [-1, 1], rescaled to the action bounds): the action is mapped
  to ``y`` in [-1, 1], then ``u = atanh(y)``, and
  ``log π(a) = log N(u) - Σ log(1 - tanh(u)²) - Σ log((high - low) / 2)``.
  An action at or beyond a bound (demonstrations often sit there) is moved inside by
  ``SQUASH_MARGIN`` before ``atanh``, so the density stays finite: at most about
  ``|log N(7.25)| + 13`` nats per dimension, rather than infinite. ``log(1 - tanh(u)²)`` is
  computed as ``2 (log 2 - u - softplus(-2u))``, which is exact and stable for large ``|u|``.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

Tensor = torch.Tensor
SQUASH_MARGIN = 1e-6


def _tensor(x, dtype=torch.float32) -> Tensor:
    return x.to(dtype) if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), dtype=dtype)


class PolicyDensity:
    """``log π(a | s)`` per step for an SB3 PPO or SAC model (observations as the env gives them)."""

    def __init__(self, model, obs_norm: Callable[[np.ndarray], np.ndarray] | None = None):
        from stable_baselines3 import PPO, SAC

        if isinstance(model, SAC):
            self.kind = "sac"
        elif isinstance(model, PPO):
            if model.use_sde:
                raise ValueError("PPO with gSDE has no per-state Gaussian density; train without use_sde")
            self.kind = "ppo"
        else:
            raise TypeError(f"expected an SB3 PPO or SAC model, got {type(model).__name__}")
        self.model = model
        self.obs_norm = obs_norm
        space = model.action_space
        self.low = torch.as_tensor(space.low, dtype=torch.float64)
        self.high = torch.as_tensor(space.high, dtype=torch.float64)

    def _obs(self, obs) -> Tensor:
        if self.obs_norm is None:
            return _tensor(obs)
        obs = obs.cpu().numpy() if isinstance(obs, torch.Tensor) else np.asarray(obs)
        return torch.as_tensor(self.obs_norm(obs), dtype=torch.float32)

    def log_prob(self, obs, actions, grad: bool = False) -> Tensor:
        """``log π(a | s)`` in float64, shape ``actions.shape[:-1]`` (any leading batch axes).

        With ``grad`` the result carries gradients to the policy's parameters (behaviour cloning);
        otherwise it is a constant, as the discriminator needs it.
        """
        with torch.set_grad_enabled(grad):
            return self._log_prob(obs, actions)

    def _log_prob(self, obs, actions) -> Tensor:
        obs_t, act = self._obs(obs), _tensor(actions, torch.float64)
        lead = act.shape[:-1]
        obs_t, act = obs_t.reshape(-1, obs_t.shape[-1]), act.reshape(-1, act.shape[-1])
        if self.kind == "ppo":
            dist = self.model.policy.get_distribution(obs_t).distribution
            out = clipped_log_prob(act, dist.mean.double(), dist.stddev.double(), self.low, self.high)
        else:
            mean, log_std, _ = self.model.actor.get_action_dist_params(obs_t)
            out = squashed_log_prob(act, mean.double(), log_std.double(), self.low, self.high)
        return out.reshape(lead)


def clipped_log_prob(actions: Tensor, mean: Tensor, std: Tensor, low: Tensor, high: Tensor) -> Tensor:
    """Gaussian log-density of env-space ``actions``, the mean held inside ``[low, high]`` for an
    action dimension at (or beyond) a bound: past the bound, moving the mean further out leaves
    the clipped action's ``log π`` at its peak instead of lowering it."""
    centre = torch.where((actions <= low) | (actions >= high), mean.clamp(low, high), mean)
    return torch.distributions.Normal(centre, std).log_prob(actions).sum(-1)


def squashed_log_prob(actions: Tensor, mean: Tensor, log_std: Tensor, low: Tensor, high: Tensor) -> Tensor:
    """Density of env-space ``actions`` under ``tanh(N(mean, exp(log_std)))`` rescaled to [low, high]."""
    half = (high - low) / 2
    y = ((actions - low) / half - 1.0).clamp(-1.0 + SQUASH_MARGIN, 1.0 - SQUASH_MARGIN)
    u = torch.atanh(y)
    gauss = torch.distributions.Normal(mean, log_std.exp()).log_prob(u)
    log_det = 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))
    return (gauss - log_det - torch.log(half)).sum(-1)
