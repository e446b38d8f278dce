"""Cost network, segments and the generator's density: the pieces the estimators share."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from irl_gan.cost import CostConfig, CostNet, lcr_penalty, mono_penalty
from irl_gan.data import Episode
from irl_gan.reward import LearnedReward, LearnedRewardWrapper
from irl_gan.segments import make_segments, window_starts


def episode(length, terminated, obs_dim=3, act_dim=2, seed=0):
    rng = np.random.default_rng(seed)
    return Episode(rng.normal(size=(length + 1, obs_dim)), rng.uniform(-1, 1, (length, act_dim)), rng.normal(size=length), terminated, not terminated)


@settings(max_examples=60, deadline=None)
@given(length=st.integers(1, 60), k=st.integers(1, 70), terminated=st.booleans())
def test_windows_cover_every_step_and_never_cross_episodes(length, k, terminated):
    ep = episode(length, terminated)
    seg = make_segments([ep], k)
    assert seg.obs.shape[1] == k
    real = seg.policy_step.bool()
    # Every real step appears, in order, inside some window; no window mixes episodes.
    seen = set()
    for b in range(len(seg)):
        for t in range(k):
            if real[b, t]:
                hits = np.flatnonzero(np.all(np.isclose(ep.observations[:-1], seg.obs[b, t, :-1].numpy()), axis=1))
                seen.update(hits.tolist())
    assert seen == set(range(length))
    if terminated:
        # Padding after a termination is absorbing (flag 1, no policy step), never masked out.
        absorbing = seg.obs[..., -1] == 1
        assert absorbing.any() and not bool(seg.policy_step[absorbing].any())
        assert bool(seg.mask.all())
    else:
        assert not bool((seg.obs[..., -1] == 1).any())
    assert not bool(seg.done.any())  # the absorbing state loops: nothing ends the future


def test_terminated_episode_is_padded_to_the_horizon_for_full_trajectories():
    seg = make_segments([episode(30, True)], k=100)
    assert len(seg) == 1 and int(seg.policy_step.sum()) == 30 and int(seg.mask.sum()) == 100
    # the last real step leads into the absorbing state
    assert seg.next_obs[0, 29, -1] == 1 and seg.obs[0, 30, -1] == 1


def test_window_starts_align_the_last_window_to_the_end():
    assert window_starts(10, 4) == [0, 4, 6]
    assert window_starts(8, 4) == [0, 4]
    assert window_starts(3, 5) == [0]


def test_segment_energy_and_log_q_are_sums_over_the_window():
    seg = make_segments([episode(12, False)], k=4)
    cost = CostNet(CostConfig(4, 2))
    step = cost(seg.obs, seg.acts)
    torch.testing.assert_close(cost.energy(seg.obs, seg.acts, mask=seg.mask), step.sum(-1))
    lp = torch.randn(seg.policy_step.shape)
    torch.testing.assert_close(seg.log_q(lp), lp.sum(-1))


def test_shaped_cost_is_g_plus_potential_difference():
    cfg = CostConfig(4, 2, shaped=True, gamma=0.9)
    cost = CostNet(cfg)
    s, a, s2 = torch.randn(5, 4), torch.randn(5, 2), torch.randn(5, 4)
    done = torch.tensor([0.0, 0, 1, 0, 1])
    expected = cost.base_cost(s, a) + cost.potential(s) - 0.9 * (1 - done) * cost.potential(s2)
    torch.testing.assert_close(cost(s, a, s2, done), expected)


def test_state_only_cost_ignores_actions():
    cost = CostNet(CostConfig(4, 2, state_only=True))
    s = torch.randn(6, 4)
    torch.testing.assert_close(cost(s, torch.randn(6, 2)), cost(s, torch.randn(6, 2)))


def test_normalisation_is_saved_and_loaded_with_the_cost(tmp_path):
    cost = CostNet(CostConfig(4, 2, shaped=True))
    cost.update_normalisation(torch.randn(100, 4) * 5 + 3, torch.randn(100, 2))
    cost.save(tmp_path / "cost.pt")
    back = CostNet.load(tmp_path / "cost.pt")
    s, a = torch.randn(7, 4), torch.randn(7, 2)
    torch.testing.assert_close(back.base_cost(s, a), cost.base_cost(s, a))
    torch.testing.assert_close(back.obs_norm.mean, cost.obs_norm.mean)
    assert back.config == cost.config


def test_running_normalisation_matches_batch_statistics():
    cost = CostNet(CostConfig(3, 1))
    data = torch.randn(1000, 3, dtype=torch.float64) * torch.tensor([1.0, 10.0, 0.1]) + 4
    for chunk in data.split(97):
        cost.obs_norm.update(chunk)
    torch.testing.assert_close(cost.obs_norm.mean, data.mean(0))
    torch.testing.assert_close(cost.obs_norm.var, data.var(0, unbiased=False))


def test_regularisers_penalise_what_they_name():
    linear = torch.arange(10.0).flip(0)[None]  # constant rate, decreasing
    assert lcr_penalty(linear) == 0 and mono_penalty(linear) == 0
    bumpy = torch.tensor([[0.0, 3.0, 0.0, 3.0]])
    assert lcr_penalty(bumpy) > 0 and mono_penalty(bumpy) > 0


def test_gradient_penalty_measures_the_slope_in_normalised_inputs():
    """On a linear cost g = w·x, the penalty is (|w| - 1)² wherever it is taken, scaled by its
    weight; it reaches GAN-GCL's loss, and its gradient pulls |w| towards 1."""
    from irl_gan.estimators import Batch, Regularisers, make_estimator
    from irl_gan.segments import transitions

    rng = np.random.default_rng(0)
    demo = transitions(rng.normal(size=(64, 3)), rng.normal(size=(64, 2)), rng.normal(size=(64, 3)), np.zeros(64))
    gen = transitions(rng.normal(size=(64, 3)) + 5, rng.normal(size=(64, 2)), rng.normal(size=(64, 3)), np.zeros(64))
    no_pi = torch.zeros(64, 1)
    for state_only, w in ((False, [3.0, 0.0, 0.0, 0.0, 4.0, 0.0]), (True, [0.0, 0.6, 0.8, 0.0])):
        est = make_estimator("gan-gcl", CostConfig(3 + 1, 2, state_only=state_only, hidden=()), Regularisers(grad_penalty=2.0))
        with torch.no_grad():
            est.cost.g[0].weight.copy_(torch.tensor([w]))
        batch = Batch(demo, gen, no_pi, no_pi)
        expected = 2.0 * (np.linalg.norm(w) - 1.0) ** 2
        assert float(est.regularisers.gradient(est.cost, demo, gen).detach()) == pytest.approx(expected, abs=1e-5)
        without = make_estimator("gan-gcl", CostConfig(3 + 1, 2, state_only=state_only, hidden=()))
        without.load_state_dict(est.state_dict())
        assert float((est.loss(batch)[0] - without.loss(batch)[0]).detach()) == pytest.approx(expected, abs=1e-5)
    est.cost.g[0].weight.grad = None
    est.regularisers.gradient(est.cost, demo, gen).backward()
    assert float(est.cost.g[0].weight.grad.abs().sum()) < 1e-5  # |w| = 1 already: no pull
    with torch.no_grad():
        est.cost.g[0].weight.mul_(3.0)
    est.cost.g[0].weight.grad = None
    est.regularisers.gradient(est.cost, demo, gen).backward()
    assert float((est.cost.g[0].weight.grad * est.cost.g[0].weight).sum().detach()) > 0  # descent shrinks |w|


def test_learned_reward_wrapper_replaces_reward_and_keeps_the_true_one():
    import gymnasium as gym

    env = gym.make("InvertedPendulum-v5")
    cost = CostNet(CostConfig(5, 1))
    reward = LearnedReward(cost)
    wrapped = LearnedRewardWrapper(env, reward)
    obs, _ = wrapped.reset(seed=0)
    terminated = False
    while not terminated:
        action = np.array([2.5])
        nxt, r, terminated, truncated, info = wrapped.step(action)
        expected = float(reward(obs, action, nxt, False))
        if terminated:
            expected += 0.99 / 0.01 * reward.absorbing_reward()
        assert r == pytest.approx(expected, rel=1e-5)
        assert info["true_reward"] == (0.0 if terminated else 1.0)  # v5: no reward on the fall
        obs = nxt


@pytest.mark.parametrize("state_only, shaped", [(False, False), (True, True)])
def test_averaged_reward_is_the_mean_of_its_snapshots_rewards(state_only, shaped):
    """AveragedReward runs all snapshots in one batched pass; it must agree with each cost's own
    reward, normalisers included, for c(s, a) and for a shaped state-only cost (g alone)."""
    from irl_gan.reward import AveragedReward

    torch.manual_seed(0)
    rewards = []
    for i in range(3):
        cost = CostNet(CostConfig(5, 2, state_only=state_only, shaped=shaped, hidden=(8, 8)))
        cost.update_normalisation(torch.randn(50, 5) * (i + 1) + i, torch.randn(50, 2) * (i + 1))
        rewards.append(LearnedReward(cost))
    rng = np.random.default_rng(0)
    obs, acts, nxt, term = rng.normal(size=(3, 7, 4)), rng.normal(size=(3, 7, 2)), rng.normal(size=(3, 7, 4)), rng.random((3, 7)) < 0.2
    averaged = AveragedReward(rewards)
    assert averaged._stacked is not None
    expected = np.mean([r(obs, acts, nxt, term) for r in rewards], axis=0)
    assert averaged(obs, acts, nxt, term).shape == (3, 7)
    assert np.allclose(averaged(obs, acts, nxt, term), expected, atol=1e-5)


def test_cost_hidden_empty_gives_a_cost_linear_in_the_normalised_inputs(tmp_path):
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    config = resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "cost_hidden": [], "state_only": True})])
    assert config.cost_hidden == ()
    cost = CostNet(CostConfig(4, 1, state_only=True, hidden=config.cost_hidden))
    cost.update_normalisation(torch.randn(100, 4) * 3 + 1, torch.randn(100, 1))
    x1, x2, a = torch.randn(5, 4), torch.randn(5, 4), torch.zeros(5, 1)
    # affine: the cost of a mixture is the mixture of the costs
    torch.testing.assert_close(cost.base_cost(0.3 * x1 + 0.7 * x2, a), 0.3 * cost.base_cost(x1, a) + 0.7 * cost.base_cost(x2, a))
    cost.save(tmp_path / "cost.pt")
    torch.testing.assert_close(CostNet.load(tmp_path / "cost.pt").base_cost(x1, a), cost.base_cost(x1, a))
