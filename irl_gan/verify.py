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

import irl_gan.objective as obj
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


@dataclasses.dataclass(frozen=True)
class Report:
    """One verification case: where the batch came from, its shape, and the identities."""

    label: str
    k: int
    segments: int
    max_abs_log_q: float
    identities: list[Identity]


def _equal_halves(demo: Segments, gen: Segments, demo_lp: Tensor, gen_lp: Tensor, n_max: int, rng):
    n = min(len(demo), len(gen), n_max)
    di = torch.as_tensor(rng.choice(len(demo), n, replace=False))
    gi = torch.as_tensor(rng.choice(len(gen), n, replace=False))
    return demo.index(di), gen.index(gi), demo_lp[di], gen_lp[gi]


def verify_random(ks=(1, 10, 100), scales=(1.0, 100.0), seed: int = 0) -> list[Report]:
    """The identities for random cost networks on random segments and log-densities."""
    import numpy as np

    from irl_gan.cost import CostConfig
    from irl_gan.data import Episode
    from irl_gan.segments import make_segments

    rng = np.random.default_rng(seed)
    reports = []
    for k in ks:
        for scale in scales:
            torch.manual_seed(int(rng.integers(2**31)))
            eps = lambda term: [  # noqa: E731
                Episode(rng.normal(size=(k * 3 + 1, 5)), rng.uniform(-1, 1, (k * 3, 2)), rng.normal(size=k * 3), term, not term)
                for _ in range(8)
            ]
            demo, gen = make_segments(eps(False), k, torch.float64), make_segments(eps(True), k, torch.float64)
            lp_demo = torch.as_tensor(rng.normal(size=tuple(demo.policy_step.shape)) - 1.0) * scale
            lp_gen = torch.as_tensor(rng.normal(size=tuple(gen.policy_step.shape))) * scale
            demo, gen, lp_demo, lp_gen = _equal_halves(demo, gen, lp_demo, lp_gen, 64, rng)
            cost = CostNet(CostConfig(6, 2, hidden=(32, 32)))
            ids = check_identities(cost, demo, gen, lp_demo, lp_gen)
            reports.append(Report(f"random, |log pi| scale {scale:g}", k, len(demo), float(demo.log_q(lp_demo).abs().max()), ids))
    return reports


def verify_demos(demos, spec, ks, seed: int = 0, max_segments: int = 256) -> list[Report]:
    """The identities on a real demo batch against a fresh PPO policy's own rollouts.

    The fresh policy is the generator: ``log q`` of the demo actions and of its own actions
    is evaluated under it, and a fresh cost network (normalised on the demos) is the energy.
    """
    import numpy as np
    from stable_baselines3 import PPO

    from irl_gan.cost import CostConfig
    from irl_gan.generator import PolicyDensity
    from irl_gan.rollout import rollout
    from irl_gan.segments import make_segments

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    env = spec.make_env()
    try:
        model = PPO("MlpPolicy", env, seed=seed, device="cpu")
        density = PolicyDensity(model)

        def policy(obs):
            return model.predict(obs, deterministic=False)[0]

        n_eps = min(len(demos.episodes), 10)
        gen_eps = rollout(env, policy, n_eps, seed=seed + 10_000, progress=False)
    finally:
        env.close()
    demo_eps = list(demos.episodes[:n_eps])
    obs_dim, act_dim = demo_eps[0].observations.shape[1] + 1, demo_eps[0].actions.shape[1]
    reports = []
    for k in ks:
        k = spec.horizon if k == "full" else int(k)
        demo, gen = make_segments(demo_eps, k, torch.float64), make_segments(gen_eps, k, torch.float64)
        # log π per step, 0 on absorbing steps (the policy does not act there)
        lp_demo = density.log_prob(demo.obs[..., :-1], demo.acts) * demo.policy_step
        lp_gen = density.log_prob(gen.obs[..., :-1], gen.acts) * gen.policy_step
        demo, gen, lp_demo, lp_gen = _equal_halves(demo, gen, lp_demo, lp_gen, max_segments, rng)
        cost = CostNet(CostConfig(obs_dim, act_dim))
        cost.update_normalisation(demo.obs.reshape(-1, obs_dim).float(), demo.acts.reshape(-1, act_dim).float())
        ids = check_identities(cost, demo, gen, lp_demo, lp_gen)
        label = f"{demos.path.name} vs fresh PPO on {spec.env_id}"
        reports.append(Report(label, k, len(demo), float(demo.log_q(lp_demo).abs().max()), ids))
    return reports
