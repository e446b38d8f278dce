"""How a run's cost ranked reference behaviours as training went on: for each cost snapshot
(``cost_history/``, kept with ``cost_history_every``) and the final cost, the learned reward per
step of held-out demos, a noisy expert, a second policy (a standing HalfCheetah, say), a
random policy and, on a task whose episodes can end, the absorbing state after a fall, each
relative to the demos the run learned from (0). A cost that explains the
expert keeps the demos on top; a row where another behaviour is above 0 is a cost that would
lead the generator away from the expert.

    .venv/bin/python experiments/reward-retrain/cost_ranking.py RUN [--policy LABEL=AGENT_OR_RUN ...] [--every 20000]

Columns, besides the references: the run's stochastic training return nearest the snapshot.
The references' true return per step is printed above the table.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from irl_gan.errors import UserError  # noqa: E402


def demos_learned_from(config: dict, spec):
    """A run's demo file (under its task, ``spec``) and the episodes it learned from, by its saved config."""
    from irl_gan.data import load_demos

    demos = load_demos(config["demos"], spec)
    return demos, demos.select(config["demo_episodes"], config.get("drop_terminated_demos", False))


def labelled(items: list[str], flag: str) -> list[tuple[str, str]]:
    """``LABEL=AGENT_OR_RUN`` arguments as pairs; a missing ``=`` is a one-line UserError."""
    pairs = []
    for item in items:
        if "=" not in item:
            raise UserError(f"{flag} {item!r}: write LABEL=AGENT_OR_RUN")
        pairs.append(tuple(item.split("=", 1)))
    return pairs


def references(spec, config: dict, policies: list[tuple[str, str]], episodes: int) -> dict[str, list]:
    """Labelled episode lists: the run's demos first (the zero of the table), then the others."""
    from irl_gan.agents import load_policy
    from irl_gan.rollout import noisy_policy, random_policy, rollout
    from irl_gan.tasks import agents_dir

    demos, used = demos_learned_from(config, spec)
    held_out = [e for e in demos.episodes if all(e is not u for u in used)][: max(episodes, 4)]
    env = spec.make_env()
    sets = {f"demos ({len(used)}, learned from)": list(used)}
    if held_out:
        sets[f"held-out demos ({len(held_out)})"] = held_out
    expert_dir = agents_dir() / spec.task
    if (expert_dir / "model.zip").exists():
        expert = load_policy(expert_dir)
        rng = np.random.default_rng(0)
        for share in (0.3, 0.8):
            sets[f"expert + noise {share}"] = rollout(env, noisy_policy(expert, env.action_space, share, rng), episodes, seed=10, progress=False)
    for label, agent in policies:
        sets[label] = rollout(env, load_policy(agent), episodes, seed=10, progress=False)
    sets["random"] = rollout(env, random_policy(env), episodes, seed=10, progress=False)
    env.close()
    return sets


def per_step(reward, episodes) -> float:
    return float(np.mean([reward(e.observations[:-1], e.actions, e.observations[1:], np.zeros(e.length, bool)).mean() for e in episodes]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--policy", action="append", default=[], metavar="LABEL=AGENT", help="another behaviour to rank: an agent or run directory")
    p.add_argument("--every", type=int, default=20_000, help="env steps between the snapshots shown (the first one in each stretch)")
    p.add_argument("--episodes", type=int, default=2, help="episodes of each rolled-out reference")
    a = p.parse_args()
    try:
        from irl_gan.reward import COST_HISTORY, LearnedReward
        from irl_gan.tasks import load_spec

        if not (a.run / "config.yaml").is_file():
            raise UserError(f"{a.run}: not a training run (no config.yaml)")
        config = yaml.safe_load((a.run / "config.yaml").read_text())
        if not config.get("demos"):
            raise UserError(f"{a.run}: a run without demos (--algo rl) has no cost to rank with")
        policies = labelled(a.policy, "--policy")
        spec = load_spec(config["task"])
        snapshots = sorted((a.run / COST_HISTORY).glob("cost-*.pt"))
        step_of = lambda f: int(f.stem.split("-")[1])  # noqa: E731
        # the first snapshot in each stretch of --every env steps (a PPO run's fall on rollout boundaries)
        shown = [f for i, f in enumerate(snapshots) if i == 0 or step_of(f) // a.every > step_of(snapshots[i - 1]) // a.every]
        shown += [a.run / "cost.pt"] if (a.run / "cost.pt").is_file() else []
        if not shown:
            raise UserError(f"{a.run}: no cost.pt and no snapshots in {COST_HISTORY}/")
        sets = references(spec, config, policies, a.episodes)
        with open(a.run / "metrics.csv", newline="") as f:
            returns = {int(float(r["env_steps"])): r["true_return"] for r in csv.DictReader(f) if r.get("true_return")}
    except UserError as exc:
        sys.exit(f"cost_ranking.py: {exc}")

    labels = list(sets)
    absorbing = any(e.terminated for v in sets.values() for e in v)  # a task whose episodes can end
    print(f"# How the cost of `{a.run}` ranked reference behaviours\n")
    print(f"Command: `.venv/bin/python experiments/reward-retrain/cost_ranking.py {a.run} " + " ".join(f"--policy {shlex.quote(x)}" for x in a.policy) + f" --every {a.every} --episodes {a.episodes}`\n")
    print("True return per step: " + "; ".join(f"{k} {np.mean([e.rewards.mean() for e in v]):.2f}" for k, v in sets.items()) + "\n")
    print("Learned reward per step, minus that of the demos learned from (0); above 0: rated above the expert.\n")
    print("| cost at env step | training return | " + " | ".join(labels[1:]) + (" | absorbing state" if absorbing else "") + " |")
    print("|---|---|" + "---|" * (len(labels) - 1 + absorbing))
    for f in shown:
        reward = LearnedReward.load(f)
        values = [per_step(reward, sets[k]) for k in labels] + ([reward.absorbing_reward()] if absorbing else [])
        if f.parent.name == COST_HISTORY:
            near = min(returns, key=lambda s: abs(s - step_of(f))) if returns else None
            label, ret = f"{step_of(f):,}", f"{float(returns[near]):.0f}" if near is not None else ""
        else:  # rewritten at each checkpoint: the step of its last one
            label, ret = "cost.pt (the last checkpoint's)", ""
        print(f"| {label} | {ret} | " + " | ".join(f"{v - values[0]:+.2f}" for v in values[1:]) + " |")


if __name__ == "__main__":
    main()
