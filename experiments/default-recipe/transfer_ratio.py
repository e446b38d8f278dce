"""The transfer ratio: the true return of a fresh agent trained on a learned reward carried to a
changed task (`irl-gan retrain RUN --task ...`: its retrain.yaml), over that of the same generator
trained on the changed task's own reward for the same env steps (an `irl-gan train --algo rl` run,
evaluated here as retrain evaluates: deterministic episodes from seed 500,000). One markdown row per
pair.

    python experiments/default-recipe/transfer_ratio.py RETRAIN_DIR=ORACLE_RUN [...] > transfer.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def main(pairs: list[str]) -> int:
    from irl_gan.agents import load_policy
    from irl_gan.evaluation import evaluate_policy
    from irl_gan.tasks import load_spec

    print("| reward learned on | run | retrained on | generator, env steps | retrained, true return | RL on its own reward, true return | ratio |")
    print("|---|---|---|---|---|---|---|")
    for pair in pairs:
        retrain, oracle = map(Path, pair.split("=", 1))
        s = yaml.safe_load((retrain / "retrain.yaml").read_text())
        o_config = yaml.safe_load((oracle / "config.yaml").read_text())
        if o_config.get("task") != s["task"] or o_config.get("generator") != s["generator"] or o_config.get("steps") != s["steps"]:
            raise SystemExit(f"{oracle} is not {s['task']} with {s['generator']} for {s['steps']} env steps, as {retrain} is")
        o = evaluate_policy(load_spec(s["task"]), load_policy(oracle), s["episodes"], seed=500_000, progress=False)
        print(f"| {s['source_task']} | `{s['source_run']}` | {s['task']} | {s['generator']}, {s['steps']:,} | "
              f"{s['return_mean']:.1f} ± {s['return_std']:.1f} | {o['mean']:.1f} ± {o['std']:.1f} | {s['return_mean'] / o['mean']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
