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
    from irl_gan.config import resolve_config
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec

    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "algo": "drex", **settings})])


RANKED = {"n_envs": 2, "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}, "disc_updates": 4, "disc_batch": 32, "checkpoint_every": 128,
          "bc_steps": 100, "eval_episodes": 1, "rank_episodes": 2, "rank_snippet": 20, "rank_noise": [0.3, 1.0], "rank_weight": 3.0, "cost_lr": 3e-3}


def _held_out_pairs(path):
    """The trainer's held-out window pairs (the last episode of each level, 20-step windows)."""
    from irl_gan.drex import held_out_pairs

    levels = torch.load(path, weights_only=True)["levels"]
    return held_out_pairs([lv[-1:] for lv in levels], 500, 20, seed=0)


def test_rank_weight_adds_the_drex_ranking_to_the_discriminator_and_resumes_without_rebuilding_it(tmp_path, cli):
    """gan-gcl with rank_weight: the ranking is built once into RUN/ranking/ (the clone, its noisy
    rollouts), every cost round logs the ranking loss and the held-out share ranked right, and a
    resumed run reads the same levels back instead of cloning and rolling out again."""
    from irl_gan.cost import CostNet
    from irl_gan.drex import ranked_right

    demos, config = tiny_training_inputs(tmp_path, RANKED)
    out = tmp_path / "run"
    args = ("train", "--task", "pendulum", "--demos", demos, "--algo", "gan-gcl", "--demo-episodes", 2, "--out", out, "--config", config, "--no-progress")
    code, _, err = cli(*args, "--steps", 512)
    assert code == 0, err
    record = yaml.safe_load((out / "ranking" / "levels.yaml").read_text())
    assert record["env_steps"] == 1200 and list(record["true_return_per_step"]) == ["demos", "noise 0.3", "noise 1.0"]
    # the demos rank above the noisy clone, which the fit never reads but the env's reward says
    assert record["true_return_per_step"]["demos"] > record["true_return_per_step"]["noise 1.0"]
    with open(out / "metrics.csv", newline="") as f:
        first = list(csv.DictReader(f))
    assert len(first) == 4 and all(float(r["rank_loss"]) > 0 and 0 <= float(r["rank_accuracy"]) <= 1 for r in first)
    # the same run without the ranking: its discriminator orders the held-out windows worse
    plain = tmp_path / "plain"
    unranked = tmp_path / "unranked.yaml"
    unranked.write_text(yaml.safe_dump({**RANKED, "rank_weight": 0.0}))
    code, _, err = cli(*args[:-5], "--out", plain, "--config", unranked, "--no-progress", "--steps", 512)
    assert code == 0, err
    assert not (plain / "ranking").exists()
    held_out = _held_out_pairs(out / "ranking" / "levels.pt")
    right = {run.name: ranked_right(CostNet.load(run / "cost.pt"), *held_out) for run in (out, plain)}
    assert right["run"] == pytest.approx(float(first[-1]["rank_accuracy"])) and right["run"] > right["plain"] + 0.1, right
    levels = (out / "ranking" / "levels.pt").stat().st_mtime_ns
    code, _, err = cli("train", "--task", "pendulum", "--out", out, "--steps", 768, "--resume", "--no-progress")
    assert code == 0, err
    assert (out / "ranking" / "levels.pt").stat().st_mtime_ns == levels
    with open(out / "metrics.csv", newline="") as f:
        resumed = list(csv.DictReader(f))
    assert len(resumed) == 6 and all(r["rank_loss"] for r in resumed[4:])


@pytest.mark.parametrize("algo, settings, message", [
    ("bc", {"rank_weight": 1.0}, "'rank_weight' adds the drex ranking to a generator's cost updates; --algo bc has none"),
    ("drex", {"rank_weight": 1.0}, "--algo drex has none"),
    ("gan-gcl", {"rank_weight": -1.0}, "'rank_weight' must be a non-negative number"),
    ("gan-gcl", {"rank_weight": 1.0, "rank_episodes": 1}, "rank_weight holds out one episode of the demos and of each noise level"),
    ("gan-gcl", {"rank_episodes": 1}, "rank_weight holds out one episode"),  # the recipe's own ranking
    ("gan-gcl", {"demo_episodes": 1}, "rank_weight holds out one episode"),
])
def test_bad_rank_weight_settings_are_one_line_errors(algo, settings, message):
    from irl_gan.config import resolve_config
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec

    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "algo": algo, **settings})])
