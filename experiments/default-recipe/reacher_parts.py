"""Reacher's return split into its two terms, distance and control, for the policies named.

    python experiments/default-recipe/reacher_parts.py agents/reacher RUN ...

50 deterministic episodes each, from the evaluation seeds (1,000,000 on); normalised by the task's scores.
"""

import sys

import numpy as np

from irl_gan.agents import load_policy
from irl_gan.tasks import load_spec

spec = load_spec("reacher")
for name in sys.argv[1:]:
    policy, env = load_policy(name), spec.make_env()
    parts = []
    for episode in range(50):
        obs, _ = env.reset(seed=1_000_000 + episode)
        dist = ctrl = total = 0.0
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs))
            dist, ctrl, total = dist + info["reward_dist"], ctrl + info["reward_ctrl"], total + reward
            done = terminated or truncated
        parts.append((total, dist, ctrl))
    total, dist, ctrl = np.mean(parts, axis=0)
    print(f"{name}: return {total:.2f} (distance {dist:.2f}, control {ctrl:.2f}), normalised {spec.scores.normalise(total):.3f}")
