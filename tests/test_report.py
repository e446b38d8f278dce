"""`irl-gan report`: one self-contained HTML page per run."""

import base64
import re

import yaml

from irl_gan.data import make_meta, save_demos
from irl_gan.rollout import random_policy, rollout
from irl_gan.tasks import load_spec

from helpers import QUICK_RANKING

TINY = {"n_envs": 2, "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}, "disc_batch": 32, "checkpoint_every": 128,
        "eval_every": 64, "eval_episodes": 1, "policy_kwargs": {"net_arch": [16]}, "cost_hidden": [16], **QUICK_RANKING,
        "drop_terminated_demos": False}  # the demos are a random policy's, which falls


def test_report_shows_curves_reward_evaluation_retrain_and_video(tmp_path, cli):
    spec = load_spec("invertedpendulum")
    env = spec.make_env()
    demos = save_demos(tmp_path / "ip.h5", rollout(env, random_policy(env), 2, 0, progress=False), make_meta(spec, env, {"policy": "random"}, False, "tests"))
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY))
    run = tmp_path / "run"
    assert cli("train", "--task", "invertedpendulum", "--demos", demos, "--demo-episodes", 2, "--steps", 128, "--out", run, "--config", config, "--no-progress")[0] == 0
    assert cli("retrain", run, "--steps", 128, "--seed", 7, "--config", config, "--episodes", 1, "--no-progress")[0] == 0
    code, stdout, err = cli("report", run, "--video-steps", 20, "--no-progress")
    assert code == 0, err
    page = (run / "report.html").read_text()
    for heading in ("Summary", "Learning curves and training diagnostics", "The learned reward", "Re-training on the learned reward", "The policy", "Settings"):
        assert f"<h2>{heading}</h2>" in page
    # Evaluated on the way, since the run had no reward evaluation: its numbers and plots are in.
    evaluated = yaml.safe_load((run / "reward-eval-invertedpendulum" / "reward_eval.yaml").read_text())
    assert f"{evaluated['pearson']:.3f}" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) >= 2 and all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    retrained = yaml.safe_load((run / "retrain-invertedpendulum-ppo-s7" / "retrain.yaml").read_text())
    # One row per retrain, its seed told apart: several seeds of one reward are the usual study.
    assert f"<td>ppo</td><td>7</td><td>128</td><td>{retrained['return_mean']:.1f} ± {retrained['return_std']:.1f}</td>" in page
    video = re.search(r'src="data:video/mp4;base64,([^"]+)"', page)
    assert video and len(base64.b64decode(video.group(1))) > 1000


def test_report_of_a_directory_that_is_not_a_run_is_one_line(tmp_path, cli):
    code, _, err = cli("report", tmp_path)
    assert code == 2 and "not a training run" in err and len(err.strip().splitlines()) == 1


def test_report_out_must_be_a_file_name(tmp_path, cli):
    demos_dir = tmp_path / "run"
    demos_dir.mkdir()
    (demos_dir / "config.yaml").write_text("task: pendulum\n")
    (demos_dir / "metrics.csv").write_text("round,env_steps,wall_s\n")
    code, _, err = cli("report", demos_dir, "--out", tmp_path, "--no-eval", "--no-video")
    assert code == 2 and "is a directory" in err and len(err.strip().splitlines()) == 1
