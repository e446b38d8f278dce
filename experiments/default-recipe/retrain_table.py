"""The retrain table: for each `irl-gan retrain` output directory given, the reward it was trained on,
its final evaluation (retrain.yaml: deterministic episodes from seed 500,000) and the mean of its
last 3 periodic evaluations (metrics.csv), one markdown row per directory.

    python experiments/default-recipe/retrain_table.py RETRAIN_DIR [RETRAIN_DIR ...] > retrain.md
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def last_evaluations(run: Path, n: int = 3) -> list[float]:
    from irl_gan.report import read_metrics

    return [float(r["eval_normalised"]) for r in read_metrics(run) if r.get("eval_normalised")][-n:]


def main(dirs: list[str]) -> int:
    from irl_gan.reward import cost_name

    print("# Fresh agents on learned rewards\n")
    print("Each row: an agent trained by `irl-gan retrain` on a run's learned reward alone (it never sees the true reward);")
    print("final: its evaluation in retrain.yaml (deterministic episodes from seed 500,000); last 3: its periodic evaluations.\n")
    print("| task | seed | the run | its cost | generator, env steps | final, normalised (episodes) | last 3 evaluations | their mean |")
    print("|---|---|---|---|---|---|---|---|")
    for d in map(Path, dirs):
        if not (d / "retrain.yaml").is_file():
            print(f"{d}: no retrain.yaml (not finished)", file=sys.stderr)
            continue
        s = yaml.safe_load((d / "retrain.yaml").read_text())
        last = last_evaluations(d)
        final = f"{s['normalised_mean']:.3f} ({s['episodes']})" if "normalised_mean" in s else f"return {s['return_mean']:.1f} ({s['episodes']})"
        mean = f"{sum(last) / len(last):.3f}" if last else "-"
        print(f"| {s['task']} | {s['seed']} | `{s['source_run']}` | {cost_name(s.get('cost'))} | {s['generator']}, {s['steps']:,} | {final} | {', '.join(f'{v:.2f}' for v in last)} | {mean} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
