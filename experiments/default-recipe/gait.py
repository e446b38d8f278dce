"""How does a HalfCheetah policy move? For each agent (a run or an expert directory), deterministic
episodes on HalfCheetah-v5 from seed 1,000,000: the true return, the mean forward speed, the control
cost a step, the mean pitch of the torso and the share of steps it is turned over (|pitch| > 1.5 rad).
Tells a slower gait from an exploit (rearing, running on the back) at a glance.

    python experiments/default-recipe/gait.py AGENT [AGENT ...] [--episodes 2]
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np


def gait(agent: str, episodes: int) -> list[str]:
    from irl_gan.agents import load_policy

    policy = load_policy(agent)
    env = gym.make("HalfCheetah-v5")
    lines = []
    for ep in range(episodes):
        obs, _ = env.reset(seed=1_000_000 + ep)
        ret, speed, ctrl, pitch = 0.0, [], [], []
        for _ in range(1000):
            obs, r, terminated, truncated, info = env.step(policy(obs))
            ret += r
            speed.append(info["x_velocity"])
            ctrl.append(info["reward_ctrl"])
            pitch.append(env.unwrapped.data.qpos[2])
            if terminated or truncated:
                break
        pitch = np.array(pitch)
        lines.append(f"return {ret:.0f}, speed {np.mean(speed):.2f} m/s, control {np.mean(ctrl):.2f} a step, "
                     f"pitch {pitch.mean():.2f} rad, turned over {np.mean(np.abs(pitch) > 1.5):.2f} of the steps")
    env.close()
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("agents", nargs="+")
    p.add_argument("--episodes", type=int, default=2)
    a = p.parse_args()
    for agent in a.agents:
        print(agent, *(f"  {line}" for line in gait(agent, a.episodes)), sep="\n")


if __name__ == "__main__":
    main()
