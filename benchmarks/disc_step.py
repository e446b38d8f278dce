"""Micro-benchmark: one discriminator update, irl_gan against imitation 1.0.1's AIRL, same batch.

Cases, each on HalfCheetah-v5 transitions under one fresh PPO generator:

* K = 1:     2,048 demo + 2,048 generated transitions (4,096 in the update).
  irl_gan ``airl`` and ``gan-gcl`` (K = 1), against imitation ``AIRL.train_disc``.
* K = full:  32 demo + 32 generated trajectories of 1,000 steps (64 trajectories, 64,000 steps).
  irl_gan ``gan-gcl`` with K = 1000 (the paper's trajectory discriminator), against imitation's
  AIRL on the same 64,000 transitions (it has no trajectory discriminator).

One update means: ``log π`` of both halves under the generator, the discriminator forward
and backward passes, and an Adam step, starting from batches already in memory. The networks
are the same size on both sides: a reward net of (32,), and a potential of (32, 32) for the
shaped ones. Timings are interleaved, ours then theirs, in one process with one torch thread.
The reported figure is the median of the repeats.

    PYTHONPATH=.peer/imitation .venv/bin/python benchmarks/disc_step.py   # make bench-disc-step
"""

from __future__ import annotations

import csv
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
REPEATS, WARMUP = 15, 3


def transitions(env, n_episodes: int, seed: int):
    """Random-policy episodes of HalfCheetah (never terminates: 1000 steps each)."""
    from irl_gan.rollout import random_policy, rollout

    return rollout(env, random_policy(env), n_episodes, seed, progress=False)


def ours(name: str, k: int, demo_eps, gen_eps, model):
    from irl_gan.cost import CostConfig
    from irl_gan.estimators import Batch, make_estimator
    from irl_gan.generator import PolicyDensity
    from irl_gan.segments import make_segments

    obs_dim, act_dim = demo_eps[0].observations.shape[1] + 1, demo_eps[0].actions.shape[1]
    config = CostConfig(obs_dim, act_dim, shaped=(name == "airl"), hidden=(32,), potential_hidden=(32, 32))
    est = make_estimator(name, config)
    opt = torch.optim.Adam(est.parameters(), lr=3e-4)
    density = PolicyDensity(model)
    demo, gen = make_segments(demo_eps, k), make_segments(gen_eps, k)
    if k == 1:  # 2,048 of each
        demo, gen = demo.index(slice(0, 2048)), gen.index(slice(0, 2048))

    obs = torch.cat([demo.obs[..., :-1], gen.obs[..., :-1]])
    acts = torch.cat([demo.acts, gen.acts])

    def step():
        opt.zero_grad()
        lp_demo, lp_gen = density.log_prob(obs, acts).float().split([len(demo), len(gen)])
        loss, _ = est.loss(Batch(demo, gen, lp_demo, lp_gen))
        loss.backward()
        opt.step()

    return step, demo.policy_step.sum().item() + gen.policy_step.sum().item()


def theirs(n_per_side: int, demo_eps, gen_eps, model, venv):
    from imitation.algorithms.adversarial.airl import AIRL
    from imitation.rewards.reward_nets import BasicShapedRewardNet

    def as_dict(eps):
        obs = np.concatenate([e.observations[:-1] for e in eps])[:n_per_side]
        nxt = np.concatenate([e.observations[1:] for e in eps])[:n_per_side]
        acts = np.concatenate([e.actions for e in eps])[:n_per_side]
        return {"obs": obs, "acts": acts, "next_obs": nxt, "dones": np.zeros(n_per_side, bool)}

    expert, gen = as_dict(demo_eps), as_dict(gen_eps)
    net = BasicShapedRewardNet(venv.observation_space, venv.action_space, reward_hid_sizes=(32,), potential_hid_sizes=(32, 32))
    from imitation.data.types import Transitions

    demos = Transitions(obs=expert["obs"], acts=expert["acts"], infos=np.array([{}] * n_per_side), next_obs=expert["next_obs"], dones=expert["dones"])
    from imitation.util import logger

    # A logger that writes nowhere: time the computation, not printing a table each step.
    quiet = logger.configure(format_strs=[])
    trainer = AIRL(
        demonstrations=demos, demo_batch_size=n_per_side, venv=venv, gen_algo=model, reward_net=net,
        allow_variable_horizon=True, custom_logger=quiet,
    )

    def step():
        trainer.train_disc(expert_samples=expert, gen_samples=gen)

    return step, 2 * n_per_side


def timed(step) -> float:
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def main() -> None:
    torch.set_num_threads(1)
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = gym.make("HalfCheetah-v5")
    demo_eps, gen_eps = transitions(env, 32, 0), transitions(env, 32, 1000)
    venv = DummyVecEnv([lambda: gym.make("HalfCheetah-v5")])
    model = PPO("MlpPolicy", venv, device="cpu", seed=0)

    cases = [
        ("K=1, 4,096 transitions", [("irl_gan airl", ours("airl", 1, demo_eps, gen_eps, model)), ("irl_gan gan-gcl", ours("gan-gcl", 1, demo_eps, gen_eps, model))], theirs(2048, demo_eps, gen_eps, model, venv)),
        ("K=full, 64 x 1000 steps", [("irl_gan gan-gcl K=1000", ours("gan-gcl", 1000, demo_eps, gen_eps, model))], theirs(32_000, demo_eps, gen_eps, model, venv)),
    ]
    rows = []
    for case, ours_steps, (their_step, their_n) in cases:
        for label, (our_step, our_n) in ours_steps:
            assert our_n == their_n, (label, our_n, their_n)
            for _ in range(WARMUP):
                our_step(), their_step()
            t_ours, t_theirs = [], []
            for _ in range(REPEATS):
                t_ours.append(timed(our_step))
                t_theirs.append(timed(their_step))
            m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
            rows.append(
                {
                    "case": case,
                    "ours": label,
                    "peer": "imitation 1.0.1 AIRL.train_disc",
                    "transitions": our_n,
                    "ours_ms": round(m_ours * 1e3, 2),
                    "peer_ms": round(m_theirs * 1e3, 2),
                    "speedup": round(m_theirs / m_ours, 2),
                }
            )
            print(rows[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "disc_step.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(RESULTS / "disc_step.md", "w") as f:
        f.write("| case | ours | ours (ms) | imitation AIRL (ms) | speed-up (×) |\n|---|---|---|---|---|\n")
        for r in rows:
            f.write(f"| {r['case']} | {r['ours']} | {r['ours_ms']} | {r['peer_ms']} | {r['speedup']} |\n")
        f.write(
            f"\nMedian of {REPEATS} interleaved repeats after {WARMUP} warm-ups, one torch thread, "
            f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}, "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work shares the machine; the ratio is what holds). "
            f"Reproduce: `make bench-disc-step`.\n"
        )


if __name__ == "__main__":
    sys.exit(main())
