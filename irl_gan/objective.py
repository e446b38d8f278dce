"""The unified objective: one cost as GAN discriminator, MaxEnt IRL cost and energy.

Notation of ``docs/concepts.md``: a segment ``x`` has energy ``c(x) = Σ_t c(s_t, a_t)`` and generator
log-density ``log q(x) = Σ_t log π(a_t | s_t)``. The model density is ``p(x) = exp(-c(x)) / Z``.

* discriminator ``D(x) = p / (p + q)``, with logit ``ℓ(x) = -c(x) - log Z - log q(x)``
* discriminator loss ``L_disc = E_demo[-log D] + E_gen[-log(1 - D)]``
* GCL cost loss ``L_cost = E_demo[c] + log mean_{x∼μ}[exp(-c(x)) / μ̃(x)]``, where ``μ`` is
  the union of equal demo and generated batches and ``μ̃ = ½ exp(-c)/Z + ½ q``, held constant
* generator loss ``L_gen = E_gen[log(1 - D) - log D] = E_gen[c + log q] + log Z``

Everything is in logits and log-densities (``softplus``, ``logsumexp``, ``logaddexp``): a
1000-step ``log q`` is in the thousands and ``exp`` of it overflows.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def logit(energy: Tensor, log_q: Tensor, log_z: Tensor | float) -> Tensor:
    """``ℓ = log D - log(1 - D) = -c - log Z - log q``."""
    return -energy - log_z - log_q


def disc_loss(logit_demo: Tensor, logit_gen: Tensor) -> Tensor:
    """Binary cross-entropy on logits: ``E_demo[-log D] + E_gen[-log(1 - D)]``."""
    return F.softplus(-logit_demo).mean() + F.softplus(logit_gen).mean()


def gen_loss(logit_gen: Tensor) -> Tensor:
    """``E_gen[log(1 - D) - log D] = -E_gen[ℓ]``."""
    return -logit_gen.mean()


def log_mixture(energy: Tensor, log_q: Tensor, log_z: Tensor | float) -> Tensor:
    """``log μ̃ = log(½ exp(-c)/Z + ½ q)``, the importance-sampling proposal."""
    return torch.logaddexp(-energy - log_z, log_q) - math.log(2.0)


def log_importance_weights(energy: Tensor, log_q: Tensor, log_z: Tensor | float) -> Tensor:
    """``log w = -c - log μ̃`` with ``μ̃`` held constant (no gradient through the proposal)."""
    return -energy - log_mixture(energy.detach(), log_q, log_z).detach()


def log_z_importance(energy: Tensor, log_q: Tensor, log_z: Tensor | float) -> Tensor:
    """``log Ẑ = log mean_{x∼μ} exp(-c(x)) / μ̃(x)`` over the union batch."""
    log_w = log_importance_weights(energy, log_q, log_z)
    return torch.logsumexp(log_w, dim=0) - math.log(log_w.numel())


def cost_loss(energy_demo: Tensor, energy_union: Tensor, log_q_union: Tensor, log_z: Tensor | float) -> Tensor:
    """GCL's importance-sampled MaxEnt IRL loss ``E_demo[c] + log Ẑ``."""
    return energy_demo.mean() + log_z_importance(energy_union, log_q_union, log_z)


def effective_sample_size(log_w: Tensor) -> Tensor:
    """``(Σw)² / Σw²`` from log-weights, computed without leaving log space."""
    return torch.exp(2 * torch.logsumexp(log_w, 0) - torch.logsumexp(2 * log_w, 0))


@torch.no_grad()
def optimal_log_z(
    energy_demo: Tensor, log_q_demo: Tensor, energy_gen: Tensor, log_q_gen: Tensor, tol: float = 1e-13
) -> Tensor:
    """The ``log Z`` minimising ``L_disc``: the root of ``E_demo[1 - D] = E_gen[D]``.

    ``E_demo[1 - D] - E_gen[D]`` increases strictly with ``log Z``, so the root is unique; it is
    bracketed by the extreme values of ``-c - log q`` and found by bisection in float64, which
    is immune to the huge magnitudes of trajectory-level ``log q``.
    """
    a_demo = (-energy_demo - log_q_demo).double()
    a_gen = (-energy_gen - log_q_gen).double()

    def excess(lz: Tensor) -> Tensor:
        return torch.sigmoid(lz - a_demo).mean() - torch.sigmoid(a_gen - lz).mean()

    both = torch.cat([a_demo, a_gen])
    lo, hi = both.min() - 50.0, both.max() + 50.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= tol * max(1.0, float(abs(mid))):
            break
    return (0.5 * (lo + hi)).to(energy_demo.dtype)
