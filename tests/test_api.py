"""The Python API: estimator classes in SB3's idiom, over the same loop as irl-gan train."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from irl_gan import GAIL, GANGCL
from irl_gan.data import load_demos
from irl_gan.errors import UserError

from helpers import QUICK_RANKING

ROOT = Path(__file__).resolve().parent.parent
DEMOS = ROOT / "demos" / "invertedpendulum.h5"
SMALL = dict(n_envs=1, ppo={"n_steps": 256, "batch_size": 64, "n_epochs": 2}, eval_every=0, checkpoint_every=10**9, **QUICK_RANKING)


def test_the_api_example_runs_and_docs_api_shows_it_whole(tmp_path):
    script = ROOT / "examples" / "api_quickstart.py"
    assert script.read_text().strip() in (ROOT / "docs" / "api.md").read_text()
    (tmp_path / "demos").symlink_to(ROOT / "demos")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, script, "4096"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r"env steps: 4096 \(the callback counted 2048 in the first call\)", proc.stdout)
    assert re.search(r"last evaluation: normalised -?\d\.\d{3}", proc.stdout)
    assert re.search(r"after loading: 6144 env steps", proc.stdout)
    assert (tmp_path / "runs" / "api-quickstart" / "policy.zip").is_file()


def test_learn_goes_on_where_it_stopped_with_your_own_sb3_model(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env("InvertedPendulum-v5", n_envs=2, seed=0)
    mine = PPO("MlpPolicy", venv, n_steps=128, batch_size=64, n_epochs=2, gamma=0.98, seed=0, device="cpu")
    algo = GANGCL(venv, DEMOS, mine, out=tmp_path / "run", eval_every=0, **QUICK_RANKING)
    assert algo.generator is mine and algo.trainer.config.n_envs == 2 and algo.trainer.config.gamma == 0.98
    algo.learn(256)
    algo.learn(512)
    assert mine.num_timesteps == 768 and [int(r["env_steps"]) for r in algo.metrics] == [256, 512, 768]
    assert algo.trainer.config.task == "InvertedPendulum-v5"  # the task the env was made from


def test_demos_in_memory_travel_with_a_saved_run_and_load_goes_on(tmp_path):
    episodes = load_demos(DEMOS).episodes[:4]
    algo = GAIL("invertedpendulum", episodes, "ppo", **SMALL)
    tmp_run = algo.run_dir
    algo.learn(256)
    algo.save(tmp_path / "saved")
    del algo
    import gc

    gc.collect()
    assert not tmp_run.exists()  # the temporary run folder goes with its object
    again = GAIL.load(tmp_path / "saved")
    assert again.trainer.config.demos == str(tmp_path / "saved" / "demos.h5")
    again.learn(256)
    assert again.generator.num_timesteps == 512
    with pytest.raises(UserError, match="is a gail run"):
        GANGCL.load(tmp_path / "saved")


def test_the_learned_reward_scores_transitions_and_bad_input_is_one_line(tmp_path):
    algo = GANGCL("invertedpendulum", DEMOS, **SMALL, out=tmp_path / "run")
    algo.learn(256)
    ep = load_demos(DEMOS).episodes[0]
    r = algo.reward(ep.observations[:-1], ep.actions, ep.observations[1:], np.zeros(ep.length, bool))
    assert r.shape == (ep.length,) and np.isfinite(r).all()
    with pytest.raises(UserError, match="generator 'td3'"):
        GANGCL("invertedpendulum", DEMOS, "td3")
    with pytest.raises(UserError, match="not empty"):
        GANGCL("invertedpendulum", DEMOS, out=tmp_path / "run")
    with pytest.raises(UserError, match="total_timesteps"):
        algo.learn(0)


def test_policy_zip_evaluates_with_sb3_alone_beside_its_vecnormalize(tmp_path):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from irl_gan.agents import load_policy

    GANGCL("invertedpendulum", DEMOS, **SMALL, out=tmp_path / "run").learn(512)
    venv = VecNormalize.load(str(tmp_path / "run" / "vecnormalize.pkl"), make_vec_env("InvertedPendulum-v5", n_envs=1))
    venv.training = False
    model = PPO.load(tmp_path / "run" / "policy.zip", device="cpu")
    raw = np.random.default_rng(0).normal(size=(8, 4))
    sb3_alone = model.predict(venv.normalize_obs(raw), deterministic=True)[0]
    ours = np.stack([load_policy(tmp_path / "run")(o) for o in raw])
    np.testing.assert_allclose(np.clip(sb3_alone, -3, 3), ours, rtol=1e-5, atol=1e-6)
