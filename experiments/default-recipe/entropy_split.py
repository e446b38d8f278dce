"""What does a PPO retrain's reward pay each policy, part by part? The reward a fresh PPO agent
maximises is ``−c(s, a) − α log π(a|s)``: the learned cost, and the entropy of its own policy. For
each policy (a run directory with policy.zip and obs_norm.npz), acting stochastically as PPO does,
episodes on its task from seed 1,000,000: the per-step means of ``−c`` under REWARD (a cost.pt or a
run's cost_history/, averaged), of ``−α log π`` (α: REWARD's run's temperature), of their sum, and
the true normalised return of those stochastic episodes.

    python experiments/default-recipe/entropy_split.py REWARD POLICY [POLICY ...] [--episodes 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reward-retrain"))
from retrain_gap import source_run  # noqa: E402


def split(reward, alpha: float, spec, run: Path, episodes: int) -> dict:
    from irl_gan.agents import load_policy

    policy = load_policy(run)
    model, norm = policy.model, policy.obs_norm
    env = spec.make_env()
    low, high = env.action_space.low, env.action_space.high
    cost, ent, ret = [], [], []
    for ep in range(episodes):
        obs, _ = env.reset(seed=1_000_000 + ep)
        total = 0.0
        for _ in range(spec.horizon):
            x = torch.as_tensor(norm(obs)[None], dtype=torch.float32)
            with torch.no_grad():
                dist = model.policy.get_distribution(x)
                raw = dist.sample()
                log_pi = float(dist.log_prob(raw))
            act = np.clip(raw.numpy()[0], low, high)
            nxt, r, terminated, truncated, _ = env.step(act)
            cost.append(float(reward(obs[None], act[None], nxt[None], np.array([terminated]))[0]))
            ent.append(-alpha * log_pi)
            total += r
            obs = nxt
            if terminated or truncated:
                break
        ret.append(total)
    env.close()
    return {"-c": np.mean(cost), "-a log pi": np.mean(ent), "sum": np.mean(cost) + np.mean(ent), "normalised": spec.scores.normalise(np.mean(ret))}


def main() -> None:
    from irl_gan.reward import LearnedReward
    from irl_gan.tasks import load_spec

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("reward", type=Path, help="a cost.pt, or a run's cost_history/ (their mean)")
    p.add_argument("policies", type=Path, nargs="+")
    p.add_argument("--episodes", type=int, default=2)
    a = p.parse_args()
    config = yaml.safe_load((source_run(a.reward) / "config.yaml").read_text())
    spec = load_spec(config["task"])
    reward = LearnedReward.for_task(a.reward, spec)
    print(f"reward {a.reward} (α = {config['temperature']}), per step, stochastic episodes:")
    print("| policy | −c | −α log π | sum | normalised |\n|---|---|---|---|---|")
    for run in a.policies:
        s = split(reward, float(config["temperature"]), spec, run, a.episodes)
        print(f"| `{run}` | {s['-c']:.2f} | {s['-a log pi']:.2f} | {s['sum']:.2f} | {s['normalised']:.3f} |")


if __name__ == "__main__":
    main()
