"""The paper's three identities, checked numerically in float64 (``irl-gan verify``).

With equal-size demo and generated batches and ``Z*`` the ``Z`` that minimises ``L_disc``:

1. ``Z*`` equals the importance-sampling estimate ``Ẑ`` (with ``p̃ = exp(-c)/Z*`` in ``μ̃``);
2. ``∇_θ L_disc(θ, Z*) = ∇_θ L_cost(θ)``: the discriminator's gradient is the MaxEnt IRL gradient;
3. ``L_gen = E_gen[log(1 - D) - log D]`` equals ``E_gen[c + log q] + log Z``.

Each side is computed its own way. ``Z*`` comes from minimising ``L_disc`` itself: bisection
on its derivative in ``log Z``, taken by autograd through the loss, not from the closed-form
root. ``Ẑ`` comes from the importance weights. ``L_gen`` comes from ``log D`` and
``log(1 - D)``, not from the logit.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from irl_gan import objective as obj
from irl_gan.cost import CostNet
from irl_gan.segments import Segments

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class Identity:
    name: str
    lhs: float
    rhs: float
    discrepancy: float  # relative: |lhs - rhs| / max(1, |rhs|) (a vector norm for gradients)


def _disc_loss_at(cost: CostNet, demo: Segments, gen: Segments, lq_demo: Tensor, lq_gen: Tensor, log_z: Tensor) -> Tensor:
    e_demo = cost.energy(demo.obs, demo.acts, demo.next_obs, demo.done, demo.mask)
    e_gen = cost.energy(gen.obs, gen.acts, gen.next_obs, gen.done, gen.mask)
    # -log D = softplus(-ℓ), -log(1 - D) = softplus(ℓ)
    return F.softplus(-obj.logit(e_demo, lq_demo, log_z)).mean() + F.softplus(obj.logit(e_gen, lq_gen, log_z)).mean()


def minimise_disc_log_z(cost, demo, gen, lq_demo, lq_gen, iters: int = 400) -> Tensor:
    """``argmin_{log Z} L_disc`` by bisection on ``∂L_disc/∂log Z`` (autograd through the loss)."""

    def slope(lz: float) -> float:
        z = torch.tensor(lz, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(_disc_loss_at(cost, demo, gen, lq_demo, lq_gen, z), z)
        return float(g)

    with torch.no_grad():
        a = torch.cat([-cost.energy(s.obs, s.acts, s.next_obs, s.done, s.mask) - lq for s, lq in ((demo, lq_demo), (gen, lq_gen))])
    lo, hi = float(a.min()) - 50.0, float(a.max()) + 50.0
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if slope(mid) > 0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-14 * max(1.0, abs(mid)):
            break
    return torch.tensor(0.5 * (lo + hi), dtype=torch.float64)


def check_identities(cost: CostNet, demo: Segments, gen: Segments, demo_log_pi: Tensor, gen_log_pi: Tensor) -> list[Identity]:
    """Evaluate the three identities for ``cost`` (float64) on equal-size batches."""
    if len(demo) != len(gen):
        raise ValueError(f"the identities need equal batches, got {len(demo)} demo and {len(gen)} generated segments")
    cost = cost.double()
    demo, gen = (Segments(*(t.double() for t in dataclasses.astuple(s))) for s in (demo, gen))
    lq_demo, lq_gen = demo.log_q(demo_log_pi.double()), gen.log_q(gen_log_pi.double())
    params = [p for p in cost.parameters() if p.requires_grad]

    e_demo = cost.energy(demo.obs, demo.acts, demo.next_obs, demo.done, demo.mask)
    e_gen = cost.energy(gen.obs, gen.acts, gen.next_obs, gen.done, gen.mask)
    log_z_star = obj.optimal_log_z(e_demo.detach(), lq_demo, e_gen.detach(), lq_gen)

    # 1. Ẑ from the importance weights over the union batch, proposal at Z*.
    e_union, lq_union = torch.cat([e_demo, e_gen]), torch.cat([lq_demo, lq_gen])
    log_z_hat = obj.log_z_importance(e_union.detach(), lq_union, log_z_star)
    one = Identity(
        "1. log Z* (root of E_demo[1-D] = E_gen[D]) = log Z_hat (importance sampling)",
        float(log_z_star),
        float(log_z_hat),
        float(abs(log_z_star - log_z_hat) / max(1.0, abs(float(log_z_hat)))),
    )

    # 2. Gradients in θ of the discriminator loss at Z* and of the GCL cost loss.
    g_disc = torch.autograd.grad(_disc_loss_at(cost, demo, gen, lq_demo, lq_gen, log_z_star), params)
    g_cost = torch.autograd.grad(obj.cost_loss(e_demo, e_union, lq_union, log_z_star), params)
    flat_disc, flat_cost = torch.cat([g.reshape(-1) for g in g_disc]), torch.cat([g.reshape(-1) for g in g_cost])
    two = Identity(
        "2. grad_theta L_disc(theta, Z*) = grad_theta L_cost(theta)  [norms]",
        float(flat_disc.norm()),
        float(flat_cost.norm()),
        float((flat_disc - flat_cost).norm() / max(1.0, float(flat_cost.norm()))),
    )

    # 3. The generator objective from log D and log(1 - D), against MaxEnt RL on the cost.
    with torch.no_grad():
        ell = obj.logit(e_gen, lq_gen, log_z_star)
        log_d, log_1md = -F.softplus(-ell), -F.softplus(ell)
        l_gen = (log_1md - log_d).mean()
        maxent = (e_gen + lq_gen).mean() + log_z_star
    three = Identity(
        "3. L_gen = E_gen[log(1-D) - log D] = E_gen[c + log q] + log Z",
        float(l_gen),
        float(maxent),
        float(abs(l_gen - maxent) / max(1.0, abs(float(maxent)))),
    )
    return [one, two, three]
