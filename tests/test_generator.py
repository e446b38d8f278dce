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


def test_ppo_density_matches_sb3(pendulum):
    model = PPO("MlpPolicy", pendulum, device="cpu", seed=0, policy_kwargs={"net_arch": [16]})
    obs = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    acts = np.random.default_rng(1).uniform(-3, 3, size=(8, 1)).astype(np.float32)
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
    model = algo("MlpPolicy", pendulum, device="cpu", seed=0, policy_kwargs={"net_arch": [16]})
    density = PolicyDensity(model)
    lo, hi = (-2.0, 2.0) if algo is SAC else (-40.0, 40.0)
    grid = np.linspace(lo, hi, 400_001)[:, None]
    obs = np.repeat(np.array([[0.3, -0.2, 1.0]], np.float32), len(grid), 0)
    p = density.log_prob(obs, grid).exp().numpy()
    mass = np.trapezoid(p, grid[:, 0])
    assert mass == pytest.approx(1.0, abs=1e-6)


def test_squashed_density_is_finite_at_and_beyond_the_bounds(pendulum):
    model = SAC("MlpPolicy", pendulum, device="cpu", seed=0)
    density = PolicyDensity(model)
    obs = np.zeros((4, 3), np.float32)
    lp = density.log_prob(obs, np.array([[-2.0], [2.0], [2.0000001], [-5.0]]))
    assert torch.isfinite(lp).all()
    assert float(lp.abs().max()) < 100


def test_ppo_log_pi_of_a_clipped_action_stops_falling_once_the_mean_passes_the_bound():
    """The reward's -α log π must not pay a PPO policy for pushing its mean further out of the
    bounds: at a bound the density is taken with the mean held at the bound, so log π of the
    clipped action falls as the mean nears the bound from inside, peaks there, and stays."""
    import math

    from irl_gan.generator import clipped_log_prob

    f64 = lambda v: torch.tensor([[v]], dtype=torch.float64)
    low, high, std = torch.tensor([-1.0]), torch.tensor([1.0]), torch.tensor([0.2], dtype=torch.float64)
    gauss = lambda a, m: -0.5 * ((a - m) / 0.2) ** 2 - math.log(0.2 * math.sqrt(2 * math.pi))
    at_high = [float(clipped_log_prob(f64(1.0), f64(m), std, low, high)) for m in (0.6, 0.8, 1.0, 1.5, 3.6)]
    assert at_high[:3] == pytest.approx([gauss(1.0, 0.6), gauss(1.0, 0.8), gauss(1.0, 1.0)])  # the plain density inside
    assert at_high[3] == at_high[4] == pytest.approx(gauss(1.0, 1.0))  # past the bound: the peak, not gauss(1, 3.6) = -64
    assert float(clipped_log_prob(f64(-1.0), f64(-2.0), std, low, high)) == pytest.approx(gauss(0.0, 0.0))  # the low bound alike
    # Inside the bounds nothing is held: the mean beyond a bound still scores an interior action by the plain density.
    assert float(clipped_log_prob(f64(0.5), f64(1.5), std, low, high)) == pytest.approx(gauss(0.5, 1.5))
