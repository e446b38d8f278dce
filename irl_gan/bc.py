"""Behavioural cloning: the policy that maximises the likelihood of the demo actions, no env
steps and no cost. The baseline every imitation method must beat (``irl-gan train --algo bc``).

The policy is SB3's PPO MlpPolicy with the run's ``policy_kwargs``, on observations normalised by
the demos' own mean and variance, so the output directory is like any training run's:
``policy.zip`` (an SB3 checkpoint), ``obs_norm.npz``, ``config.yaml``, ``metrics.csv``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import yaml
from tqdm.auto import tqdm

from irl_gan.data import Episode, state_action_pairs
from irl_gan.tasks import TaskSpec


def train_bc(spec: TaskSpec, demos: Sequence[Episode], config, out: Path, progress: bool = True) -> dict:
    """Behavioural cloning of the demo episodes into ``out``; returns the last metrics row."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from irl_gan.agents import ObsNorm
    from irl_gan.evaluation import deterministic_score
    from irl_gan.io import atomic_path, atomic_write_csv, atomic_write_text
    from irl_gan.sb3 import sb3_rejections
    from irl_gan.trainer import _plain

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    obs, acts = state_action_pairs(demos)
    norm = ObsNorm(obs.mean(0), obs.var(0), 10.0, 1e-8)
    venv = make_vec_env(lambda: spec.make_env(), n_envs=1, seed=config.seed)
    with sb3_rejections("bc policy"):
        _, kwargs = config.generator_arguments("ppo")
        model = PPO("MlpPolicy", venv, policy_kwargs=kwargs, seed=config.seed, device="cpu", verbose=0)
    policy = model.policy
    opt = torch.optim.Adam(policy.parameters(), lr=config.bc_lr)
    x = torch.as_tensor(norm(obs), dtype=torch.float32)
    y = torch.as_tensor(acts, dtype=torch.float32)
    env = spec.make_env()

    def act(o):
        return model.predict(norm(o), deterministic=True)[0]

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.yaml", yaml.safe_dump(_plain(dataclasses.asdict(config)), sort_keys=False))
    rows: list[dict] = []
    start = time.time()
    checks = max(1, config.bc_steps // 5)
    policy.set_training_mode(True)
    for step in tqdm(range(1, config.bc_steps + 1), desc="BC gradient steps", disable=None if progress else True):
        idx = torch.as_tensor(rng.integers(len(x), size=min(config.bc_batch, len(x))))
        _, log_prob, _ = policy.evaluate_actions(x[idx], y[idx])
        loss = -log_prob.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % checks == 0 or step == config.bc_steps:
            policy.set_training_mode(False)
            rows.append({"round": len(rows) + 1, "env_steps": 0, "wall_s": round(time.time() - start, 2), "bc_steps": step,
                         "bc_loss": float(loss.detach()), **deterministic_score(spec, env, act, config.eval_episodes)})
            policy.set_training_mode(True)
    env.close()
    atomic_write_csv(out / "metrics.csv", rows, list(rows[-1]))
    with atomic_path(out / "policy.zip") as tmp:
        model.save(tmp)
    norm.save(out / "obs_norm.npz")
    atomic_write_text(out / "card.yaml", yaml.safe_dump({"task": spec.task, "env_id": spec.env_id, "trained_by": "irl-gan train", "algo": "bc"}, sort_keys=False))
    return rows[-1]
