"""`irl-gan eval-reward`: correlations, EPIC, closed-form true rewards, plots."""

import numpy as np
import pytest
import yaml
from helpers import tiny_training_inputs, QUICK_RANKING

from irl_gan.reward_eval import CLOSED_FORMS, Transitions, _ranks, epic_distance, pearson, spearman
from irl_gan.rollout import random_policy, rollout
from irl_gan.tasks import load_spec

TINY = {"n_envs": 2, "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}, "disc_batch": 32, "checkpoint_every": 128, "eval_every": 0, **QUICK_RANKING}


def random_transitions(task: str, episodes: int = 3) -> Transitions:
    spec = load_spec(task)
    env = spec.make_env()
    return Transitions.from_episodes(rollout(env, random_policy(env), episodes, 0, progress=False), "random")


@pytest.mark.parametrize("task", ["pendulum", "pointmaze", "pointmaze-shifted", "reacher"])
def test_exact_closed_forms_equal_the_envs_reward(task):
    t = random_transitions(task)
    r = CLOSED_FORMS[load_spec(task).env_id].fn(t.obs, t.acts, t.next_obs)
    assert np.allclose(r, t.rews, atol=1e-5)


def test_epic_is_zero_for_shaped_and_rescaled_rewards_and_one_for_the_negation():
    t = random_transitions("pointmaze", episodes=4)
    true = CLOSED_FORMS["irl_gan/PointMaze-v0"].fn
    gamma = 0.99
    phi = lambda s: np.sin(3 * s[..., 0]) + s[..., 1] ** 2 + 5 * (s[..., 2] + s[..., 3])  # noqa: E731
    shaped = lambda o, a, n: 3.0 * true(o, a, n) + 2.0 + gamma * phi(n) - phi(o)  # noqa: E731
    assert epic_distance(true, true, t, gamma) == pytest.approx(0.0, abs=1e-6)
    assert epic_distance(shaped, true, t, gamma) == pytest.approx(0.0, abs=1e-6)
    # Shaping alone changes the raw rewards a lot; EPIC sees through it, Pearson does not.
    assert pearson(shaped(t.obs, t.acts, t.next_obs), t.rews) < 0.9
    assert epic_distance(lambda o, a, n: -true(o, a, n), true, t, gamma) == pytest.approx(1.0, abs=1e-6)
    rng = np.random.default_rng(0)
    table = rng.normal(size=1000)
    noise = lambda o, a, n: table[(np.abs(o[..., 0] * 997 + n[..., 1] * 991).astype(int)) % 1000]  # noqa: E731
    assert 0.5 < epic_distance(noise, true, t, gamma) < 0.9


def test_spearman_is_one_for_monotone_maps_and_ranks_average_ties():
    x = np.array([3.0, 1.0, 2.0, 5.0])
    assert spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert np.array_equal(_ranks(np.array([1.0, 1.0, 2.0])), [0.5, 0.5, 2.0])


@pytest.fixture
def tiny_run(tmp_path, cli):
    demos, config = tiny_training_inputs(tmp_path, TINY)
    run = tmp_path / "run"
    code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", run, "--config", config, "--no-progress")
    assert code == 0, err
    return run, demos, config


def test_eval_reward_writes_numbers_and_a_scatter_plot(tiny_run, cli):
    run, _, _ = tiny_run
    code, stdout, err = cli("eval-reward", run, "--episodes", 1, "--no-progress")
    assert code == 0, err
    out = run / "reward-eval-pendulum"
    r = yaml.safe_load((out / "reward_eval.yaml").read_text())
    # Pendulum's expert ships, so all four policies contribute one 200-step episode.
    assert r["sources"] == {"expert": 200, "expert + noise": 200, "learned policy": 200, "random": 200}
    assert -1 <= r["pearson"] <= 1 and -1 <= r["spearman"] <= 1 and 0 <= r["epic"] <= 1
    assert r["epic_true_reward"] == "exact" and r["closed_form_vs_env_pearson"] == pytest.approx(1.0)
    assert (out / "scatter.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "EPIC distance" in stdout and "Pearson" in stdout


def test_eval_reward_on_the_maze_draws_the_plane(tmp_path, cli):
    """On the maze, a heat-map compares learned and true reward over the plane."""
    from irl_gan.data import make_meta, save_demos

    spec = load_spec("pointmaze")
    env = spec.make_env()
    demos = save_demos(tmp_path / "maze.h5", rollout(env, random_policy(env), 2, 0, progress=False), make_meta(spec, env, {"policy": "random"}, False, "tests"))
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY, "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}}))
    run = tmp_path / "maze"
    assert cli("train", "--task", "pointmaze", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", run, "--config", config, "--no-progress")[0] == 0
    code, stdout, err = cli("eval-reward", run, "--episodes", 1, "--no-progress")
    assert code == 0, err
    r = yaml.safe_load((run / "reward-eval-pointmaze" / "reward_eval.yaml").read_text())
    assert -1 <= r["plane_pearson"] <= 1 and (run / "reward-eval-pointmaze" / "heatmap.png").exists()
    assert "over the plane" in stdout


def test_eval_reward_bad_input_is_one_line(tiny_run, tmp_path, cli):
    run, demos, config = tiny_run
    oracle = tmp_path / "oracle"
    assert cli("train", "--task", "pendulum", "--algo", "rl", "--steps", 128, "--out", oracle, "--config", config, "--no-progress")[0] == 0
    for args, message in [((oracle,), "no cost.pt"), ((run, "--task", "hopper"), "Hopper-v5 has 11 and 3"), ((tmp_path / "none",), "not a training run")]:
        code, _, err = cli("eval-reward", *args, "--no-progress")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_epic_of_a_constant_reward_is_undefined_not_zero():
    t = random_transitions("pointmaze")
    true = CLOSED_FORMS["irl_gan/PointMaze-v0"].fn
    assert np.isnan(epic_distance(lambda o, a, n: np.zeros(len(o)), true, t, 0.99))


def test_eval_reward_out_must_be_a_directory(tiny_run, tmp_path, cli):
    run, _, _ = tiny_run
    (tmp_path / "file").write_text("x")
    code, _, err = cli("eval-reward", run, "--out", tmp_path / "file", "--no-progress")
    assert code == 2 and "is a file" in err and len(err.strip().splitlines()) == 1


def test_cost_ranking_rates_each_behaviour_against_the_demos_learned_from(tmp_path, cli, capsys, monkeypatch):
    import importlib.util
    import sys
    from pathlib import Path

    from helpers import record_pendulum

    from irl_gan.data import load_demos
    from irl_gan.reward import LearnedReward

    root = Path(__file__).resolve().parent.parent
    spec_ = importlib.util.spec_from_file_location("cost_ranking", root / "experiments" / "reward-retrain" / "cost_ranking.py")
    ranking = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(ranking)
    demos = record_pendulum(tmp_path / "demos.h5", episodes=3)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY, "cost_history_every": 128}))
    run = tmp_path / "run"
    code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 256, "--out", run, "--config", config, "--no-progress")
    assert code == 0, err
    monkeypatch.setattr(sys, "argv", ["cost_ranking.py", str(run), "--every", "128", "--episodes", "1"])
    ranking.main()
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header[:3] == ["cost at env step", "training return", "held-out demos (1)"] and header[-1] == "random"
    rows = {r.split("|")[1].strip(): [c.strip() for c in r.strip("|").split("|")] for r in table[1:]}
    assert list(rows) == ["128", "256", "cost.pt (the last checkpoint's)"]
    # the held-out column is the third demo's learned reward per step minus the first two's
    episodes = load_demos(demos, load_spec("pendulum")).episodes
    reward = LearnedReward.load(run / "cost_history" / "cost-000000256.pt")
    expected = ranking.per_step(reward, episodes[2:]) - ranking.per_step(reward, episodes[:2])
    assert float(rows["256"][2]) == pytest.approx(expected, abs=0.006)
