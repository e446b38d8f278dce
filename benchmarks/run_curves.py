"""One table from the evaluation curves of finished or stopped training runs: what each reached,
and when it first evaluated at or above 0.9 normalised. For studies run by hand with
``irl-gan train`` (the runs themselves stay in runs/, which is not committed; this table is the record).

    .venv/bin/python benchmarks/run_curves.py --title "..." LABEL=RUN_DIR ... > benchmarks/results/NAME.md
"""

from __future__ import annotations

import argparse
import csv
import math
import shlex
import sys
from pathlib import Path

import yaml

TARGET = 0.9


def describe(config: dict) -> str:
    """The settings that tell these runs apart."""
    generator = config.get("generator", "ppo")
    kwargs = {**config.get("policy_kwargs", {}), **config.get(generator, {}).get("policy_kwargs", {})}
    parts = [config.get("algo", "?"), generator, f"{config.get('n_envs')} env(s)", f"lr {config.get(generator, {}).get('learning_rate')}"]
    if config.get("reward"):
        reward = Path(config["reward"])
        shown = reward.relative_to(Path.cwd()) if reward.is_relative_to(Path.cwd()) else reward
        parts.append("frozen reward: the mean of the source run's cost snapshots" if reward.is_dir() else f"frozen reward: {shown}")
    if "log_std_init" in kwargs:
        parts.append(f"initial std {math.exp(kwargs['log_std_init']):.2f}")
    if generator == "sac":
        parts.append(f"entropy weight {config.get('sac', {}).get('ent_coef')}")
    if config.get("algo") != "rl":
        parts.append("state-only cost" if config.get("state_only") else "cost c(s, a)")
        if config.get("shaped") or config.get("algo") == "airl":
            parts.append("shaped: g + h(s) - γ h(s')")
        parts.append(f"{config.get('disc_updates')} cost updates of lr {config.get('cost_lr')}")
        if config.get("temperature", 1.0) != 1.0:
            parts.append(f"temperature {config['temperature']} (logit -c - log Z - {config['temperature']} log q)")
        if config.get("disc_replay"):
            parts.append("cost's generated steps from the whole replay buffer")
        if config.get("reward_tau", 1.0) != 1.0:
            parts.append(f"reward from a Polyak average of the cost (τ {config['reward_tau']})")
        if config.get("grad_penalty"):
            parts.append(f"gradient penalty {config['grad_penalty']}")
        if config.get("entropy_reward") is False:
            parts.append("no -log π in the reward")
        if config.get("rank_weight"):
            parts.append(f"drex's ranking in the cost's loss (rank_weight {config['rank_weight']})")
        if config.get("bc_init"):
            parts.append(f"cloned first ({config['bc_init']} BC steps; the curve's 0 is the cloned policy)")
    return ", ".join(parts)


def row(label: str, run: Path) -> str:
    config = yaml.safe_load((run / "config.yaml").read_text())
    with open(run / "metrics.csv", newline="") as f:
        metrics = list(csv.DictReader(f))
    evals = [(int(float(r["env_steps"])), float(r["wall_s"]), float(r["eval_normalised"])) for r in metrics if r.get("eval_normalised")]
    last_steps = int(float(metrics[-1]["env_steps"])) if metrics else 0
    stopped = "" if last_steps >= config["steps"] else f" (stopped at {last_steps:,} of {config['steps']:,})"
    curve = ", ".join(f"{s // 1000}k: {n:.2f}" for s, _, n in evals)
    # A cloned run's evaluation at env step 0 is the cloning's, not the training's: it is in the
    # curve but counts for neither the best evaluation nor the first at the target.
    trained = [(s, w, n) for s, w, n in evals if s > 0]
    first = next(((s, w) for s, w, n in trained if n >= TARGET), None)
    reached = f"{first[0]:,} steps, {first[1] / 60:.0f} min" if first else "not reached"
    best = max((n for _, _, n in trained), default=float("nan"))
    return f"| {label} | {describe(config)} | {last_steps:,}{stopped} | {best:.3f} | {reached} | {curve} |"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--title", required=True)
    p.add_argument("runs", nargs="+", metavar="LABEL=RUN_DIR")
    args = p.parse_args()
    lines = [f"# {args.title}", "", f"Command: `.venv/bin/python benchmarks/run_curves.py {shlex.join(sys.argv[1:])}`", "",
             "Evaluations: deterministic, 5 episodes with fixed seeds, normalised (random 0, expert 1).", "",
             "| run | settings | env steps | best evaluation | first at >= 0.9 | evaluations (env steps: normalised) |",
             "|---|---|---|---|---|---|"]
    for item in args.runs:
        label, _, path = item.partition("=")
        run = Path(path)
        if not (run / "config.yaml").is_file() or not (run / "metrics.csv").is_file():
            sys.exit(f"run_curves.py: {run} is not a training run (no config.yaml and metrics.csv)")
        lines.append(row(label, run))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
