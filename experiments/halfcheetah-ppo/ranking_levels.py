"""What the ranking of a run (``rank_weight`` or ``--algo drex``) rates: for each of its levels,
best first, the true return per step, the mean forward velocity and the share of steps with the
body pitched nose-down past a threshold, HalfCheetah's crawl (obs[1] is the root's pitch, obs[8]
its forward velocity). With ``--noise``, the run's clone is also rolled out afresh at those noise
levels, as the ranking rolls it out, to see where it starts to crawl.

    .venv/bin/python experiments/halfcheetah-ppo/ranking_levels.py RUN [--noise 0 0.05 0.1 0.25] [--episodes 4] [--pitch 0.6]

A level that crawls, ranked above levels that flail or stand, tells the cost that the crawl is
better than those: a generator that finds the crawl first is paid to stay in it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from irl_gan.errors import UserError  # noqa: E402


def row(label: str, obs: np.ndarray, per_step: float | None, pitch: float, per_episode: list[float] | None = None) -> str:
    down = f"{(obs[:, 1] > pitch).mean():.2f}"
    if per_episode is not None:
        down += " (" + ", ".join(f"{v:.2f}" for v in per_episode) + ")"
    ret = "" if per_step is None else f"{per_step:.2f}"
    return f"| {label} | {ret} | {obs[:, 8].mean():.2f} | {down} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--noise", type=float, nargs="*", default=[], help="fresh rollouts of the clone at these noise shares")
    parser.add_argument("--episodes", type=int, default=4, help="episodes per fresh noise level")
    parser.add_argument("--pitch", type=float, default=0.6, help="nose-down pitch (rad) that counts as crawling")
    parser.add_argument("--seed", type=int, default=77)
    args = parser.parse_args(argv)
    ranking = args.run / "ranking"
    if not (ranking / "levels.pt").is_file():
        raise UserError(f"{args.run} has no ranking/levels.pt: pass a run trained with rank_weight above 0 or --algo drex")
    config = yaml.safe_load((args.run / "config.yaml").read_text())
    levels = torch.load(ranking / "levels.pt", weights_only=False)
    names = ["demos", *(f"noise {s}" for s in config["rank_noise"])]
    if config.get("rank_idle", True):
        names[-1] += " + idle"
    true = yaml.safe_load((ranking / "levels.yaml").read_text()).get("true_return_per_step", {})
    print(f"{args.run}: the ranking, best first (nose-down: share of steps pitched past {args.pitch} rad)\n")
    print("| level | true return per step | forward velocity | nose-down |\n|---|---|---|---|")
    for name, level in zip(names, levels["levels"]):
        obs = np.concatenate([np.asarray(o)[:, :-1] for o, _ in level])  # without the absorbing flag
        print(row(name, obs, true.get(name.removesuffix(" + idle")), args.pitch))
    if args.noise:
        from irl_gan.agents import load_policy
        from irl_gan.rollout import noisy_policy, rollout
        from irl_gan.tasks import load_spec

        env = load_spec(config["task"]).make_env()
        clone, rng = load_policy(ranking), np.random.default_rng(args.seed)
        print(f"\nThe clone rolled out afresh ({args.episodes} episodes each; nose-down share per episode in brackets)\n")
        print("| noise | true return per step | forward velocity | nose-down |\n|---|---|---|---|")
        for share in args.noise:
            eps = rollout(env, noisy_policy(clone, env.action_space, share, rng), args.episodes, seed=args.seed, progress=False)
            obs = np.concatenate([e.observations for e in eps])
            print(row(str(share), obs, float(np.mean([e.rewards.mean() for e in eps])), args.pitch,
                      [float((e.observations[:, 1] > args.pitch).mean()) for e in eps]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:
        sys.exit(f"error: {exc}")
