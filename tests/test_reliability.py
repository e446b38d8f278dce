"""Issue 7: runs survive SIGKILL, the same seed gives the same metrics, diverging numerics stop
a run with a checkpoint instead of NaN models, and a million transitions load in bounded memory."""

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import ROOT
from helpers import make_trainer, tiny_training_inputs, QUICK_RANKING

from irl_gan.io import latest_dir

TINY = {"n_envs": 2, "ppo": {"n_steps": 64, "batch_size": 64, "n_epochs": 1}, "policy_kwargs": {"net_arch": [16, 16]},
        "cost_hidden": [16, 16], "disc_batch": 32, "checkpoint_every": 256,
        "disc_updates": 1, **QUICK_RANKING}  # one cost loss per round: the divergence tests count rounds by loss calls
TIMING = {"wall_s", "env_steps_per_s"}


@pytest.fixture
def setup(tmp_path):
    return tiny_training_inputs(tmp_path, TINY)


def train_args(demos, config, out, steps, *extra):
    return ["train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", steps, "--out", out,
            "--config", config, "--no-progress", *extra]


def metrics(out):
    with open(out / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def assert_run_files_sound(out):
    """Every file a run has written reads back whole."""
    from stable_baselines3 import PPO

    from irl_gan.reward import LearnedReward

    if (out / "metrics.csv").exists():
        header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
        for row in metrics(out):
            assert None not in row and None not in row.values() and len(row) == len(header)
    for name in ("config.yaml", "card.yaml"):
        if (out / name).exists():
            assert isinstance(yaml.safe_load((out / name).read_text()), dict)
    if (out / "policy.zip").exists():
        PPO.load(out / "policy.zip", device="cpu")
    if (out / "cost.pt").exists():
        LearnedReward.load(out / "cost.pt")
    ckpt = latest_dir(out / "checkpoint")
    if ckpt is not None:
        state = json.loads((ckpt / "state.json").read_text())
        model = PPO.load(ckpt / "model.zip", device="cpu")
        assert model.num_timesteps == state["env_steps"]
        blob = torch.load(ckpt / "trainer.pt", weights_only=False)
        assert blob["round"] == state["round"]
        assert all(torch.isfinite(v).all() for v in blob["estimator"].values() if torch.is_tensor(v))
        return state["env_steps"]
    return 0


def test_sigkill_at_random_moments_then_resume_loses_at_most_one_checkpoint_interval(tmp_path, setup):
    demos, config = setup
    out, steps, every = tmp_path / "run", 3072, TINY["checkpoint_every"]
    cmd = [sys.executable, "-m", "irl_gan.cli", *map(str, train_args(demos, config, out, steps))]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rng = random.Random(7)
    resumed_from = 0
    for attempt in range(4):
        proc = subprocess.Popen(cmd + (["--resume"] if (out / "config.yaml").exists() else []), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if attempt == 0:
            time.sleep(rng.uniform(0.5, 3.0))  # anywhere, start-up included
        else:
            # Once training is past where it resumed, a random moment: mid-round, mid-checkpoint.
            deadline = time.time() + 120
            while time.time() < deadline and proc.poll() is None:
                if (out / "metrics.csv").exists() and metrics(out) and int(metrics(out)[-1]["env_steps"]) > resumed_from:
                    break
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.6))
        assert proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        logged = int(metrics(out)[-1]["env_steps"]) if (out / "metrics.csv").exists() and metrics(out) else 0
        resumed_from = assert_run_files_sound(out)
        assert resumed_from >= logged - every, (attempt, logged, resumed_from)
    done = subprocess.run(cmd + ["--resume"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert_run_files_sound(out)
    rows = metrics(out)
    env_steps = [int(r["env_steps"]) for r in rows]
    assert env_steps == sorted(set(env_steps)) and env_steps[-1] == steps
    assert [int(r["round"]) for r in rows] == list(range(1, len(rows) + 1))


def test_same_seed_same_metrics(tmp_path, setup, cli):
    """Determinism, on one machine with a fixed torch thread count (conditions in the README)."""
    demos, config = setup
    runs = []
    for name in ("a", "b"):
        code, _, err = cli(*train_args(demos, config, tmp_path / name, 768, "--seed", 3))
        assert code == 0, err
        runs.append([{k: v for k, v in r.items() if k not in TIMING} for r in metrics(tmp_path / name)])
    assert runs[0] == runs[1]
    assert any(r["true_return"] for r in runs[0])  # the comparison covered real returns
    code, _, _ = cli(*train_args(demos, config, tmp_path / "c", 768, "--seed", 4))
    other = [{k: v for k, v in r.items() if k not in TIMING} for r in metrics(tmp_path / "c")]
    assert other != runs[0]  # and the seed matters


def _nan_after(calls: int, fn):
    count = {"n": 0}

    def wrapped(*args, **kwargs):
        count["n"] += 1
        loss, diag = fn(*args, **kwargs)
        return (loss * float("nan"), diag) if count["n"] > calls else (loss, diag)

    return wrapped


def test_diverging_cost_stops_with_a_checkpoint_and_resumes(tmp_path, setup, cli, monkeypatch):
    import irl_gan.trainer as trainer_module

    demos, config = setup
    out = tmp_path / "run"
    real = trainer_module.make_estimator

    def diverging(*args, **kwargs):
        est = real(*args, **kwargs)
        est.loss = _nan_after(5, est.loss)
        return est

    monkeypatch.setattr(trainer_module, "make_estimator", diverging)
    code, _, err = cli(*train_args(demos, config, out, 1024))
    assert code == 3
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "training stopped at env step 768: the cost loss became nan; lower cost_lr" in err
    assert "the checkpoint at env step 768" in err and "--resume" in err
    assert assert_run_files_sound(out) == 768
    monkeypatch.setattr(trainer_module, "make_estimator", real)
    code, _, err = cli(*train_args(demos, config, out, 1024, "--resume"))
    assert code == 0, err
    assert int(metrics(out)[-1]["env_steps"]) == 1024


def test_diverging_policy_stops_without_writing_nan(tmp_path, setup, cli, monkeypatch):
    import irl_gan.trainer as trainer_module

    demos, config = setup
    out = tmp_path / "run"
    real = trainer_module.Trainer.relabel
    calls = {"n": 0}

    def poisoning(self, *args, **kwargs):
        calls["n"] += 1
        result = real(self, *args, **kwargs)
        if calls["n"] == 4:  # as if the PPO update that follows had diverged
            with torch.no_grad():
                next(self.model.policy.parameters()).fill_(float("nan"))
        return result

    monkeypatch.setattr(trainer_module.Trainer, "relabel", poisoning)
    code, _, err = cli(*train_args(demos, config, out, 1024))
    assert code == 3 and err.count("\n") == 1
    assert "the policy's parameters became NaN or Inf" in err and "the checkpoint at env step 256" in err
    assert assert_run_files_sound(out) == 256
    from stable_baselines3 import PPO

    for path in (out / "policy.zip", latest_dir(out / "checkpoint") / "model.zip"):
        assert all(torch.isfinite(p).all() for p in PPO.load(path, device="cpu").policy.parameters())


def test_sigkilled_recording_leaves_no_valid_dataset(tmp_path):
    out = tmp_path / "big.h5"
    proc = subprocess.Popen(
        [sys.executable, "-m", "irl_gan.cli", "record", "pendulum", "--agent", "controllers:zero", "--episodes", "2000", "--out", str(out), "--no-progress"],
        cwd=ROOT / "tests", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}"},
    )
    time.sleep(4)
    assert proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()


def test_a_million_halfcheetah_transitions_load_within_2_gib(tmp_path):
    """1,000 episodes of 1,000 steps, with HalfCheetah's spaces; peak memory of a fresh process."""
    from irl_gan.data import make_meta
    from irl_gan.tasks import load_spec

    spec = load_spec("halfcheetah")
    env = spec.make_env()
    meta = make_meta(spec, env, None, None, "tests")
    env.close()
    rng = np.random.default_rng(0)
    n_ep, T = 1000, 1000
    obs = rng.standard_normal((n_ep * (T + 1), 17))
    acts = rng.uniform(-1, 1, (n_ep * T, 6))
    rewards = rng.standard_normal(n_ep * T)
    import h5py

    from irl_gan.data import FORMAT, FORMAT_VERSION

    path = tmp_path / "million.h5"
    with h5py.File(path, "w") as f:  # written directly: building a million Episode objects is not the point
        f.attrs["format"], f.attrs["format_version"], f.attrs["meta"] = FORMAT, FORMAT_VERSION, json.dumps(meta)
        f["observations"], f["actions"], f["rewards"] = obs, acts, rewards
        f["episode_lengths"] = np.full(n_ep, T)
        f["episode_terminated"] = np.zeros(n_ep, bool)
        f["episode_truncated"] = np.ones(n_ep, bool)
        f["episode_seeds"] = np.arange(n_ep)
        f["episode_returns"] = rewards.reshape(n_ep, T).sum(1)
    del obs, acts, rewards
    probe = (
        "import resource, sys; from irl_gan.data import load_demos; from irl_gan.tasks import load_spec;"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        f"d = load_demos(r'{path}', load_spec('halfcheetah')); assert d.n_steps == {n_ep * T};"
        "print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    before, peak = map(int, subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT).stdout.split())
    assert peak < 2 * 1024**2, f"peak {peak / 1024:.0f} MiB"  # ru_maxrss is in KiB on Linux
    assert peak - before < 1.5 * 1024**2


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_over(tmp_path, setup, cli):
    demos, config = setup
    out = tmp_path / "run"
    assert cli(*train_args(demos, config, out, 128))[0] == 0
    for name in ("checkpoint", "metrics.csv", "policy.zip"):  # as a kill right after config.yaml leaves it
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    code, _, err = cli(*train_args(demos, config, out, 256, "--resume"))
    assert code == 0 and "no checkpoint in" in err and "starting the run from step 0" in err
    assert [int(r["env_steps"]) for r in metrics(out)] == [128, 256]


def test_a_killed_runs_policy_and_cost_are_its_last_checkpoints(tmp_path, setup):
    """Not the untrained ones of step 0: retrain and eval-policy on a killed run use what it learned."""
    from stable_baselines3 import PPO

    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec
    from irl_gan.trainer import Trainer

    demos, config = setup
    spec = load_spec("pendulum")
    cfg = resolve_config(spec, [("test", {**yaml.safe_load(Path(config).read_text()), "demos": str(demos), "demo_episodes": 2, "steps": 512})])
    out = tmp_path / "run"
    trainer = make_trainer(spec, demos, cfg, out)
    trainer.save_config()
    initial = {k: v.clone() for k, v in trainer.estimator.cost.state_dict().items()}
    original = Trainer.save_checkpoint

    def checkpoint_then_killed(self):
        original(self)
        raise RuntimeError("killed")  # as SIGKILL right after the first checkpoint

    Trainer.save_checkpoint = checkpoint_then_killed
    try:
        with pytest.raises(RuntimeError, match="killed"):
            trainer.train(progress=False)
    finally:
        Trainer.save_checkpoint = original
    ckpt = latest_dir(out / "checkpoint")
    saved_cost = torch.load(out / "cost.pt", weights_only=False)["state_dict"]
    in_ckpt = torch.load(ckpt / "trainer.pt", weights_only=False)["estimator"]
    for name, value in saved_cost.items():
        torch.testing.assert_close(value, in_ckpt[f"cost.{name}"])
    assert any(not torch.equal(initial[n], saved_cost[n]) for n in initial)  # the cost had learned
    policy, at_ckpt = PPO.load(out / "policy.zip", device="cpu"), PPO.load(ckpt / "model.zip", device="cpu")
    assert policy.num_timesteps == at_ckpt.num_timesteps == json.loads((ckpt / "state.json").read_text())["env_steps"] < 512



def test_sigterm_saves_a_checkpoint_at_the_step_it_arrived_and_resume_goes_on_from_there(tmp_path, setup):
    """`kill` (or a cluster scheduler's stop) is handled like Ctrl-C: the run saves where it is,
    says so in one line, and exits 143; --resume continues from that step, not the last periodic one."""
    demos, config = setup
    out = tmp_path / "run"
    slow = tmp_path / "slow.yaml"
    slow.write_text(yaml.safe_dump({**yaml.safe_load(Path(config).read_text()), "checkpoint_every": 100_000}))
    cmd = [sys.executable, "-m", "irl_gan.cli", *map(str, train_args(demos, slow, out, 100_000))]
    proc = subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not ((out / "metrics.csv").exists() and len(metrics(out)) >= 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "continue with --resume" in err and "Traceback" not in err
    saved = assert_run_files_sound(out)
    assert saved >= int(metrics(out)[1]["env_steps"])  # not step 0: no periodic checkpoint was due


def test_a_second_process_cannot_train_into_a_run_that_is_training(tmp_path, setup):
    """Two `--resume`s of one run (a second terminal, a re-launched benchmark) used to train side by
    side, each overwriting the other's checkpoint and metrics. The second now stops with one line;
    once the first is gone, killed without a chance to clean up, the run resumes as usual."""
    demos, config = setup
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "irl_gan.cli", *map(str, train_args(demos, config, out, 100_000))]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (out / "metrics.csv").exists():
            time.sleep(0.05)
        second = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert f"is in use by another irl-gan process (pid {first.pid})" in second.stderr and "Traceback" not in second.stderr
        assert first.poll() is None  # the first run goes on untouched
    finally:
        first.kill()
        first.wait()
    third = subprocess.run([sys.executable, "-m", "irl_gan.cli", *map(str, train_args(demos, config, out, 600, "--resume"))],
                           env=env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr
