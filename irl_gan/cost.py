"""The cost network: one object that is the IRL cost, the discriminator's energy, and the EBM energy.

``CostNet`` gives a per-step cost ``c(s, a)`` (or ``c(s)``); a segment's energy is the sum over
its steps. The shaped form ``c = g(s, a) + h(s) - γ h(s')`` is AIRL's ``f = -c``: ``g`` is
the reward that transfers, ``h`` a potential that absorbs shaping. Inputs are normalised
by running statistics that are saved with the model.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
import torch.nn as nn

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class CostConfig:
    """What a cost network is; saved beside its weights so it loads back by itself."""

    obs_dim: int
    act_dim: int
    state_only: bool = False
    """``c(s)`` instead of ``c(s, a)``: for AIRL's disentangled, transferable reward."""
    shaped: bool = False
    """``c = g + h(s) - γ h(s')``; the transfer cost is ``g`` alone."""
    gamma: float = 0.99
    hidden: tuple[int, ...] = (64, 64)
    potential_hidden: tuple[int, ...] | None = None
    """Hidden layers of the shaping potential ``h`` [default: ``hidden``]."""


class RunningNorm(nn.Module):
    """Running mean and variance of the inputs, kept in buffers so they save with the model."""

    def __init__(self, dim: int, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim, dtype=torch.float64))
        self.register_buffer("var", torch.ones(dim, dtype=torch.float64))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.clip, self.eps = clip, eps
        self._affine: dict = {}  # (dtype, device) -> (mean, 1/std), rebuilt after every change

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        self._affine.clear()
        x = x.reshape(-1, x.shape[-1]).double()
        n, mean, var = x.shape[0], x.mean(0), x.var(0, unbiased=False)
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def _load_from_state_dict(self, *args, **kwargs):
        self._affine.clear()
        super()._load_from_state_dict(*args, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        key = (x.dtype, x.device)
        if key not in self._affine:
            with torch.no_grad():
                self._affine[key] = (self.mean.to(x.dtype), torch.rsqrt(self.var + self.eps).to(x.dtype))
        mean, inv_std = self._affine[key]
        return ((x - mean) * inv_std).clamp(-self.clip, self.clip)


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int = 1) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(in_dim, h), nn.ReLU()]
        in_dim = h
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class CostNet(nn.Module):
    """Per-step cost ``c_θ``; ``energy`` sums it over the steps of segments."""

    def __init__(self, config: CostConfig):
        super().__init__()
        self.config = config
        self.obs_norm = RunningNorm(config.obs_dim)
        self.act_norm = RunningNorm(config.act_dim)
        in_dim = config.obs_dim + (0 if config.state_only else config.act_dim)
        self.g = mlp(in_dim, config.hidden)
        self.h = mlp(config.obs_dim, config.potential_hidden or config.hidden) if config.shaped else None

    def update_normalisation(self, obs: Tensor, acts: Tensor) -> None:
        self.obs_norm.update(obs)
        self.act_norm.update(acts)

    def base_cost(self, obs: Tensor, acts: Tensor) -> Tensor:
        """``g(s, a)`` (or ``g(s)``): the cost without shaping, the one that transfers."""
        return self._g(self.obs_norm(obs), acts)

    def _g(self, obs_n: Tensor, acts: Tensor) -> Tensor:
        return self.g_normalised(obs_n, self.act_norm(acts))

    def g_normalised(self, obs_n: Tensor, acts_n: Tensor) -> Tensor:
        """``g`` of inputs already normalised (the coordinates the gradient penalty measures in)."""
        x = obs_n if self.config.state_only else torch.cat([obs_n, acts_n], dim=-1)
        return self.g(x).squeeze(-1)

    def potential(self, obs: Tensor) -> Tensor:
        assert self.h is not None
        return self.h(self.obs_norm(obs)).squeeze(-1)

    def forward(self, obs: Tensor, acts: Tensor, next_obs: Tensor | None = None, done: Tensor | None = None) -> Tensor:
        """Per-step cost, shape ``obs.shape[:-1]``. The shaped form needs ``next_obs`` and ``done``."""
        obs_n = self.obs_norm(obs)
        c = self._g(obs_n, acts)
        if self.h is not None:
            if next_obs is None or done is None:
                raise ValueError("a shaped cost needs next_obs and done")
            # h(s) and h(s') in one pass
            h = self.h(torch.stack([obs_n, self.obs_norm(next_obs)])).squeeze(-1)
            c = c + h[0] - self.config.gamma * (1.0 - done.to(c.dtype)) * h[1]
        return c

    def energy(self, obs: Tensor, acts: Tensor, next_obs=None, done=None, mask: Tensor | None = None) -> Tensor:
        """Segment energy ``c(x) = Σ_t c(s_t, a_t)`` over the last-but-one axis (steps)."""
        c = self(obs, acts, next_obs, done)
        if mask is not None:
            c = c * mask.to(c.dtype)
        return c.sum(-1)

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        from irl_gan.io import atomic_path

        with atomic_path(path) as tmp:
            torch.save({"config": dataclasses.asdict(self.config), "state_dict": self.state_dict()}, tmp)

    @classmethod
    def load(cls, path: str | Path) -> "CostNet":
        blob = torch.load(path, map_location="cpu", weights_only=True)
        config = blob["config"]
        config["hidden"] = tuple(config["hidden"])
        if config.get("potential_hidden") is not None:
            config["potential_hidden"] = tuple(config["potential_hidden"])
        net = cls(CostConfig(**config))
        net.load_state_dict(blob["state_dict"])
        return net


def gradient_penalty(cost: CostNet, demo_obs: Tensor, demo_acts: Tensor, gen_obs: Tensor, gen_acts: Tensor, weight: Tensor) -> Tensor:
    """WGAN-GP's penalty ``E[(‖∇g(x̂)‖ - 1)²]`` at points ``x̂`` drawn uniformly on the segments
    between paired demo and generated steps, in normalised input coordinates, averaged with
    ``weight`` (0 where either step is padding). It keeps the cost sloped across the gap between
    the demos and the policy's samples, where a saturated discriminator would leave it flat."""
    with torch.no_grad():
        eps = torch.rand(*demo_obs.shape[:-1], 1, dtype=demo_obs.dtype)
        obs = eps * cost.obs_norm(demo_obs) + (1 - eps) * cost.obs_norm(gen_obs)
        acts = eps * cost.act_norm(demo_acts) + (1 - eps) * cost.act_norm(gen_acts)
    obs.requires_grad_(True)
    acts.requires_grad_(True)
    g = cost.g_normalised(obs, acts)
    inputs = [obs] if cost.config.state_only else [obs, acts]
    grads = torch.autograd.grad(g.sum(), inputs, create_graph=True)
    norm = torch.sqrt(sum((gr**2).sum(-1) for gr in grads) + 1e-12)
    weight = weight.to(norm.dtype)
    return (weight * (norm - 1.0) ** 2).sum() / weight.sum().clamp(min=1)


def lcr_penalty(step_cost: Tensor, mask: Tensor | None = None) -> Tensor:
    """Local constant rate (GCL): mean squared second difference of the cost along demos."""
    second = step_cost[..., 2:] - 2 * step_cost[..., 1:-1] + step_cost[..., :-2]
    if mask is not None:
        m = mask[..., 2:] * mask[..., 1:-1] * mask[..., :-2]
        return (second**2 * m).sum() / m.sum().clamp(min=1)
    return (second**2).mean() if second.numel() else step_cost.sum() * 0


def mono_penalty(step_cost: Tensor, mask: Tensor | None = None) -> Tensor:
    """Monotonic decrease (GCL): ``max(0, c_t - c_{t-1} - 1)²``, the cost should fall along demos."""
    rise = torch.relu(step_cost[..., 1:] - step_cost[..., :-1] - 1.0) ** 2
    if mask is not None:
        m = mask[..., 1:] * mask[..., :-1]
        return (rise * m).sum() / m.sum().clamp(min=1)
    return rise.mean() if rise.numel() else step_cost.sum() * 0
