"""The paper's identities, checked in float64 over random networks, batch sizes and K."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irl_gan import objective as obj
from irl_gan.cost import CostConfig, CostNet
from irl_gan.data import Episode
from irl_gan.estimators import ESTIMATORS, Batch, make_estimator
from irl_gan.segments import make_segments
from irl_gan.verify import check_identities

OBS, ACT = 3, 2


def random_episodes(rng, n, length, terminated):
    return [
        Episode(rng.normal(size=(length + 1, OBS)), rng.uniform(-1, 1, (length, ACT)), rng.normal(size=length), terminated, not terminated)
        for _ in range(n)
    ]


def random_batch(seed, n_episodes, length, k, log_q_scale, dtype=torch.float64):
    rng = np.random.default_rng(seed)
    demo = make_segments(random_episodes(rng, n_episodes, length, False), k, dtype)
    gen = make_segments(random_episodes(rng, n_episodes, length, True), k, dtype)
    n = min(len(demo), len(gen))
    demo, gen = demo.index(slice(0, n)), gen.index(slice(0, n))
    # Demo actions are unlikely under the generator; its own actions are likely.
    lp_demo = torch.as_tensor(rng.normal(size=(n, k)) - 1.0, dtype=dtype) * log_q_scale
    lp_gen = torch.as_tensor(rng.normal(size=(n, k)), dtype=dtype) * log_q_scale
    return demo, gen, lp_demo, lp_gen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    n_episodes=st.integers(1, 6),
    length=st.integers(1, 40),
    k=st.integers(1, 40),
    log_q_scale=st.sampled_from([0.1, 1.0, 30.0, 1000.0]),
    hidden=st.sampled_from([(8,), (16, 16), (32, 8, 8)]),
    state_only=st.booleans(),
    shaped=st.booleans(),
)
def test_the_three_identities_hold_to_1e9(seed, n_episodes, length, k, log_q_scale, hidden, state_only, shaped):
    torch.manual_seed(seed % 10_000)
    demo, gen, lp_demo, lp_gen = random_batch(seed, n_episodes, length, k, log_q_scale)
    cost = CostNet(CostConfig(OBS + 1, ACT, state_only=state_only, shaped=shaped, hidden=hidden))
    for identity in check_identities(cost, demo, gen, lp_demo, lp_gen):
        assert identity.discrepancy < 1e-9, identity


def test_identity_1_fails_away_from_the_optimum():
    # The check is not vacuous: at a Z other than Z*, the importance estimate disagrees.
    demo, gen, lp_demo, lp_gen = random_batch(0, 3, 20, 5, 1.0)
    cost = CostNet(CostConfig(OBS + 1, ACT)).double()
    e_demo = cost.energy(demo.obs.double(), demo.acts.double(), mask=demo.mask.double())
    e_gen = cost.energy(gen.obs.double(), gen.acts.double(), mask=gen.mask.double())
    lq_demo, lq_gen = demo.log_q(lp_demo), gen.log_q(lp_gen)
    z_star = obj.optimal_log_z(e_demo, lq_demo, e_gen, lq_gen)
    union, lq = torch.cat([e_demo, e_gen]).detach(), torch.cat([lq_demo, lq_gen])
    assert abs(obj.log_z_importance(union, lq, z_star) - z_star) < 1e-10
    assert abs(obj.log_z_importance(union, lq, z_star + 1.0) - (z_star + 1.0)) > 1e-3


@pytest.mark.parametrize("log_q_scale", [0.3, 1.0, 3.0])
def test_closed_form_root_matches_the_minimiser_of_the_loss(log_q_scale):
    # Where D does not saturate the minimiser is unique (saturated, L_disc is flat in log Z).
    from irl_gan.verify import minimise_disc_log_z

    demo, gen, lp_demo, lp_gen = random_batch(3, 4, 30, 10, log_q_scale)
    cost = CostNet(CostConfig(OBS + 1, ACT)).double()
    demo, gen = demo.index(slice(None)), gen.index(slice(None))
    e = lambda s: cost.energy(s.obs.double(), s.acts.double(), mask=s.mask.double())  # noqa: E731
    closed = obj.optimal_log_z(e(demo), demo.log_q(lp_demo), e(gen), gen.log_q(lp_gen))
    from irl_gan.segments import Segments
    import dataclasses

    d64 = Segments(*(t.double() for t in dataclasses.astuple(demo)))
    g64 = Segments(*(t.double() for t in dataclasses.astuple(gen)))
    searched = minimise_disc_log_z(cost, d64, g64, demo.log_q(lp_demo), gen.log_q(lp_gen))
    assert float(abs(closed - searched)) < 1e-9 * max(1.0, abs(float(closed)))


@pytest.mark.parametrize("name", ["gcl", "gan-gcl", "airl", "gail"])
@pytest.mark.parametrize("log_q_scale", [1e3, 1e5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_losses_and_gradients_stay_finite_for_huge_log_q(name, log_q_scale, dtype):
    # |log q| up to 1e5: 1000-step trajectories of a confident policy.
    demo, gen, lp_demo, lp_gen = random_batch(1, 2, 1000, 1000, log_q_scale / 1000 * 3, dtype)
    est = make_estimator(name, CostConfig(OBS + 1, ACT)).to(dtype)
    assert float(demo.log_q(lp_demo).abs().max()) > log_q_scale * 0.5
    loss, diag = est.loss(Batch(demo, gen, lp_demo, lp_gen))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in est.parameters() if p.grad is not None)
    assert all(np.isfinite(v) for v in diag.values())
    assert torch.isfinite(est.reward(gen, lp_gen)).all()


def test_every_estimator_shares_one_cost_network_class():
    for name in ESTIMATORS:
        est = make_estimator(name, CostConfig(OBS + 1, ACT))
        assert type(est.cost) is CostNet, name


def test_gan_gcl_learns_log_z_towards_the_optimum():
    demo, gen, lp_demo, lp_gen = random_batch(2, 4, 20, 5, 1.0, torch.float32)
    est = make_estimator("gan-gcl", CostConfig(OBS + 1, ACT))
    for p in est.cost.parameters():
        p.requires_grad_(False)
    # log Z starts at the optimum of the first batch it sees: here another batch, far away.
    other = random_batch(5, 4, 20, 5, 3.0, torch.float32)
    est.loss(Batch(*other))
    start = est.log_z.item()
    opt = torch.optim.Adam([est.log_z], lr=0.1)
    for _ in range(500):
        opt.zero_grad()
        loss, _ = est.loss(Batch(demo, gen, lp_demo, lp_gen))
        loss.backward()
        opt.step()
    with torch.no_grad():
        e = lambda s: est.cost.energy(s.obs, s.acts, s.next_obs, s.done, s.mask)  # noqa: E731
        z_star = obj.optimal_log_z(e(demo), demo.log_q(lp_demo), e(gen), gen.log_q(lp_gen))
    assert abs(start - float(z_star)) > 1.0
    assert abs(est.log_z.item() - float(z_star)) < 1e-2


def test_bc_loss_trains_the_policy_towards_demo_actions():
    import gymnasium as gym
    from stable_baselines3 import PPO

    from irl_gan.generator import PolicyDensity

    rng = np.random.default_rng(0)
    env = gym.make("Pendulum-v1")
    model = PPO("MlpPolicy", env, device="cpu", seed=0, policy_kwargs={"net_arch": [16]})
    # Demonstrator: torque = -obs[2] (damps the swing), recorded as 2 episodes of 30 steps.
    eps = []
    for _ in range(2):
        obs = rng.uniform(-1, 1, (31, 3))
        eps.append(Episode(obs, np.clip(-obs[:-1, 2:3], -2, 2), np.zeros(30), False, True))
    demo = make_segments(eps, 1)
    est = make_estimator("bc", CostConfig(4, 1))
    density = PolicyDensity(model)
    opt = torch.optim.Adam(model.policy.parameters(), lr=1e-2)
    first = None
    for _ in range(200):
        opt.zero_grad()
        lp = density.log_prob(demo.obs[..., :-1], demo.acts, grad=True).float()
        loss, diag = est.loss(Batch(demo, demo, lp, lp))
        loss.backward()
        opt.step()
        first = first if first is not None else diag["demo_log_lik"]
    assert diag["demo_log_lik"] > first + 1.0
    with pytest.raises(TypeError, match="no reward"):
        est.reward(demo, lp)


@pytest.mark.parametrize("name", ["gcl", "gan-gcl", "airl", "gail"])
def test_the_absorbing_state_is_rewarded_by_the_cost(name):
    # The absorbing state's reward comes from the learned cost, never a fixed 0: otherwise a
    # policy whose steps earn less than 0 would learn to end its episodes.
    from irl_gan.segments import Segments

    est = make_estimator(name, CostConfig(OBS + 1, ACT))
    flag = torch.zeros(1, 1, OBS + 1)
    flag[..., -1] = 1
    absorbing = Segments(flag, torch.zeros(1, 1, ACT), flag.clone(), torch.zeros(1, 1), torch.ones(1, 1), torch.zeros(1, 1))
    with torch.no_grad():
        est.cost.g[-1].bias.fill_(5.0)
        r1 = est.reward(absorbing, torch.full((1, 1), 7.0))
        est.cost.g[-1].bias.fill_(-5.0)
        r2 = est.reward(absorbing, torch.full((1, 1), 7.0))
    assert float(r1) != 0.0 and float(r1) != float(r2)  # depends on the cost, not on log π
