"""Estimators: how the cost network and the generator's density combine into a loss and a reward.

Each estimator states two things and nothing else: ``loss`` (to minimise over the cost
network and its own parameters) and ``reward`` (per step, handed to the policy optimiser).
All share ``CostNet``, ``Segments`` and the generator's per-step ``log π``. Adding one means
writing a class here and naming it in ``ESTIMATORS``; the trainer does not change.

| name      | discriminator logit ℓ(x)               | log Z                   | policy reward per step      |
|-----------|----------------------------------------|-------------------------|-----------------------------|
| gcl       | (none: importance-sampled MaxEnt IRL)  | solved each update      | -c - log π                  |
| gan-gcl   | -c(x) - log Z - log q(x)               | learned scalar          | -c - log π - log Z / K      |
| airl      | f - log π, f = -(g + h(s) - γ h(s'))   | absorbed in f           | f - log π                   |
| gail      | free-form D(s, a) network              | none                    | -log(1 - D) = softplus(ℓ)   |
| bc        | (none: supervised on demo actions)     | none                    | none                        |
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn as nn
import torch.nn.functional as F

import irl_gan.objective as obj
from irl_gan.cost import CostConfig, CostNet, gradient_penalty, lcr_penalty, mono_penalty
from irl_gan.segments import Segments

Tensor = torch.Tensor


@dataclasses.dataclass
class Batch:
    """What an estimator update sees: equal-size demo and generated segments, each with ``log π``
    per step under the current policy."""

    demo: Segments
    gen: Segments
    demo_log_pi: Tensor
    gen_log_pi: Tensor


@dataclasses.dataclass(frozen=True)
class Regularisers:
    """Regularisers of the cost (weights; 0 = off): guided cost learning's lcr and mono along demo
    segments, and a gradient penalty between demo and generated steps (``cost.gradient_penalty``)."""

    lcr: float = 0.0
    mono: float = 0.0
    grad_penalty: float = 0.0

    def __call__(self, cost: CostNet, demo: Segments, gen: Segments) -> Tensor:
        return self.along_demos(cost, demo) + self.gradient(cost, demo, gen)

    def along_demos(self, cost: CostNet, demo: Segments) -> Tensor:
        if not (self.lcr or self.mono):
            return torch.zeros(())
        step = cost(demo.obs, demo.acts, demo.next_obs, demo.done)
        return self.lcr * lcr_penalty(step, demo.mask) + self.mono * mono_penalty(step, demo.mask)

    def gradient(self, cost: CostNet, demo: Segments, gen: Segments) -> Tensor:
        """On the transferable part ``g`` of the cost (all of it unless shaped); step t of demo
        segment i is paired with step t of generated segment i."""
        if not self.grad_penalty:
            return torch.zeros(())
        return self.grad_penalty * gradient_penalty(cost, demo.obs, demo.acts, gen.obs, gen.acts, demo.mask * gen.mask)


def _step_cost(cost: CostNet, seg: Segments) -> Tensor:
    """Per-step cost, zero on padding."""
    return cost(seg.obs, seg.acts, seg.next_obs, seg.done) * seg.mask


def _energy(cost: CostNet, seg: Segments) -> Tensor:
    """Segment energy ``Σ_t c(s_t, a_t)``."""
    return _step_cost(cost, seg).sum(-1)


class Estimator(nn.Module):
    """Base: holds the shared cost network (and any parameters of its own)."""

    name = "base"
    uses_cost = True

    def __init__(self, cost: CostNet, regularisers: Regularisers = Regularisers(), k: int = 1):
        super().__init__()
        self.cost = cost
        self.regularisers = regularisers
        self.k = k  # the segment length the discriminator sees

    def loss(self, batch: Batch) -> tuple[Tensor, dict]:
        raise NotImplementedError

    def reward(self, seg: Segments, step_log_pi: Tensor) -> Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def diagnostics(self, logit_demo: Tensor, logit_gen: Tensor, e_demo: Tensor, e_gen: Tensor) -> dict:
        return {
            "energy_demo": float(e_demo.mean()),
            "energy_gen": float(e_gen.mean()),
            "disc_acc_demo": float((logit_demo > 0).double().mean()),
            "disc_acc_gen": float((logit_gen < 0).double().mean()),
        }


class GCL(Estimator):
    """Guided cost learning: importance-sampled MaxEnt IRL, ``E_demo[c] + log Ẑ``."""

    name = "gcl"

    def loss(self, batch: Batch) -> tuple[Tensor, dict]:
        e_demo, e_gen = _energy(self.cost, batch.demo), _energy(self.cost, batch.gen)
        lq_demo, lq_gen = batch.demo.log_q(batch.demo_log_pi), batch.gen.log_q(batch.gen_log_pi)
        # Z of the proposal μ̃: the self-consistent value, which is also the discriminator's optimum.
        log_z = obj.optimal_log_z(e_demo.detach(), lq_demo, e_gen.detach(), lq_gen)
        e_union, lq_union = torch.cat([e_demo, e_gen]), torch.cat([lq_demo, lq_gen])
        loss = obj.cost_loss(e_demo, e_union, lq_union, log_z) + self.regularisers(self.cost, batch.demo, batch.gen)
        log_w = obj.log_importance_weights(e_union.detach(), lq_union, log_z)
        diag = self.diagnostics(obj.logit(e_demo, lq_demo, log_z), obj.logit(e_gen, lq_gen, log_z), e_demo, e_gen)
        diag.update(
            log_z=float(log_z),
            log_z_is=float(obj.log_z_importance(e_union.detach(), lq_union, log_z)),
            ess=float(obj.effective_sample_size(log_w)),
            demo_log_lik=float((-e_demo.detach() - log_z).mean()),
        )
        return loss, diag

    def reward(self, seg: Segments, step_log_pi: Tensor) -> Tensor:
        return -_step_cost(self.cost, seg) - step_log_pi * seg.policy_step


class GANGCL(Estimator):
    """The paper's GAN: discriminator ``D = exp(-c) / (exp(-c) + Z q)`` with a learned ``log Z``."""

    name = "gan-gcl"

    def __init__(self, cost: CostNet, regularisers: Regularisers = Regularisers(), k: int = 1):
        super().__init__(cost, regularisers, k)
        self.log_z = nn.Parameter(torch.zeros(()))
        self.register_buffer("log_z_ready", torch.zeros((), dtype=torch.bool))

    def loss(self, batch: Batch) -> tuple[Tensor, dict]:
        e_demo, e_gen = _energy(self.cost, batch.demo), _energy(self.cost, batch.gen)
        lq_demo, lq_gen = batch.demo.log_q(batch.demo_log_pi), batch.gen.log_q(batch.gen_log_pi)
        if not self.log_z_ready:
            # Start log Z at the discriminator's optimum for the first batch, not at an arbitrary 0:
            # segment log-densities run into the thousands and a scalar learns its way there slowly.
            with torch.no_grad():
                self.log_z.fill_(float(obj.optimal_log_z(e_demo, lq_demo, e_gen, lq_gen)))
                self.log_z_ready.fill_(True)
        log_z = self.log_z.to(e_demo.dtype)
        l_demo, l_gen = obj.logit(e_demo, lq_demo, log_z), obj.logit(e_gen, lq_gen, log_z)
        loss = obj.disc_loss(l_demo, l_gen) + self.regularisers(self.cost, batch.demo, batch.gen)
        e_union, lq_union = torch.cat([e_demo, e_gen]).detach(), torch.cat([lq_demo, lq_gen])
        log_w = obj.log_importance_weights(e_union, lq_union, log_z.detach())
        diag = self.diagnostics(l_demo, l_gen, e_demo, e_gen)
        diag.update(
            log_z=float(self.log_z.detach()),
            log_z_is=float(obj.log_z_importance(e_union, lq_union, log_z.detach())),
            ess=float(obj.effective_sample_size(log_w)),
            demo_log_lik=float((-e_demo.detach() - log_z.detach()).mean()),
        )
        return loss, diag

    def reward(self, seg: Segments, step_log_pi: Tensor) -> Tensor:
        # log Z is shared by the K steps of a training segment, whatever the segments given here.
        per_step_log_z = self.log_z.detach().to(step_log_pi.dtype) / self.k
        # Absorbing steps are part of a segment: they pay the cost and the log Z share; only
        # -log π is absent where the policy does not act.
        return (-_step_cost(self.cost, seg) - per_step_log_z) * seg.mask - step_log_pi * seg.policy_step


class AIRL(Estimator):
    """Adversarial IRL: per-transition ``D = exp(f) / (exp(f) + π)`` with a shaped ``f = -c``."""

    name = "airl"

    def loss(self, batch: Batch) -> tuple[Tensor, dict]:
        c_demo, c_gen = _step_cost(self.cost, batch.demo), _step_cost(self.cost, batch.gen)
        l_demo = (-c_demo - batch.demo_log_pi * batch.demo.policy_step)[batch.demo.mask > 0]
        l_gen = (-c_gen - batch.gen_log_pi * batch.gen.policy_step)[batch.gen.mask > 0]
        loss = obj.disc_loss(l_demo, l_gen) + self.regularisers(self.cost, batch.demo, batch.gen)
        return loss, self.diagnostics(l_demo, l_gen, c_demo.sum(-1), c_gen.sum(-1))

    def reward(self, seg: Segments, step_log_pi: Tensor) -> Tensor:
        return -_step_cost(self.cost, seg) - step_log_pi * seg.policy_step


class GAIL(Estimator):
    """GAIL: a free-form per-transition discriminator, no density, no cost to transfer."""

    name = "gail"
    uses_cost = False

    def loss(self, batch: Batch) -> tuple[Tensor, dict]:
        # The network's output is the logit itself; its sign convention is that of a cost.
        c_demo, c_gen = _step_cost(self.cost, batch.demo), _step_cost(self.cost, batch.gen)
        l_demo, l_gen = (-c_demo)[batch.demo.mask > 0], (-c_gen)[batch.gen.mask > 0]
        loss = obj.disc_loss(l_demo, l_gen) + self.regularisers.gradient(self.cost, batch.demo, batch.gen)
        return loss, self.diagnostics(l_demo, l_gen, c_demo.sum(-1), c_gen.sum(-1))

    def reward(self, seg: Segments, step_log_pi: Tensor) -> Tensor:
        return F.softplus(-_step_cost(self.cost, seg)) * seg.mask


class BC(Estimator):
    """Behaviour cloning: maximise ``log π`` of demo actions. No discriminator and no reward; the
    loss is over the policy's parameters, so ``demo_log_pi`` must carry gradients."""

    name = "bc"
    uses_cost = False

    def loss(self, batch: Batch) -> tuple[Tensor, dict]:
        nll = -batch.demo.mean_per_policy_step(batch.demo_log_pi)
        return nll, {"demo_log_lik": float(-nll.detach())}

    def reward(self, seg: Segments, step_log_pi: Tensor) -> Tensor:
        raise TypeError("bc hands no reward to a policy optimiser; it trains the policy directly")


ESTIMATORS: dict[str, type[Estimator]] = {cls.name: cls for cls in (GCL, GANGCL, AIRL, GAIL, BC)}


def make_estimator(name: str, config: CostConfig, regularisers: Regularisers = Regularisers(), k: int = 1) -> Estimator:
    """An estimator with a fresh cost network; AIRL's cost is shaped, as its definition requires."""
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {name!r}; choose from {sorted(ESTIMATORS)}")
    if name == "airl" and not config.shaped:
        config = dataclasses.replace(config, shaped=True)
    return ESTIMATORS[name](CostNet(config), regularisers, k)
