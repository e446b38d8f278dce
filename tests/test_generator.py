"""The generator's density log π(a|s): agrees with SB3, integrates to one, finite at the bounds."""

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO, SAC

from irl_gan.generator import PolicyDensity


@pytest.fixture(scope="module")
def pendulum():
    return gym.make("Pendulum-v1")


def test_ppo_density_matches_sb3_inside_the_bounds(pendulum):
    model = PPO("MlpPolicy", pendulum, device="cpu", seed=0, policy_kwargs={"net_arch": [16]})
    obs = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    acts = np.random.default_rng(1).uniform(-1.99, 1.99, size=(8, 1)).astype(np.float32)
    with torch.no_grad():
        _, expected, _ = model.policy.evaluate_actions(torch.as_tensor(obs), torch.as_tensor(acts))
    np.testing.assert_allclose(PolicyDensity(model).log_prob(obs, acts).numpy(), expected.numpy(), rtol=1e-5)


def test_sac_density_matches_sb3_on_its_own_samples(pendulum):
    model = SAC("MlpPolicy", pendulum, device="cpu", seed=0, policy_kwargs={"net_arch": [16]})
    obs = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    with torch.no_grad():
        squashed, sb3_log_prob = model.actor.action_log_prob(torch.as_tensor(obs))
    env_actions = model.policy.unscale_action(squashed.numpy())
    ours = PolicyDensity(model).log_prob(obs, env_actions).numpy()
    # SB3's density is over [-1, 1]; ours over [-2, 2] differs by log(2) per dimension.
    # SB3 adds 1e-6 inside log(1 - y²), so agreement is to that bias, not to machine precision.
    np.testing.assert_allclose(ours + np.log(2.0), sb3_log_prob.numpy(), atol=1e-3)


@pytest.mark.parametrize("algo", [PPO, SAC])
def test_density_integrates_to_one_over_actions(algo, pendulum):
    """SAC's density lives on the open interval; PPO's clipped Gaussian puts the rest of its mass
    on the two bounds, so the density inside plus the two clip probabilities make one."""
    model = algo("MlpPolicy", pendulum, device="cpu", seed=0, policy_kwargs={"net_arch": [16]})
    density = PolicyDensity(model)
    grid = np.linspace(-2.0, 2.0, 400_001)[:, None]
    obs = np.repeat(np.array([[0.3, -0.2, 1.0]], np.float32), len(grid), 0)
    p = density.log_prob(obs, grid).exp().numpy()
    mass = np.trapezoid(p[1:-1], grid[1:-1, 0])
    if algo is PPO:
        mass += p[0] + p[-1]
        assert min(p[0], p[-1]) > 1e-3  # SB3's initial std 1 on a bound of 2: the clips carry real mass
    assert mass == pytest.approx(1.0, abs=1e-5)


def test_ppo_log_prob_of_a_clipped_action_rises_as_the_mean_moves_past_the_bound():
    """The reward's -α log π must not pay a PPO policy for pushing its mean further out of the
    bounds: at a bound the likelihood is the clip's probability, which tends to 1 (log 0)."""
    import math

    from irl_gan.generator import censored_log_prob

    log_cdf = lambda z: math.log(0.5 * math.erfc(-z / math.sqrt(2)))

    low, high, std = torch.tensor([-1.0]), torch.tensor([1.0]), torch.tensor([0.2], dtype=torch.float64)
    at_high = torch.tensor([[1.0]], dtype=torch.float64)
    lp = [float(censored_log_prob(at_high, torch.tensor([[m]], dtype=torch.float64), std, low, high)) for m in (0.8, 1.0, 1.5, 3.0)]
    assert lp[0] == pytest.approx(log_cdf((0.8 - 1.0) / 0.2)) and lp[1] == pytest.approx(np.log(0.5))
    assert lp == sorted(lp) and lp[-1] == pytest.approx(0.0, abs=1e-12)
    # Beyond the bound counts as the bound (the env clips it); inside, the plain Gaussian density.
    beyond = censored_log_prob(torch.tensor([[1.7]], dtype=torch.float64), torch.tensor([[1.5]], dtype=torch.float64), std, low, high)
    assert float(beyond) == pytest.approx(lp[2])
    inside = censored_log_prob(torch.tensor([[0.5]], dtype=torch.float64), torch.tensor([[0.4]], dtype=torch.float64), std, low, high)
    assert float(inside) == pytest.approx(-0.5 * 0.5**2 - math.log(0.2 * math.sqrt(2 * math.pi)))


def test_squashed_density_is_finite_at_and_beyond_the_bounds(pendulum):
    model = SAC("MlpPolicy", pendulum, device="cpu", seed=0)
    density = PolicyDensity(model)
    obs = np.zeros((4, 3), np.float32)
    lp = density.log_prob(obs, np.array([[-2.0], [2.0], [2.0000001], [-5.0]]))
    assert torch.isfinite(lp).all()
    assert float(lp.abs().max()) < 100
