"""Behavioural cloning: the policy that maximises the likelihood of the demo actions, no env
steps and no cost. The baseline every imitation method must beat (``irl-gan train --algo bc``).

The policy is SB3's PPO MlpPolicy with the run's ``policy_kwargs``, on observations normalised by
the demos' own mean and variance, so the output directory is like any training run's:
``policy.zip`` (an SB3 checkpoint), ``obs_norm.npz``, ``config.yaml``, ``metrics.csv``.
``clone_generator`` clones the demos into a training run's generator instead (``bc_init``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from irl_gan.data import Episode, state_action_pairs
from irl_gan.run_dir import write_card, write_config
from irl_gan.sb3 import sb3_rejections
from irl_gan.tasks import TaskSpec


def train_bc(spec: TaskSpec, demos: Sequence[Episode], config, out: Path, progress: bool = True) -> dict:
    """Behavioural cloning of the demo episodes into ``out``; returns the last metrics row."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from irl_gan.agents import ObsNorm
    from irl_gan.evaluation import deterministic_score
    from irl_gan.io import atomic_path, atomic_write_csv

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
    write_config(out, config)
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
    write_card(out, spec, "bc")
    return rows[-1]


def clone_generator(model, venv, density, demos: Sequence[Episode], config, rng: np.random.Generator, progress: bool = True) -> dict:
    """``bc_init``: ``config.bc_init`` gradient steps of a run's generator on the demos' ``log π``
    (its density, ``generator.PolicyDensity``), before the first env step.

    The observation normaliser ``venv`` is set to the demos' statistics for the whole run, so the
    states the policy is cloned on are normalised as they will be when it meets them. PPO's
    log std, a free parameter, is not trained; SAC's std head is, and its entropy term widens
    it again. Returns the demos' mean log-likelihood per step, ``bc_log_lik``.
    """
    obs, acts = state_action_pairs(demos)
    rms = venv.obs_rms
    rms.mean, rms.var, rms.count = obs.mean(0), obs.var(0), float(len(obs))
    # and keeps them: a normaliser that followed the generator's states would shift the
    # cloned policy's inputs away from those it was cloned on.
    venv.training = False
    if config.generator == "ppo":
        params = [p for name, p in model.policy.named_parameters() if name != "log_std"]
    else:
        params = list(model.actor.parameters())
    opt = torch.optim.Adam(params, lr=config.bc_lr)
    batch = min(config.bc_batch, len(obs))
    log_lik = float("nan")
    model.policy.set_training_mode(True)
    for _ in tqdm(range(config.bc_init), desc="behaviour cloning", disable=None if progress else True):
        idx = rng.integers(len(obs), size=batch)
        log_pi = density.log_prob(obs[idx], acts[idx], grad=True)
        loss = -log_pi.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        log_lik = -float(loss.detach())
    model.policy.set_training_mode(False)
    return {"bc_log_lik": log_lik}
