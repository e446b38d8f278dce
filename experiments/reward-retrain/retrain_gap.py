"""Does a retrained agent earn more learned reward than the demos its reward was learned from?

For each retrain run directory (``irl-gan retrain``'s OUT), the agent's learned reward per step
over deterministic episodes, minus that of the source run's demos, under the very reward it
was retrained on (``reward:`` and ``reward_shaped:`` in its config.yaml). Above 0: the agent
found behaviour the cost rates above the expert. Also its true normalised return.

    .venv/bin/python experiments/reward-retrain/retrain_gap.py RETRAIN_DIR [RETRAIN_DIR ...] [--episodes 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import yaml

from cost_ranking import demos_learned_from, per_step

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from irl_gan.errors import UserError  # noqa: E402


def source_run(reward: Path) -> Path:
    """The training run a retrain's reward came from: RUN/cost.pt, RUN/cost_history/ or a snapshot in it."""
    if reward.name == "cost_history":
        return reward.parent
    return reward.parent.parent if reward.parent.name == "cost_history" else reward.parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", type=Path, nargs="+")
    p.add_argument("--episodes", type=int, default=3, help="deterministic episodes of each retrained agent (at least 1)")
    a = p.parse_args()
    if a.episodes < 1:
        p.error(f"--episodes {a.episodes}: give at least 1")
    from irl_gan.agents import load_policy
    from irl_gan.reward import LearnedReward
    from irl_gan.rollout import rollout
    from irl_gan.tasks import load_spec

    print("| retrain | true normalised | learned reward per step minus the demos' |\n|---|---|---|")
    for run in a.runs:
        try:
            config = yaml.safe_load((run / "config.yaml").read_text()) if (run / "config.yaml").is_file() else {}
            if not config.get("reward"):
                raise UserError(f"{run}: not a retrain (no reward: in its config.yaml); give a directory written by irl-gan retrain")
            reward_path = Path(config["reward"])
            source_config = source_run(reward_path) / "config.yaml"
            if not source_config.is_file():
                raise UserError(f"{run}: its reward {reward_path} is no longer in a training run (no {source_config}); the demos it was learned from are unknown")
            source = yaml.safe_load(source_config.read_text())
            spec = load_spec(config["task"])
            reward = LearnedReward.for_task(reward_path, spec, transfer=not config.get("reward_shaped"))
            # The demos under their own task: a retrain on a transfer task compares against them as learned.
            _, demos = demos_learned_from(source, load_spec(source["task"]))
            env = spec.make_env()
            episodes = rollout(env, load_policy(run), a.episodes, seed=10, progress=False)
            env.close()
        except UserError as exc:
            sys.exit(f"retrain_gap.py: {exc}")
        norm = np.mean([spec.scores.normalise(e.ret) for e in episodes]) if spec.scores is not None else float("nan")
        print(f"| {run} | {norm:.3f} | {per_step(reward, episodes) - per_step(reward, demos):+.2f} |", flush=True)


if __name__ == "__main__":
    main()
