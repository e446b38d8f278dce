"""How close the cost game of training runs is, from their metrics: the 5th, 50th and 95th
percentile over the cost rounds from an env step on of the discriminator's accuracy on each side,
the energy gap (generated minus demos, nats a step) and SAC's entropy weight.

    .venv/bin/python experiments/sac-generator/cost_rounds.py --from 150000 LABEL=RUN_DIR ...
"""

from __future__ import annotations

import argparse
import csv
import shlex
import sys
from pathlib import Path

import numpy as np

# A round whose discriminator is right on fewer demos than this counts as a lapse on the demos.
LAPSE = 0.3


def spread(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in np.percentile(values, [5, 50, 95])) if values else "none"


def row(label: str, run: Path, start: int) -> str:
    with open(run / "metrics.csv", newline="") as f:
        rounds = [r for r in csv.DictReader(f) if r.get("disc_acc_demo") and float(r["env_steps"]) >= start]
    if not rounds:
        sys.exit(f"cost_rounds.py: {run} has no cost rounds from env step {start:,}; lower --from")

    def column(name: str) -> list[float]:
        return [float(r[name]) for r in rounds if r.get(name)]

    demo, gen = column("disc_acc_demo"), column("disc_acc_gen")
    gap = [float(r["energy_gen"]) - float(r["energy_demo"]) for r in rounds]
    steps = f"{start // 1000}k–{int(float(rounds[-1]['env_steps'])) // 1000}k"
    lapses = sum(a < LAPSE for a in demo) / len(demo)
    return f"| {label} ({steps}) | {spread(demo)} | {spread(gen)} | {spread(gap)} | {spread(column('ent_coef'))} | {lapses:.1%} |"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="start", type=int, default=0, help="first env step counted")
    p.add_argument("runs", nargs="+", metavar="LABEL=RUN_DIR")
    args = p.parse_args()
    lines = [f"Command: `.venv/bin/python experiments/sac-generator/cost_rounds.py {shlex.join(sys.argv[1:])}`", "",
             "| run | right on demos | right on generated | energy gap, generated − demos (nats a step) | SAC entropy weight "
             f"| rounds right on < {LAPSE:.0%} of demos |",
             "|---|---|---|---|---|---|"]
    for item in args.runs:
        label, _, path = item.partition("=")
        run = Path(path)
        if not (run / "metrics.csv").is_file():
            sys.exit(f"cost_rounds.py: {run} is not a training run (no metrics.csv)")
        lines.append(row(label, run, args.start))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
