"""`irl-gan train`: one command from demos to a policy, a cost, metrics and a resumable run."""

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from helpers import make_trainer, tiny_training_inputs, QUICK_RANKING

TINY = {"n_envs": 2, "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}, "disc_updates": 1, "disc_batch": 32, "checkpoint_every": 128, **QUICK_RANKING}


@pytest.fixture
def setup(tmp_path):
    return tiny_training_inputs(tmp_path, TINY)


def tiny_config(path: Path, **settings) -> Path:
    """A --config file of TINY's settings (those of ``setup``'s file) with ``settings`` on top."""
    path.write_text(yaml.safe_dump({**TINY, **settings}))
    return path


def rows(path):
    return list(csv.DictReader(open(path)))


@pytest.mark.parametrize("algo, segment, penalty", [("gan-gcl", "1", 0.0), ("gan-gcl", "full", 0.0), ("gcl", "5", 0.0), ("airl", "1", 0.0), ("gail", "1", 0.0),
                                                    ("gan-gcl", "5", 1.0), ("gail", "1", 1.0)])
def test_train_writes_policy_cost_config_and_metrics(tmp_path, setup, cli, algo, segment, penalty):
    demos, config = setup
    if penalty:
        config = tmp_path / "penalty.yaml"
        config.write_text(yaml.safe_dump({**TINY, "grad_penalty": penalty}))
    out = tmp_path / "run"
    code, stdout, err = cli("train", "--task", "pendulum", "--demos", demos, "--algo", algo, "--segment", segment,
                            "--demo-episodes", 2, "--steps", 512, "--out", out, "--config", config, "--no-progress")
    assert code == 0, err
    assert {"policy.zip", "obs_norm.npz", "cost.pt", "config.yaml", "metrics.csv", "tb", "checkpoint"} <= {p.name for p in out.iterdir()}
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["algo"] == algo and saved["steps"] == 512 and saved["ppo"]["n_steps"] == 64 and saved["grad_penalty"] == penalty
    metrics = rows(out / "metrics.csv")
    assert int(metrics[-1]["env_steps"]) == 512
    assert metrics[0]["true_return"] == ""  # no episode had finished yet: empty, not misplaced
    for key in ("true_return", "normalised", "energy_demo", "energy_gen", "disc_acc_demo", "disc_acc_gen", "cost_loss", "env_steps_per_s"):
        assert key in metrics[-1] and np.isfinite(float(metrics[-1][key])), key
    if algo in ("gan-gcl", "gcl"):
        assert np.isfinite(float(metrics[-1]["log_z_is"])) and float(metrics[-1]["ess"]) >= 1
    assert "normalised" in stdout


def test_lcr_and_mono_add_guided_cost_learnings_regularisers_to_the_cost_loss_in_training(tmp_path, setup, monkeypatch):
    """lcr and mono (guided cost learning's own regularisers, docs/concepts.md): the first cost loss is the plain one
    plus lcr times the squared second differences of the cost along the demo segments plus mono
    times its rises, and a run with them trains to its end."""
    from irl_gan.config import resolve_config
    from irl_gan.estimators import Regularisers
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    first, penalty = {}, {}
    for weights in ((0.0, 0.0), (3.0, 2.0)):
        config = resolve_config(spec, [("test", {**TINY, "demos": str(demos), "demo_episodes": 2, "segment": 5, "steps": 640, "lcr": weights[0], "mono": weights[1]})])
        trainer = make_trainer(spec, demos, config, tmp_path / f"run{weights}")
        loss = trainer.estimator.loss

        def spy(batch, loss=loss, trainer=trainer, weights=weights):
            if weights not in penalty:  # the first update's, before it changes the cost
                penalty[weights] = float(Regularisers(*weights).along_demos(trainer.estimator.cost, batch.demo).detach())
            return loss(batch)

        monkeypatch.setattr(trainer.estimator, "loss", spy)
        trainer.train(progress=False)
        updated = [r["cost_loss"] for r in trainer.run.rows if "cost_loss" in r]  # from the first finished episodes on
        first[weights] = updated[0]
        assert len(updated) >= 2 and np.isfinite(updated[-1]) and trainer.run.rows[-1]["env_steps"] == 640
    assert penalty[(3.0, 2.0)] > 0
    assert first[(3.0, 2.0)] == pytest.approx(first[(0.0, 0.0)] + penalty[(3.0, 2.0)], rel=1e-5)


def test_outputs_load_with_sb3_alone_and_as_a_reward(tmp_path, setup, cli):
    from stable_baselines3 import PPO

    from irl_gan.reward import LearnedReward

    demos, config = setup
    out = tmp_path / "run"
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", out, "--config", config, "--no-progress")[0] == 0
    model = PPO.load(out / "policy.zip", device="cpu")
    assert model.observation_space.shape == (3,)
    reward = LearnedReward.load(out / "cost.pt")
    r = reward(np.zeros((5, 3)), np.zeros((5, 1)), np.zeros((5, 3)), np.zeros(5, bool))
    assert r.shape == (5,) and np.isfinite(r).all()


def test_resume_continues_from_the_last_checkpoint(tmp_path, setup, cli):
    demos, config = setup
    out = tmp_path / "run"
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 256, "--out", out, "--config", config, "--no-progress")[0] == 0
    first = rows(out / "metrics.csv")
    code, _, err = cli("train", "--task", "pendulum", "--steps", 512, "--out", out, "--resume", "--no-progress")
    assert code == 0, err
    after = rows(out / "metrics.csv")
    assert [r["env_steps"] for r in after[: len(first)]] == [r["env_steps"] for r in first]
    assert int(after[-1]["env_steps"]) == 512 and len(after) == 4
    # The resumed run kept its own settings (the tiny PPO), not the defaults.
    assert yaml.safe_load((out / "config.yaml").read_text())["ppo"]["n_steps"] == 64


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--steps", "-5"], "'steps' must be a positive integer"),
        (["--segment", "0"], "--segment '0'"),
        (["--demo-episodes", "50"], "only 2 of the 2 episodes in"),
        (["--task", "hopper"], "recorded on Pendulum-v1 but task 'hopper'"),
    ],
)
def test_bad_training_input_is_one_line_and_leaves_no_run(tmp_path, setup, cli, extra, message):
    demos, config = setup
    task = [] if "--task" in extra else ["--task", "pendulum"]
    episodes = [] if "--demo-episodes" in extra else ["--demo-episodes", "2"]
    args = ["train", *task, *episodes, "--demos", demos, "--out", tmp_path / "run", "--config", config, *extra]
    code, _, err = cli(*args)
    assert code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "run").exists()


def test_unknown_config_keys_are_refused(tmp_path, setup, cli):
    demos, _ = setup
    bad = tmp_path / "bad.yaml"
    bad.write_text("stepz: 100\n")
    code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--out", tmp_path / "run", "--config", bad)
    assert code == 2 and "unknown settings ['stepz']" in err


def test_a_removed_setting_at_its_old_off_value_is_dropped_and_any_other_value_refused(tmp_path, setup, cli):
    """reward_log_pi, reward_norm, reward_tau and demo_resets are gone: a run saved before then (its
    config.yaml names each) resumes, and a config that asks for one is a one-line error naming it."""
    demos, config = setup
    out = tmp_path / "run"
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", out, "--config", config, "--no-progress")[0] == 0
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert not {"reward_log_pi", "reward_norm", "reward_tau", "demo_resets"} & set(saved)
    old = {**saved, "reward_log_pi": "action", "reward_norm": False, "reward_tau": 1.0, "demo_resets": 0.0}
    (out / "config.yaml").write_text(yaml.safe_dump(old))
    code, _, err = cli("train", "--task", "pendulum", "--steps", 256, "--out", out, "--resume", "--no-progress")
    assert code == 0, err
    assert int(rows(out / "metrics.csv")[-1]["env_steps"]) == 256
    for key, value in (("reward_tau", 0.05), ("reward_norm", True), ("reward_log_pi", "sample"), ("demo_resets", 0.5)):
        code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--out", tmp_path / key, "--config", tiny_config(tmp_path / f"{key}.yaml", **{key: value}))
        assert code == 2 and len(err.strip().splitlines()) == 1 and f"'{key}' has been removed" in err, err


def test_sac_entropy_weight_is_one_nat_for_a_learned_cost_and_tuned_for_the_oracle():
    """A learned cost is in nats (MaxEnt: E[-c] + H); the env's reward is not, so the oracle
    lets SAC tune its entropy weight, unless a setting names one."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    spec = load_spec("pendulum")
    entropy = lambda **layer: resolve_config(spec, [("test", {"demos": "d.h5", "generator": "sac", **layer})]).sac["ent_coef"]
    assert entropy(algo="gan-gcl") == 1.0 and entropy(algo="airl") == 1.0
    assert entropy(algo="rl") == "auto"
    assert entropy(algo="rl", reward="cost.pt") == 1.0  # retrain: the frozen cost is in nats
    assert entropy(algo="rl", sac={"ent_coef": 0.2}) == 0.2
    # The temperature is the learned cost's entropy weight unless a setting names SAC's own.
    assert entropy(algo="gan-gcl", temperature=0.1) == 0.1
    assert entropy(algo="gan-gcl", temperature=0.1, sac={"ent_coef": "auto"}) == "auto"
    assert entropy(algo="rl", reward="cost.pt", temperature=0.1) == 0.1  # retrain at the cost's own temperature


def test_the_defaults_are_the_recipe_for_the_estimators_that_learn_a_cost_and_off_where_an_algo_takes_no_part():
    """gcl, gan-gcl and airl run the recipe's additions; gail, rl, bc and drex get them off unless a
    layer names them, and drex keeps its own noise levels; a later layer still wins."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    spec = load_spec("hopper")
    resolve = lambda *layers: resolve_config(spec, [("test", {"demos": "d.h5", **layer}) for layer in layers])
    for algo in ("gan-gcl", "gcl", "airl"):
        c = resolve({"algo": algo})
        assert (c.rank_weight, c.rank_noise, c.demo_log_pi_floor, c.drop_terminated_demos) == (1.0, (0.05, 1.0), 2.0, True)
        assert c.cost_every == 250  # SAC's cost rounds
        assert c.cost_history_every == 100_000  # snapshots for retrain --cost average
    for algo in ("gail", "rl", "bc", "drex"):
        c = resolve({"algo": algo})
        assert (c.rank_weight, c.demo_log_pi_floor, c.drop_terminated_demos) == (0.0, None, True)
    assert resolve({"algo": "drex"}).rank_noise == (0.1, 0.25, 0.5, 0.75, 1.0)
    assert resolve({"algo": "gail"}, {"rank_weight": 0.5}).rank_weight == 0.5  # named: kept
    assert resolve({"algo": "airl"}, {"algo": "gan-gcl"}).rank_weight == 1.0  # the last layer's algo chooses
    assert resolve({"rank_weight": 0.0, "demo_log_pi_floor": None}).rank_weight == 0.0


def test_a_tasks_train_block_sets_only_what_rl_on_its_reward_needs():
    """A spec's train: block carries the generator and the budget; an imitation setting there is
    refused in one line that says where it belongs."""
    import dataclasses

    from irl_gan.config import resolve_config
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec

    spec = load_spec("halfcheetah")
    assert resolve_config(spec, [("test", {"demos": "d.h5"})]).ppo["n_epochs"] == 20  # the task's generator
    bad = dataclasses.replace(spec, train={**spec.train, "state_only": True})
    with pytest.raises(UserError, match=r"'train:' may set only .*move \['state_only'\] to a --config file"):
        resolve_config(bad, [("test", {"demos": "d.h5"})])


def test_the_temperature_weighs_log_pi_in_the_discriminator_and_the_reward(tmp_path, setup):
    """α log π, not log π, reaches both the cost's batch and the reward: at α = 0 the reward
    is the cost's alone, and at α = 0.5 half of the log-density is subtracted."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    trainers = {}
    for t in (0.0, 0.5, 1.0):
        config = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "demo_episodes": 2, "n_envs": 1, "temperature": t,
                                                 "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}})])
        trainers[t] = make_trainer(spec, demos, config, tmp_path / f"run{t}")
    for t in (0.0, 0.5):  # one policy and one cost for all three
        trainers[t].model.policy.load_state_dict(trainers[1.0].model.policy.state_dict())
        trainers[t].estimator.load_state_dict(trainers[1.0].estimator.state_dict())
    seg = trainers[1.0].demo_segments.index(torch.arange(8))
    log_pi = trainers[1.0]._log_pi(seg)
    assert log_pi.abs().sum() > 0
    assert torch.allclose(trainers[0.5]._log_pi(seg), 0.5 * log_pi) and not trainers[0.0]._log_pi(seg).any()
    obs, acts = seg.obs[:, 0, :-1].numpy(), seg.acts[:, 0].numpy()
    reward = {t: tr.reward_source.reward(obs, acts, seg.next_obs[:, 0, :-1].numpy(), np.zeros(8, bool)) for t, tr in trainers.items()}
    assert np.allclose(reward[1.0] - reward[0.0], -log_pi.sum(-1).numpy(), atol=1e-5)
    assert np.allclose(reward[0.5] - reward[0.0], -0.5 * log_pi.sum(-1).numpy(), atol=1e-5)


def test_the_metrics_report_log_pi_of_the_demos_and_of_the_generated_steps(tmp_path, setup):
    """log_pi_demo and log_pi_gen: α log π per step of each side of the cost's batch under the
    policy of that moment. The first round's batch is the same at α = 1 and α = 0.5 (one seed,
    the policy not yet updated), so the columns halve; the demos' value is a mean over demo steps."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    first, bounds = {}, None
    for t in (1.0, 0.5):
        config = resolve_config(spec, [("test", {**TINY, "demos": str(demos), "demo_episodes": 2, "temperature": t, "steps": 128})])
        trainer = make_trainer(spec, demos, config, tmp_path / f"run{t}")
        if t == 1.0:  # every demo step's log π under the initial policy
            per_step = trainer._log_pi(trainer.demo_segments)[trainer.demo_segments.policy_step.bool()]
            bounds = (float(per_step.min()), float(per_step.max()))
        trainer.train(progress=False)  # one rollout, one cost round, then the policy's update
        first[t] = trainer.run.rows[0]
    assert bounds[0] < first[1.0]["log_pi_demo"] < bounds[1] and bounds[0] < bounds[1]
    for side in ("log_pi_demo", "log_pi_gen"):
        assert first[1.0][side] != 0 and first[0.5][side] == pytest.approx(0.5 * first[1.0][side], rel=1e-5)
    with open(tmp_path / "run1.0" / "metrics.csv", newline="") as f:
        assert float(next(csv.DictReader(f))["log_pi_gen"]) == pytest.approx(first[1.0]["log_pi_gen"])


def test_the_metrics_report_the_policy_optimisers_update(tmp_path, setup, monkeypatch):
    """PPO: a round's row carries the update that came before its rollout (none before the
    first): losses, KL, clip fraction, and the policy std the rollout was sampled with. SAC: its
    actor and critic losses and entropy weight, once it has trained."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    config = resolve_config(spec, [("test", {**TINY, "demos": str(demos), "demo_episodes": 2, "steps": 384, "ppo": {**TINY["ppo"], "n_epochs": 3}})])
    trainer = make_trainer(spec, demos, config, tmp_path / "ppo")
    stds, check = [], trainer.check_policy
    monkeypatch.setattr(trainer, "check_policy", lambda: (stds.append(float(trainer.model.policy.log_std.detach().exp().mean())), check())[1])
    trainer.train(progress=False)
    rows = trainer.run.rows
    assert len(rows) == 3 and "policy_loss" not in rows[0] and "policy_std" not in rows[0]
    assert [r["policy_std"] for r in rows[1:]] == pytest.approx(stds[1:], rel=1e-6) and stds[1] != stds[0]
    for r in rows[1:]:
        assert r["value_loss"] > 0 and r["approx_kl"] >= 0 and 0 <= r["clip_fraction"] <= 1 and np.isfinite(r["policy_loss"])
    with open(tmp_path / "ppo" / "metrics.csv", newline="") as f:
        assert float(list(csv.DictReader(f))[2]["value_loss"]) == pytest.approx(rows[2]["value_loss"])

    config = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "demo_episodes": 2, "generator": "sac", "n_envs": 1, "steps": 300,
                                             "sac": {"learning_starts": 50, "buffer_size": 1000}})])
    trainer = make_trainer(spec, demos, config, tmp_path / "sac")
    trainer.train(progress=False)
    last = trainer.run.rows[-1]
    assert np.isfinite(last["actor_loss"]) and last["critic_loss"] >= 0 and last["ent_coef"] > 0 and "value_loss" not in last


def test_demo_log_pi_floor_raises_only_the_demos_log_pi_in_the_cost_batch(tmp_path, setup, monkeypatch):
    """With demo_log_pi_floor m, each demo step's α log π in the cost's batch is at least the
    generated steps' mean minus m; values above it, and the generated side, pass unchanged."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    seen = {}
    for floor in (None, 0.5):
        config = resolve_config(spec, [("test", {**TINY, "demos": str(demos), "demo_episodes": 2, "steps": 128, "demo_log_pi_floor": floor})])
        trainer = make_trainer(spec, demos, config, tmp_path / f"run{floor}")
        loss = trainer.estimator.loss
        batches = []
        monkeypatch.setattr(trainer.estimator, "loss", lambda batch, loss=loss, batches=batches: batches.append(batch) or loss(batch))
        trainer.train(progress=False)  # one rollout, one cost round
        seen[floor] = (batches[0], trainer.run.rows[0])
    (plain, row), (floored, floored_row) = seen[None], seen[0.5]
    assert row["log_pi_gen"] == floored_row["log_pi_gen"] and row["log_pi_demo"] == floored_row["log_pi_demo"]  # the metrics: the true values
    assert torch.equal(plain.gen_log_pi, floored.gen_log_pi)
    acted = plain.demo.policy_step.bool()
    low = row["log_pi_gen"] - 0.5
    before, after = plain.demo_log_pi[acted], floored.demo_log_pi[acted]
    assert (before < low).any() and (before >= low).any()  # the case both ways
    assert torch.allclose(after, before.clamp(min=low))
    assert not floored.demo_log_pi[~acted].any()  # absorbing steps still have no log π


@pytest.mark.parametrize("generator, steps", [("ppo", 256), ("sac", 192)])  # PPO's in whole rollouts of 128
def test_learn_goes_on_where_it_stopped_as_one_longer_call_would(tmp_path, setup, generator, steps):
    """``Trainer.learn(n)`` plays n more env steps (SB3's verb): two calls train the policy and the
    cost as one call of their sum does."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    layer = {**TINY, "demos": str(demos), "demo_episodes": 2, "eval_every": 0}
    if generator == "sac":
        layer.update(n_envs=1, cost_every=64, sac={"learning_starts": 64, "buffer_size": 1000, "batch_size": 32})
    config = resolve_config(spec, [("test", {**QUICK_RANKING, **layer, "generator": generator})])
    twice = make_trainer(spec, demos, config, tmp_path / "twice")  # each built just before it trains: torch's generator is global
    twice.learn(steps, progress=False)
    twice.learn(steps, progress=False)
    once = make_trainer(spec, demos, config, tmp_path / "once")
    once.learn(2 * steps, progress=False)
    assert twice.model.num_timesteps == once.model.num_timesteps == 2 * steps
    assert [r["env_steps"] for r in twice.run.rows] == [r["env_steps"] for r in once.run.rows]
    for a, b in ((twice.model.policy, once.model.policy), (twice.estimator, once.estimator)):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_checkpoints_from_before_sb3_py_find_their_replay_buffer_class():
    """A SAC checkpoint pickles its replay buffer's class by module; those written before the SB3
    glue left trainer.py name irl_gan.trainer.RelabelledReplayBuffer."""
    import pickle

    from irl_gan.sb3 import RelabelledReplayBuffer

    old = b"cirl_gan.trainer\nRelabelledReplayBuffer\n."  # pickle's GLOBAL opcode, as an old replay.pkl holds it
    assert pickle.loads(old) is RelabelledReplayBuffer


def test_a_training_run_directory_evaluates_as_an_agent(tmp_path, setup, cli):
    demos, config = setup
    out = tmp_path / "run"
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", out, "--config", config, "--no-progress")[0] == 0
    code, stdout, err = cli("eval-policy", out, "--task", "pendulum", "--episodes", 1)
    assert code == 0 and "normalised" in stdout, err
    code, _, err = cli("eval-policy", out, "--task", "invertedpendulum", "--episodes", 1)
    assert code == 2 and "trained on Pendulum-v1" in err


def test_sac_generator_trains_and_resumes_with_its_replay_buffer(tmp_path, setup, cli):
    demos, _ = setup
    config = tmp_path / "sac.yaml"
    config.write_text(yaml.safe_dump({**QUICK_RANKING, "n_envs": 1, "sac": {"learning_starts": 100, "buffer_size": 5000, "batch_size": 64},
                                      "cost_every": 200, "disc_batch": 32, "checkpoint_every": 200, "policy_kwargs": {"net_arch": [16]}}))
    out = tmp_path / "run"
    args = ("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--generator", "sac", "--out", out, "--no-progress")
    code, _, err = cli(*args, "--steps", 300, "--config", config)
    assert code == 0, err
    assert (out / "checkpoint" / "replay.pkl").exists()
    assert int(rows(out / "metrics.csv")[-1]["env_steps"]) == 300  # the tail after the last cost update is logged
    code, _, err = cli("train", "--task", "pendulum", "--out", out, "--steps", 500, "--resume", "--no-progress")
    assert code == 0, err
    assert int(rows(out / "metrics.csv")[-1]["env_steps"]) == 500


def test_sac_replay_rewards_follow_the_current_cost(tmp_path, setup):
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    config = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "demo_episodes": 2, "generator": "sac", "n_envs": 1,
                                             "sac": {"learning_starts": 50, "buffer_size": 1000}})])
    trainer = make_trainer(spec, demos, config, tmp_path / "run")
    trainer.model.learn(100)
    buf = trainer.model.replay_buffer
    before = buf.sample(64).rewards
    with torch.no_grad():
        for p in trainer.estimator.cost.parameters():
            p.add_(1.0)
    np.random.seed(0)
    after = buf.sample(64).rewards
    assert not torch.allclose(before, after)
    # and they are the learned reward of the stored transitions, not the env's
    obs, acts = buf.observations[:64, 0], buf.actions[:64, 0]
    r = trainer.replay_reward(obs, acts, buf.next_observations[:64, 0], np.zeros(64))
    assert not np.allclose(r, buf.rewards[:64, 0])


def test_disc_replay_draws_the_costs_generated_steps_from_the_whole_replay_buffer(tmp_path, setup):
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    config = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "demo_episodes": 2, "generator": "sac", "n_envs": 1, "disc_replay": True,
                                             "disc_batch": 16, "disc_updates": 2, "sac": {"learning_starts": 50, "buffer_size": 1000}})])
    trainer = make_trainer(spec, demos, config, tmp_path / "run")
    trainer.model.learn(400)
    trainer.recorder.start_rollout()
    trainer.recorder.steps["obs"].append(np.zeros((1, 3)))  # the recorder's rollout is not where they come from
    seg = trainer._gen_segments()
    buf = trainer.model.replay_buffer
    stored = {tuple(np.round(o, 5)) for o in buf.observations[: buf.pos, 0]}
    drawn = seg.obs[:, 0, :-1].numpy()
    assert len(seg) == 32 and all(tuple(np.round(o, 5)) in stored for o in drawn)
    # drawn from across the buffer, not only its last steps
    rows = [np.flatnonzero(np.abs(buf.observations[: buf.pos, 0] - o).sum(-1) < 1e-5)[0] for o in drawn]
    assert min(rows) < 200 < max(rows)
    # actions as the policy acts, not SB3's [-1, 1] scaling (Pendulum's torque is in [-2, 2])
    assert seg.acts.abs().max() > 1.0


def test_a_disc_replay_share_mixes_the_recent_steps_with_draws_from_the_whole_buffer(tmp_path, setup):
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    config = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "demo_episodes": 2, "generator": "sac", "n_envs": 1, "disc_replay": 0.75,
                                             "sac": {"learning_starts": 50, "buffer_size": 1000}})])
    trainer = make_trainer(spec, demos, config, tmp_path / "run")
    trainer.model.learn(400)
    trainer.recorder.start_rollout()
    trainer.model.learn(100, reset_num_timesteps=False)
    recent = trainer.recorder.rollout_arrays()["obs"][:, 0]
    seg = trainer._gen_segments()
    drawn = seg.obs[:, 0, :-1].numpy()
    assert len(seg) == 400  # the 100 recent steps and 300 replayed: a share of 3/4
    np.testing.assert_allclose(drawn[:100], recent, rtol=1e-6)
    buf = trainer.model.replay_buffer
    rows = [np.flatnonzero(np.abs(buf.observations[: buf.pos, 0] - o).sum(-1) < 1e-5)[0] for o in drawn[100:]]
    assert sum(r < 400 for r in rows) > 200  # mostly from before the recent steps (4/5 of the buffer)


@pytest.mark.parametrize("layer", [{"disc_replay": True}, {"disc_replay": True, "generator": "sac", "segment": 5}])
def test_disc_replay_needs_sac_transitions(layer):
    from irl_gan.config import resolve_config
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec

    with pytest.raises(UserError, match="use it with --generator sac and --segment 1"):
        resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", **layer})])


def test_generated_transitions_include_the_absorbing_loop_after_a_termination(tmp_path):
    # InvertedPendulum terminates when it falls: each fall adds one absorbing transition to the
    # generated batch, as each terminated demo episode does to the demo segments.
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    spec = load_spec("invertedpendulum")
    demos = tmp_path / "d.h5"
    from irl_gan.data import make_meta, save_demos
    from irl_gan.rollout import random_policy, rollout

    env = spec.make_env()
    save_demos(demos, rollout(env, random_policy(env), 3, 0, progress=False), make_meta(spec, env, None, False, "test"))
    config = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "demo_episodes": 3, "drop_terminated_demos": False, "n_envs": 1,
                                              "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}})])
    trainer = make_trainer(spec, demos, config, tmp_path / "run")
    trainer.model.learn(64)
    arrays = trainer.recorder.rollout_arrays()
    falls = int(arrays["terminated"].sum())
    seg = trainer._gen_segments()
    assert falls > 0
    assert int((seg.obs[:, 0, -1] == 1).sum()) == falls and len(seg) == 64 + falls
    assert int((trainer.demo_segments.obs[:, 0, -1] == 1).sum()) == 3


def test_periodic_deterministic_evaluation_matches_eval_policy_on_the_saved_policy(tmp_path, cli):
    """eval_return is the deterministic return of the policy at that step; the last row's is
    the saved policy's, as `irl-gan eval-policy` measures it with the same seeds."""
    demos, config = tiny_training_inputs(tmp_path, {**TINY, "eval_every": 256, "eval_episodes": 2})
    out = tmp_path / "run"
    code, stdout, err = cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 640,
                            "--out", out, "--config", config, "--no-progress")
    assert code == 0, err
    evaluated = [int(r["env_steps"]) for r in rows(out / "metrics.csv") if r["eval_return"]]
    assert evaluated == [256, 512, 640]
    from irl_gan.agents import load_policy
    from irl_gan.evaluation import evaluate_policy
    from irl_gan.tasks import load_spec

    saved = evaluate_policy(load_spec("pendulum"), load_policy(out), 2, seed=1_000_000, progress=False)
    assert float(rows(out / "metrics.csv")[-1]["eval_return"]) == pytest.approx(saved["mean"], abs=0.006)  # return_stats rounds to 0.01
    assert "deterministic eval" in stdout


def test_the_oracle_trains_on_the_true_reward_with_no_cost(tmp_path, setup):
    """--algo rl: the same generator and scaling, fed the env's own rewards."""
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    demos, _ = setup
    spec = load_spec("pendulum")
    config = resolve_config(spec, [("test", {**TINY, "demos": str(demos), "algo": "rl", "steps": 128})])
    trainer = make_trainer(spec, None, config, tmp_path / "run")  # the oracle learns from no demos
    seen = {}
    relabel = trainer.relabel

    def spy(buffer, last_values, dones):
        out = relabel(buffer, last_values, dones)
        seen["rews"] = trainer.recorder.rollout_arrays()["rews"].copy()
        seen["buffer"] = buffer.rewards.copy()
        return out

    trainer.relabel = spy
    trainer.train(progress=False)
    # Pendulum never terminates or truncates within 64 steps: the buffer is the true reward, scaled.
    assert np.allclose(seen["buffer"], seen["rews"] / trainer.reward_scale.std, rtol=1e-5)
    assert trainer.estimator is None and not (tmp_path / "run" / "cost.pt").exists()

    sac = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "algo": "rl", "generator": "sac", "n_envs": 1, "sac": {"learning_starts": 50, "buffer_size": 1000}})])
    trainer = make_trainer(spec, None, sac, tmp_path / "sac")
    trainer.model.learn(100)
    buf = trainer.model.replay_buffer
    assert np.isin(buf.sample(16).rewards.numpy().ravel(), buf.rewards[:100, 0]).all()  # the env's rewards, as stored
    assert type(buf).__name__ == "ReplayBuffer"


def test_policy_kwargs_per_generator(tmp_path, setup, cli):
    """A policy_kwargs inside ppo reaches PPO alone; SAC refuses PPO's ortho_init in one line."""
    demos, _ = setup
    config = tmp_path / "pk.yaml"
    config.write_text(yaml.safe_dump({**TINY, "ppo": {**TINY["ppo"], "policy_kwargs": {"ortho_init": False, "activation_fn": "relu"}}}))
    out = tmp_path / "run"
    code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", out, "--config", config, "--no-progress")
    assert code == 0, err
    from stable_baselines3 import PPO

    model = PPO.load(out / "policy.zip", device="cpu")
    assert model.policy.ortho_init is False and model.policy.activation_fn is torch.nn.ReLU
    config.write_text(yaml.safe_dump({"sac": {"policy_kwargs": {"ortho_init": False}}}))
    code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--generator", "sac", "--steps", 128, "--out", tmp_path / "sac", "--config", config, "--no-progress")
    assert code == 2 and "SB3 rejected the sac settings" in err and "Traceback" not in err


def test_retrain_trains_a_fresh_agent_on_the_frozen_learned_reward(tmp_path, setup, cli):
    """The fresh agent's rollouts are rewarded by the run's cost alone, never the env's, and with
    PPO by its own -α log π as the generator's were (``entropy_reward``)."""
    from irl_gan.config import resolve_config
    from irl_gan.reward import LearnedReward
    from irl_gan.segments import transitions
    from irl_gan.tasks import load_spec
    from irl_gan.trainer import Trainer

    demos, config = setup
    run = tmp_path / "run"
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", run, "--config", config, "--no-progress")[0] == 0
    code, stdout, err = cli("retrain", run, "--steps", 128, "--config", config, "--episodes", 2, "--no-progress")
    assert code == 0, err
    summary = yaml.safe_load((run / "retrain-pendulum-ppo-s0" / "retrain.yaml").read_text())
    assert summary["task"] == "pendulum" and summary["episodes"] == 2 and np.isfinite(summary["normalised_mean"])
    assert "normalised" in stdout and not (run / "retrain-pendulum-ppo-s0" / "cost.pt").exists()
    assert summary["cost"] == "final" and "final reward" in stdout  # a run this short kept no snapshots: its final cost, said so
    # The default directory names the seed the run has, also when --config sets it.
    seeded = tiny_config(tmp_path / "seeded.yaml", seed=3)
    assert cli("retrain", run, "--steps", 64, "--config", seeded, "--episodes", 1, "--no-progress")[0] == 0
    assert yaml.safe_load((run / "retrain-pendulum-ppo-s3" / "retrain.yaml").read_text())["seed"] == 3

    spec = load_spec("pendulum")
    for entropy_reward in (True, False):
        layer = {**TINY, "algo": "rl", "reward": str(run / "cost.pt"), "steps": 128, "temperature": 0.5, "entropy_reward": entropy_reward}
        trainer = Trainer(spec, None, resolve_config(spec, [("test", layer)]), tmp_path / f"re-{entropy_reward}")
        seen = {}
        relabel = trainer.relabel

        def spy(buffer, last_values, dones):
            out = relabel(buffer, last_values, dones)
            r = seen["r"] = trainer.recorder.rollout_arrays()
            seen["buffer"] = buffer.rewards.copy()
            # α log π of the policy that acted (it has not been updated yet)
            flat = [np.reshape(r[k], (-1, *np.shape(r[k])[2:])) for k in ("obs", "acts", "next_obs", "terminated")]
            seen["log_pi"] = trainer._log_pi(transitions(*flat)).sum(-1).double().numpy()
            return out

        trainer.relabel = spy
        trainer.train(progress=False)
        r = seen["r"]
        learned = LearnedReward.load(run / "cost.pt")(r["obs"], r["acts"], r["next_obs"], r["terminated"])
        # MaxEnt RL with PPO, as the generator had it: the policy's own -α log π is in the reward.
        expected = learned - seen["log_pi"].reshape(learned.shape) if entropy_reward else learned
        assert np.allclose(seen["buffer"], expected.reshape(seen["buffer"].shape) / trainer.reward_scale.std, rtol=1e-4, atol=1e-5), entropy_reward
        assert not np.allclose(expected, r["rews"])
    assert np.abs(seen["log_pi"]).max() > 0.1  # the entropy term is not negligible here


@pytest.mark.parametrize("generator", ["ppo", "sac"])
def test_cost_until_stops_the_cost_learning_and_the_generator_goes_on(tmp_path, setup, cli, generator):
    demos, _ = setup
    layer = {**TINY, "cost_history_every": 128, "cost_until": 256, "eval_every": 0}
    if generator == "sac":
        layer.update(n_envs=1, cost_every=64, sac={"learning_starts": 64, "buffer_size": 1000})
    frozen = tmp_path / "frozen.yaml"
    frozen.write_text(yaml.safe_dump(layer))
    run = tmp_path / "run"
    code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--generator", generator,
                       "--steps", 512, "--out", run, "--config", frozen, "--no-progress")
    assert code == 0, err
    weights = {p.stem: torch.load(p, weights_only=False) for p in (run / "cost_history").glob("cost-*.pt")}
    weights["final"] = torch.load(run / "cost.pt", weights_only=False)
    first = lambda name: next(v for k, v in weights[name]["state_dict"].items() if k.endswith("weight"))  # noqa: E731
    assert not torch.equal(first("cost-000000128"), first("cost-000000256"))  # it learned up to cost_until
    for later in ("cost-000000384", "cost-000000512", "final"):
        assert torch.equal(first("cost-000000256"), first(later)), later  # and not after
    steps = [int(r["env_steps"]) for r in rows(run / "metrics.csv")]
    assert steps[-1] == 512  # the generator went on to the end
    assert all(r["cost_loss"] == "" for r in rows(run / "metrics.csv") if int(r["env_steps"]) > 256)
    assert rows(run / "metrics.csv")[steps.index(256)]["cost_loss"] != ""


def test_cost_until_is_for_an_imitation_algo():
    from irl_gan.config import resolve_config
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec

    with pytest.raises(UserError, match="'cost_until' stops the cost learning while the generator goes on; --algo rl trains no generator"):
        resolve_config(load_spec("pendulum"), [("test", {"algo": "rl", "cost_until": 1000})])
    with pytest.raises(UserError, match="'cost_until' must be a non-negative integer"):
        resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "cost_until": -5})])


@pytest.mark.parametrize("algo", ["gcl", "gan-gcl"])
def test_shaped_gives_gcl_and_gan_gcl_a_potential_that_retrain_can_keep(tmp_path, setup, cli, algo):
    """shaped: true learns c = g + h(s) - γ h(s') with gcl or gan-gcl, as airl always does; the
    potential is trained (it changes between two snapshots) and retrain --shaped keeps it."""
    from irl_gan.cost import CostNet

    demos, config = setup
    shaped = tiny_config(tmp_path / "shaped.yaml", shaped=True, cost_history_every=128)
    run = tmp_path / algo
    assert cli("train", "--task", "pendulum", "--algo", algo, "--demos", demos, "--demo-episodes", 2, "--steps", 256, "--out", run, "--config", shaped, "--no-progress")[0] == 0
    early, late = (CostNet.load(run / "cost_history" / f"cost-{n:09d}.pt") for n in (128, 256))
    assert late.config.shaped and late.h is not None
    assert not torch.equal(early.h[0].weight, late.h[0].weight)
    code, stdout, err = cli("retrain", run, "--shaped", "--steps", 64, "--config", config, "--episodes", 1, "--no-progress")
    assert code == 0 and "shaped reward" in stdout, err


def test_shaped_is_for_a_learned_cost():
    from irl_gan.config import resolve_config
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec

    for algo in ("gail", "rl"):
        with pytest.raises(UserError, match=f"'shaped' adds a potential to a learned cost; --algo {algo} learns none"):
            resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "algo": algo, "shaped": True})])
    assert resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5", "algo": "gan-gcl", "shaped": True})]).shaped


def test_demo_log_pi_floor_is_for_a_density_discriminator():
    from irl_gan.config import resolve_config
    from irl_gan.errors import UserError
    from irl_gan.tasks import load_spec

    spec = load_spec("pendulum")
    for algo in ("gail", "rl", "bc"):
        with pytest.raises(UserError, match=f"'demo_log_pi_floor' bounds log q .*; --algo {algo} has none"):
            resolve_config(spec, [("test", {"demos": "d.h5", "algo": algo, "demo_log_pi_floor": 5})])
    for bad in (0, -1, "5"):
        with pytest.raises(UserError, match="'demo_log_pi_floor' must be a positive number or null"):
            resolve_config(spec, [("test", {"demos": "d.h5", "algo": "gan-gcl", "demo_log_pi_floor": bad})])
    assert resolve_config(spec, [("test", {"demos": "d.h5", "algo": "airl", "demo_log_pi_floor": 5})]).demo_log_pi_floor == 5


def test_cost_snapshots_and_a_retrain_on_their_mean(tmp_path, setup, cli):
    """cost_history_every keeps the cost at its interval; --cost average trains on the mean of them."""
    from irl_gan.reward import AveragedReward, LearnedReward
    from irl_gan.tasks import load_spec

    demos, config = setup
    history = tiny_config(tmp_path / "history.yaml", cost_history_every=128)
    run = tmp_path / "run"
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 384, "--out", run, "--config", history, "--no-progress")[0] == 0
    snapshots = sorted((run / "cost_history").glob("cost-*.pt"))
    assert [p.name for p in snapshots] == ["cost-000000128.pt", "cost-000000256.pt", "cost-000000384.pt"]
    first, last = LearnedReward.load(snapshots[0]), LearnedReward.load(run / "cost.pt")
    assert not torch.equal(first.cost.state_dict()["g.0.weight"], last.cost.state_dict()["g.0.weight"])

    averaged = LearnedReward.for_task(run / "cost_history", load_spec("pendulum"))
    assert isinstance(averaged, AveragedReward) and len(averaged.rewards) == 3
    rng = np.random.default_rng(0)
    dim = last.cost.config.obs_dim - 1
    obs, acts, nxt, term = rng.normal(size=(5, dim)), rng.normal(size=(5, 1)), rng.normal(size=(5, dim)), np.array([0, 0, 1, 0, 0])
    each = [LearnedReward.load(p)(obs, acts, nxt, term) for p in snapshots]
    assert np.allclose(averaged(obs, acts, nxt, term), np.mean(each, axis=0), atol=1e-6)  # float32 sums in another order
    assert np.isclose(averaged.absorbing_reward(), np.mean([LearnedReward.load(p).absorbing_reward() for p in snapshots]))

    code, stdout, err = cli("retrain", run, "--cost", "average", "--steps", 128, "--config", config, "--episodes", 1, "--no-progress")
    assert code == 0, err
    out = run / "retrain-pendulum-ppo-s0-average"
    assert yaml.safe_load((out / "retrain.yaml").read_text())["cost"] == "average"
    assert yaml.safe_load((out / "config.yaml").read_text())["reward"] == str((run / "cost_history").resolve())
    assert "averaged reward" in stdout
    code, stdout, err = cli("eval-reward", run, "--cost", "average", "--episodes", 1, "--no-progress")
    assert code == 0, err
    assert yaml.safe_load((run / "reward-eval-pendulum-average" / "reward_eval.yaml").read_text())["cost"] == "average"
    # --cost left out: the mean, since the run kept snapshots
    code, stdout, err = cli("retrain", run, "--steps", 128, "--config", config, "--episodes", 1, "--no-progress", "--out", tmp_path / "by-default")
    assert code == 0, err
    assert yaml.safe_load((tmp_path / "by-default" / "config.yaml").read_text())["reward"] == str((run / "cost_history").resolve())
    assert "averaged reward" in stdout

    # one snapshot, named by its env step: the cost of that moment of the game
    code, stdout, err = cli("retrain", run, "--cost", "256", "--steps", 128, "--config", config, "--episodes", 1, "--no-progress")
    assert code == 0, err
    out = run / "retrain-pendulum-ppo-s0-at256"
    assert yaml.safe_load((out / "config.yaml").read_text())["reward"] == str(snapshots[1].resolve())
    assert "env step 256's reward" in stdout
    code, stdout, err = cli("eval-reward", run, "--cost", "256", "--episodes", 1, "--no-progress")
    assert code == 0, err
    assert yaml.safe_load((run / "reward-eval-pendulum-at256" / "reward_eval.yaml").read_text())["cost"] == "256"
    code, _, err = cli("retrain", run, "--cost", "200")
    assert code != 0 and err.strip().count("\n") == 0
    assert "no cost snapshot at env step 200" in err and "env steps 128 to 384, every 128" in err


@pytest.mark.parametrize("args, message", [
    (("retrain", "{run}", "--cost", "average"), "no cost snapshots in cost_history/"),
    (("eval-reward", "{run}", "--cost", "average"), "no cost snapshots in cost_history/"),
    (("retrain", "{run}", "--cost", "latest"), "--cost 'latest': use final, average, or the env step of a snapshot"),
    (("eval-reward", "{run}", "--cost", "128"), "no cost snapshot at env step 128 in cost_history/; it has none"),
    (("retrain", "{tmp}/nothing"), "not a training run with a learned cost"),
    (("retrain", "{run}", "--task", "hopper"), "Hopper-v5 has 11 and 3"),
    (("retrain", "{run}", "--shaped"), "no shaping term to keep (airl learns one, gcl and gan-gcl with shaped: true)"),
    (("train", "--task", "pendulum", "--algo", "gail", "--demos", "{demos}", "--config", "{reward_cfg}", "--out", "{tmp}/x"), "use it with --algo rl"),
])
def test_bad_retrain_input_is_one_line(tmp_path, setup, cli, args, message):
    demos, config = setup
    run = tmp_path / "run"
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 64, "--out", run, "--config", config, "--no-progress")[0] == 0
    reward_cfg = tmp_path / "reward.yaml"
    reward_cfg.write_text(yaml.safe_dump({"reward": str(run / "cost.pt")}))
    code, _, err = cli(*[a.format(tmp=tmp_path, run=run, demos=demos, reward_cfg=reward_cfg) for a in args])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_retrain_shaped_keeps_airls_shaping_term_on_the_runs_own_task(tmp_path, setup, cli):
    """--shaped trains on AIRL's g(s) + γh(s') - h(s); without it, on g alone."""
    from irl_gan.reward import LearnedReward
    from irl_gan.tasks import load_spec

    demos, config = setup
    run = tmp_path / "airl"
    assert cli("train", "--task", "pendulum", "--algo", "airl", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", run, "--config", config, "--no-progress")[0] == 0
    code, stdout, err = cli("retrain", run, "--shaped", "--steps", 64, "--config", config, "--episodes", 1, "--no-progress")
    assert code == 0, err
    out = run / "retrain-pendulum-ppo-s0-shaped"
    assert yaml.safe_load((out / "retrain.yaml").read_text())["shaped"] is True and "shaped reward" in stdout
    assert yaml.safe_load((out / "config.yaml").read_text())["reward_shaped"] is True

    spec = load_spec("pendulum")
    shaped, g = LearnedReward.for_task(run / "cost.pt", spec, transfer=False), LearnedReward.for_task(run / "cost.pt", spec)
    rng = np.random.default_rng(0)
    obs, acts, nxt, term = rng.normal(size=(6, 3)), rng.normal(size=(6, 1)), rng.normal(size=(6, 3)), np.array([0, 0, 1, 0, 0, 0])
    inputs = LearnedReward.inputs(obs, acts, nxt, term)
    with torch.no_grad():
        h, h_next = (shaped.cost.potential(x).double().numpy() for x in (inputs[0], inputs[2]))  # s and s'
    assert np.allclose(shaped(obs, acts, nxt, term) - g(obs, acts, nxt, term), -(h - shaped.gamma * h_next), atol=1e-5)

    code, _, err = cli("retrain", run, "--shaped", "--task", "hopper", "--no-progress")
    assert code == 2 and "--shaped keeps the shaping term h" in err and len(err.strip().splitlines()) == 1, err


def test_bc_clones_the_demos_and_writes_a_run_like_any_other(tmp_path, cli):
    """Behavioural cloning on a controller's demos: the likelihood of the demo actions rises, and
    the saved policy reproduces the demo actions on the demo states."""
    from irl_gan.agents import load_policy
    from irl_gan.data import load_demos

    demos, config = tiny_training_inputs(tmp_path, {"bc_steps": 500, "bc_batch": 128, "eval_episodes": 1})
    out = tmp_path / "bc"
    code, stdout, err = cli("train", "--task", "pendulum", "--demos", demos, "--algo", "bc", "--demo-episodes", 2, "--out", out, "--config", config, "--no-progress")
    assert code == 0, err
    metrics = rows(out / "metrics.csv")
    assert [int(r["bc_steps"]) for r in metrics] == [100, 200, 300, 400, 500] and all(r["env_steps"] == "0" for r in metrics)
    assert float(metrics[-1]["bc_loss"]) < float(metrics[0]["bc_loss"])
    policy = load_policy(out)
    ep = load_demos(demos).episodes[0]
    predicted = np.array([policy(o) for o in ep.observations[:-1]])
    assert np.corrcoef(predicted.ravel(), ep.actions.ravel())[0, 1] > 0.8
    assert "deterministic eval" in stdout and {"policy.zip", "obs_norm.npz", "config.yaml", "card.yaml"} <= {p.name for p in out.iterdir()}


def test_resuming_a_finished_run_evaluates_it_again_and_adds_no_round(tmp_path, setup, cli):
    demos, config = setup
    out = tmp_path / "run"
    args = ("train", "--task", "pendulum", "--out", out, "--no-progress")
    assert cli(*args, "--demos", demos, "--demo-episodes", 2, "--steps", 256, "--config", config)[0] == 0
    before = rows(out / "metrics.csv")
    code, stdout, err = cli(*args, "--resume")
    assert code == 0, err
    after = rows(out / "metrics.csv")
    # SB3 resets the envs on resume, which moves the observation statistics a little, so the
    # evaluation is close to, not exactly, the first one.
    assert len(after) == len(before) and np.isfinite(float(after[-1]["eval_return"]))
    assert float(after[-1]["eval_return"]) == pytest.approx(float(before[-1]["eval_return"]), rel=0.05)


def test_a_sac_retrain_resumes_on_its_frozen_reward_and_refuses_another(tmp_path, setup, cli):
    demos, config = setup
    run, other = tmp_path / "run", tmp_path / "other"
    for r in (run, other):
        assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 64, "--out", r, "--config", config, "--no-progress")[0] == 0
    sac = tmp_path / "sac.yaml"
    sac.write_text(yaml.safe_dump({**QUICK_RANKING, "n_envs": 1, "sac": {"learning_starts": 50, "buffer_size": 1000, "batch_size": 32},
                                   "checkpoint_every": 100, "eval_every": 0, "policy_kwargs": {"net_arch": [16]}}))
    out = tmp_path / "re"
    args = ("--generator", "sac", "--out", out, "--config", sac, "--episodes", 1, "--no-progress")
    assert cli("retrain", run, "--steps", 150, *args)[0] == 0
    code, _, err = cli("retrain", run, "--steps", 250, *args, "--resume")
    assert code == 0, err
    assert int(rows(out / "metrics.csv")[-1]["env_steps"]) == 250
    code, _, err = cli("retrain", other, "--steps", 300, *args, "--resume")
    assert code == 2 and "from a run with reward" in err and len(err.strip().splitlines()) == 1


def test_a_sac_retrain_keeps_the_temperature_the_cost_was_learned_at(tmp_path, setup, cli):
    demos, _ = setup
    run = tmp_path / "run"
    hot = tiny_config(tmp_path / "hot.yaml", temperature=0.3)
    assert cli("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 64, "--out", run, "--config", hot, "--no-progress")[0] == 0
    sac = {"n_envs": 1, "sac": {"learning_starts": 50, "buffer_size": 1000, "batch_size": 32}, "eval_every": 0, "policy_kwargs": {"net_arch": [16]}}
    (tmp_path / "sac.yaml").write_text(yaml.safe_dump(sac))
    (tmp_path / "sac-t.yaml").write_text(yaml.safe_dump({**sac, "temperature": 0.7}))
    for name, want in (("sac.yaml", 0.3), ("sac-t.yaml", 0.7)):  # the run's, unless --config names one
        out = tmp_path / f"re-{name}"
        code, _, err = cli("retrain", run, "--steps", 60, "--generator", "sac", "--out", out, "--config", tmp_path / name, "--episodes", 1, "--no-progress")
        assert code == 0, err
        assert yaml.safe_load((out / "config.yaml").read_text())["sac"]["ent_coef"] == want


def test_bad_bc_policy_settings_are_one_line(tmp_path, cli):
    demos, config = tiny_training_inputs(tmp_path, {"bc_steps": 10, "policy_kwargs": {"activation_fn": "gelu"}})
    code, _, err = cli("train", "--task", "pendulum", "--demos", demos, "--algo", "bc", "--demo-episodes", 2, "--out", tmp_path / "bc", "--config", config)
    assert code == 2 and "activation_fn" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("generator, steps", [("ppo", 300), ("sac", 3000)])  # SAC's std head takes up the first steps
def test_bc_init_starts_the_generator_on_the_demos(tmp_path, setup, generator, steps):
    """``bc_init`` raises the generator's likelihood of the demo actions before any env step,
    normalises observations by the demos' statistics, and leaves PPO's exploration std alone."""
    from irl_gan.config import resolve_config
    from irl_gan.data import load_demos, state_action_pairs
    from irl_gan.tasks import load_spec
    from irl_gan.trainer import Trainer

    demos, _ = setup
    spec = load_spec("pendulum")
    config = resolve_config(spec, [("test", {**QUICK_RANKING, "demos": str(demos), "demo_episodes": 2, "generator": generator, "n_envs": 1, "bc_init": steps, "bc_batch": 128})])
    learned_from = config.select_demos(load_demos(demos, spec))
    trainer = Trainer(spec, learned_from, config, tmp_path / "run")
    obs, acts = state_action_pairs(learned_from)
    log_std = trainer.model.policy.log_std.detach().clone() if generator == "ppo" else None
    trainer.venv.obs_rms.mean[:] = obs.mean(0)  # the same normaliser for the before and after
    trainer.venv.obs_rms.var[:] = obs.var(0)

    def fit():
        predicted = trainer.model.predict(trainer.venv.normalize_obs(obs), deterministic=True)[0]
        return float(trainer.density.log_prob(obs, acts).mean()), float(np.mean((predicted - acts) ** 2))

    (lik_before, err_before), diag, (lik_after, err_after) = fit(), trainer.behaviour_clone(progress=False), fit()
    assert lik_after > lik_before and err_after < 0.3 * err_before
    assert diag["bc_log_lik"] == pytest.approx(lik_after, abs=0.5)
    np.testing.assert_allclose(trainer.venv.obs_rms.mean, obs.mean(0))
    np.testing.assert_allclose(trainer.venv.obs_rms.var, obs.var(0))
    if generator == "ppo":
        assert torch.equal(trainer.model.policy.log_std, log_std)
    trainer.model.learn(64)  # the generator's own states leave the normaliser as it is
    np.testing.assert_allclose(trainer.venv.obs_rms.mean, obs.mean(0))


def test_bc_init_logs_the_cloned_policy_at_step_zero_and_not_again_on_resume(tmp_path, cli):
    demos, config = tiny_training_inputs(tmp_path, {**TINY, "bc_init": 50, "eval_every": 128, "eval_episodes": 1})
    out = tmp_path / "run"
    args = ("train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--out", out, "--config", config, "--no-progress")
    assert cli(*args, "--steps", 128)[0] == 0
    first = rows(out / "metrics.csv")
    assert first[0]["env_steps"] == "0" and np.isfinite(float(first[0]["bc_log_lik"])) and np.isfinite(float(first[0]["eval_return"]))
    code, _, err = cli("train", "--task", "pendulum", "--steps", 256, "--out", out, "--resume", "--no-progress")
    assert code == 0, err
    after = rows(out / "metrics.csv")
    assert [r["bc_log_lik"] != "" for r in after] == [True] + [False] * (len(after) - 1)
    # The resumed run kept the normaliser at the demos' statistics.
    from irl_gan.agents import ObsNorm
    from irl_gan.data import load_demos, state_action_pairs

    observations, _ = state_action_pairs(load_demos(demos).episodes[:2])
    np.testing.assert_allclose(ObsNorm.load(out / "obs_norm.npz").mean, observations.mean(0))


def test_bc_init_needs_demos(tmp_path, cli):
    config = tmp_path / "bc.yaml"
    config.write_text("bc_init: 10\n")
    code, _, err = cli("train", "--task", "pendulum", "--algo", "rl", "--steps", 64, "--out", tmp_path / "run", "--config", config)
    assert code == 2 and err.count("\n") == 1 and "'bc_init' clones the demos into an imitation" in err


def test_settings_no_layer_names_resolve_to_the_recipe_and_the_oracle_needs_no_demos():
    from irl_gan.config import TrainConfig, resolve_config
    from irl_gan.tasks import load_spec

    oracle = resolve_config(load_spec("pendulum"), [("test", {"algo": "rl"})])
    assert oracle.demos is None and oracle.rank_weight == 0 and oracle.demo_log_pi_floor is None
    recipe = resolve_config(load_spec("pendulum"), [("test", {"demos": "d.h5"})])
    defaults = TrainConfig(task="pendulum", demos="d.h5")
    assert (recipe.rank_weight, recipe.demo_log_pi_floor, recipe.rank_episodes) == (defaults.rank_weight, defaults.demo_log_pi_floor, defaults.rank_episodes)
