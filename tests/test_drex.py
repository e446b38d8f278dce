"""--algo drex: a state-only cost fitted to the ranking of noise-injected clones of the demos."""

import csv

import numpy as np
import pytest
import torch
import yaml
from helpers import tiny_training_inputs


def _level(mean: float, episodes: int, steps: int, rng) -> list:
    """Episodes whose first observation feature sits around ``mean``; the rest is noise."""
    out = []
    for _ in range(episodes):
        obs = torch.as_tensor(rng.normal(size=(steps, 4)), dtype=torch.float32)
        obs[:, 0] += mean
        obs[:, -1] = 0.0  # the absorbing flag
        out.append((obs, torch.zeros(steps, 1)))
    return out


def test_the_ranking_fit_orders_levels_by_the_feature_that_ranks_them():
    """Levels ranked by one feature (best first, feature 2, 1, 0, -1): after the fit the held-out
    windows are ranked right and the cost rises from level to level."""
    from irl_gan.cost import CostConfig, CostNet
    from irl_gan.drex import fit_ranking

    rng = np.random.default_rng(0)
    levels = [_level(m, 4, 40, rng) for m in (2.0, 1.0, 0.0, -1.0)]
    cost = CostNet(CostConfig(4, 1, state_only=True, hidden=(16,)))
    cost.update_normalisation(torch.cat([o for o, _ in levels[0]]), torch.zeros(160, 1))
    log = fit_ranking(cost, [lv[:-1] for lv in levels], [lv[-1:] for lv in levels], steps=300, batch=32, length=10, lr=3e-3, seed=0)
    assert [r["rank_steps"] for r in log] == [60, 120, 180, 240, 300]
    assert log[-1]["rank_accuracy"] > 0.95 and log[-1]["rank_loss"] < log[0]["rank_loss"]
    with torch.no_grad():
        mean_cost = [float(cost.base_cost(lv[-1][0], lv[-1][1]).mean()) for lv in levels]
    assert mean_cost == sorted(mean_cost), mean_cost


def test_a_terminated_episode_is_padded_to_the_horizon_with_the_absorbing_state():
    from irl_gan.data import Episode
    from irl_gan.drex import episode_inputs

    ep = Episode(np.ones((4, 3)), np.ones((3, 1)), np.zeros(3), terminated=True, truncated=False)
    obs, acts = episode_inputs(ep, horizon=7)
    assert obs.shape == (7, 4) and acts.shape == (7, 1)
    assert torch.equal(obs[:3, -1], torch.zeros(3)) and torch.equal(obs[3:], torch.tensor([[0.0, 0.0, 0.0, 1.0]] * 4))
    assert torch.equal(acts[3:], torch.zeros(4, 1))
    truncated = Episode(np.ones((4, 3)), np.ones((3, 1)), np.zeros(3), terminated=False, truncated=True)
    assert episode_inputs(truncated, horizon=7)[0].shape == (3, 4)


def test_drex_writes_a_run_with_a_cost_that_retrain_takes(tmp_path, cli):
    from irl_gan.cost import CostNet

    demos, config = tiny_training_inputs(tmp_path, {"bc_steps": 100, "eval_episodes": 1, "rank_episodes": 2, "rank_steps": 50, "rank_snippet": 20,
                                                    "rank_noise": [0.3, 1.0]})
    out = tmp_path / "drex"
    code, stdout, err = cli("train", "--task", "pendulum", "--demos", demos, "--algo", "drex", "--demo-episodes", 2, "--out", out, "--config", config, "--no-progress")
    assert code == 0, err
    assert stdout.startswith("pendulum drex K=1: 1200 env steps")  # 2 levels x 2 episodes + 2 idle, 200 steps each
    cost = CostNet.load(out / "cost.pt")
    assert cost.config.state_only and cost.config.obs_dim == 4  # Pendulum's 3 and the absorbing flag
    card = yaml.safe_load((out / "card.yaml").read_text())
    assert card["algo"] == "drex" and card["ranking"]["levels"] == ["demos", "noise 0.3", "noise 1.0"] and card["ranking"]["snippet"] == 20
    assert yaml.safe_load((out / "config.yaml").read_text())["state_only"] is True
    with open(out / "metrics.csv", newline="") as f:
        ranked = [r for r in csv.DictReader(f) if r["rank_steps"]]
    assert [int(r["rank_steps"]) for r in ranked] == [10, 20, 30, 40, 50] and all(0 <= float(r["rank_accuracy"]) <= 1 for r in ranked)
    code, stdout, err = cli("retrain", out, "--steps", 256, "--no-progress", "--episodes", 1)
    assert code == 0, err
    assert "retrained on" in stdout


@pytest.mark.parametrize("settings, message", [
    ({"rank_noise": [0.5, 0.1]}, "'rank_noise' must be a list of increasing positive noise shares"),
    ({"rank_noise": []}, "'rank_noise' must be a list of increasing positive noise shares"),
    ({"rank_snippet": 0}, "'rank_snippet' must be a positive integer"),
    ({"shaped": True}, "--algo drex learns a cost c(s) with no shaping potential"),
    ({"cost_until": 1000}, "--algo drex trains no generator against a cost"),
    ({"rank_episodes": 1}, "--algo drex holds out one episode of the demos and of each noise level"),
    ({"demo_episodes": 1}, "--algo drex holds out one episode of the demos and of each noise level"),
])
def test_bad_drex_settings_are_one_line_errors(settings, message):
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec
    from irl_gan.trainer import resolve_config

    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "algo": "drex", **settings})])
