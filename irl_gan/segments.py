"""Segments: windows of K consecutive steps of a trajectory, the discriminator's inputs.

K = 1 gives transitions; K = the horizon gives whole trajectories (the paper's trajectory GAN).

Episode ends are handled so a learned cost cannot exploit them:

* A **terminated** episode (a fall, in Hopper, Walker2d or Ant) continues in an *absorbing
  state* (Kostrikov et al. 2019), and the cost learns what that state is worth. Observations
  carry one extra feature, 1 in the absorbing state and 0 elsewhere (its other features are 0).
  The episode is padded with absorbing steps until its last window is full; with K = 1 that is
  one absorbing transition, and with K = the horizon the trajectory is padded to the horizon. An
  absorbing step's action is irrelevant: it is zero, with ``log q = 0`` (the policy does not
  act there). No transition ends the future: the absorbing state loops on itself, and a
  shaped cost bootstraps through it, so ``done`` is 0 throughout.
* A **truncated** episode (the time limit) is cut into windows, the last one aligned to end at
  the last step. Its final transition bootstraps (``done = 0``). An episode shorter than K is one
  masked window.

The windows start at 0, K, 2K, …, so no step is lost. Steps that two windows share (only in
the last window of a truncated episode) are counted in both.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import torch

from irl_gan.data import Episode

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class Segments:
    """A batch of B segments of K steps. Observations include the absorbing flag."""

    obs: Tensor  # (B, K, obs_dim + 1)
    acts: Tensor  # (B, K, act_dim)
    next_obs: Tensor  # (B, K, obs_dim + 1)
    done: Tensor  # (B, K): 1 where a step has no future to bootstrap; 0 throughout here (see above)
    mask: Tensor  # (B, K): 1 for real or absorbing steps, 0 for padding of short truncated episodes
    policy_step: Tensor  # (B, K): 1 where the policy acted (log q counts), 0 on absorbing steps

    def __len__(self) -> int:
        return self.obs.shape[0]

    @property
    def k(self) -> int:
        return self.obs.shape[1]

    def index(self, idx) -> "Segments":
        return Segments(*(getattr(self, f.name)[idx] for f in dataclasses.fields(self)))

    @staticmethod
    def cat(parts: Sequence["Segments"]) -> "Segments":
        return Segments(*(torch.cat([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Segments)))

    def occupancy(self, gamma: float) -> np.ndarray:
        """Sampling probabilities that match discounted occupancy. A K = 1 absorbing self-loop
        stands for the whole discounted stay in the absorbing state, 1/(1-γ) steps, so it is
        drawn that much more often; one copy per termination would under-weight the state by
        about a hundredfold, and the cost would never learn what falling is worth."""
        w = np.ones(len(self))
        if self.k == 1:
            w[(self.policy_step.sum(-1) == 0).numpy()] = 1.0 / (1.0 - gamma)
        return w / w.sum()

    def log_q(self, step_log_q: Tensor) -> Tensor:
        """Segment ``log q(x) = Σ_t log π(a_t | s_t)`` over the steps where the policy acted."""
        return (step_log_q * self.policy_step.to(step_log_q.dtype)).sum(-1)

    def mean_per_policy_step(self, step_log_q: Tensor) -> Tensor:
        """Mean of ``log π(a_t | s_t)`` over the steps where the policy acted, in the whole batch."""
        acted = self.policy_step.to(step_log_q.dtype)
        return (step_log_q * acted).sum() / acted.sum().clamp(min=1)


def augment(obs: np.ndarray, absorbing: bool) -> np.ndarray:
    """Observations with the absorbing flag appended (the absorbing state is all zeros but the flag)."""
    flag = np.full(obs.shape[:-1] + (1,), 1.0 if absorbing else 0.0, dtype=np.float64)
    body = np.zeros_like(obs, dtype=np.float64) if absorbing else obs.astype(np.float64)
    return np.concatenate([body, flag], axis=-1)


def window_starts(length: int, k: int) -> list[int]:
    """Start of each K-step window over ``length`` steps; the last is aligned to end at ``length``."""
    if length <= k:
        return [0]
    starts = list(range(0, length - k + 1, k))
    if starts[-1] + k < length:
        starts.append(length - k)
    return starts


def episode_steps(ep: Episode, k: int) -> dict[str, np.ndarray]:
    """Per-step arrays of an episode, padded with absorbing steps after a termination."""
    T = ep.length
    obs = augment(ep.observations[:-1], False)
    nxt = augment(ep.observations[1:], False)
    acts = ep.actions.astype(np.float64)
    done = np.zeros(T)
    acted = np.ones(T)
    if ep.terminated:
        # s_T is absorbing: the last real step leads into it, then it loops on itself.
        n_abs = max(1, (-T) % k) if T >= k else k - T
        absorbing = augment(ep.observations[:1], True)
        nxt[-1] = absorbing[0]
        obs = np.concatenate([obs, np.repeat(absorbing, n_abs, 0)])
        nxt = np.concatenate([nxt, np.repeat(absorbing, n_abs, 0)])
        acts = np.concatenate([acts, np.zeros((n_abs, acts.shape[1]))])
        done = np.concatenate([done, np.zeros(n_abs)])
        acted = np.concatenate([acted, np.zeros(n_abs)])
    return {"obs": obs, "acts": acts, "next_obs": nxt, "done": done, "policy_step": acted}


def make_segments(episodes: Sequence[Episode], k: int, dtype=torch.float32) -> Segments:
    """All K-step windows of ``episodes`` (see the module docstring for episode ends)."""
    if k < 1:
        raise ValueError(f"segment length must be >= 1, got {k}")
    parts: dict[str, list[np.ndarray]] = {f.name: [] for f in dataclasses.fields(Segments)}
    for ep in episodes:
        steps = episode_steps(ep, k)
        n = len(steps["obs"])
        steps["mask"] = np.ones(n)
        if n < k:  # one window, padded with masked-out zeros
            steps = {name: np.concatenate([a, np.zeros((k - n,) + a.shape[1:])]) for name, a in steps.items()}
        idx = np.asarray(window_starts(n, k))[:, None] + np.arange(k)
        for name, arr in steps.items():
            parts[name].append(arr[idx])
    return Segments(**{name: torch.as_tensor(np.concatenate(v), dtype=dtype) for name, v in parts.items()})


def transitions(obs, acts, next_obs, terminated, absorbing: bool = False) -> Segments:
    """K = 1 segments from flat transition arrays (a generator's rollout); a terminated step leads
    into the absorbing state. With ``absorbing`` the rows are absorbing self-loops themselves.

    Built straight in float32: SAC asks for this at every replay sample."""
    n, d = len(obs), np.shape(obs)[1]
    term = np.asarray(terminated, dtype=bool)
    obs_a = np.zeros((n, 1, d + 1), np.float32)
    nxt = np.zeros((n, 1, d + 1), np.float32)
    if absorbing:
        obs_a[:, 0, d] = 1.0
        nxt[:, 0, d] = 1.0
    else:
        obs_a[:, 0, :d] = obs
        nxt[:, 0, :d] = np.where(term[:, None], 0.0, next_obs)
        nxt[:, 0, d] = term
    ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
    return Segments(
        obs=torch.from_numpy(obs_a), acts=torch.as_tensor(np.asarray(acts, dtype=np.float32)[:, None]), next_obs=torch.from_numpy(nxt),
        done=zeros, mask=ones, policy_step=zeros if absorbing else ones,
    )


def rollout_transitions(obs, acts, next_obs, terminated) -> Segments:
    """K = 1 segments of a generator's flat steps for the discriminator: their ``transitions``, then
    one absorbing self-loop per termination, as a terminated demo episode has."""
    seg = transitions(obs, acts, next_obs, terminated)
    m = int(np.sum(terminated))
    if not m:
        return seg
    z_obs, z_act = np.zeros((m, np.shape(obs)[1])), np.zeros((m, np.shape(acts)[1]))
    return Segments.cat([seg, transitions(z_obs, z_act, z_obs, np.ones(m, bool), absorbing=True)])
