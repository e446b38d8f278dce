"""The segment question (issue 4): normalised return of gan-gcl against the discriminator's segment
length K, from single transitions (K = 1) to whole trajectories (K = full, the paper's setting).

Each cell (task, K, seed) is one `irl-gan train` run on 4 shipped demos with the task's default
settings, then `irl-gan eval-policy` of the final policy over 20 deterministic episodes. Cells
already in the CSV are not run again, so the study resumes where it stopped and grows by adding
tasks, K values or seeds.

    .venv/bin/python benchmarks/segments.py                       # the committed study
    .venv/bin/python benchmarks/segments.py --tasks invertedpendulum --ks 1,full --seeds 0,1
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CSV = RESULTS / "segments.csv"
FIELDS = ["task", "k", "seed", "steps", "eval_return", "eval_normalised", "train_wall_s", "final_log_z_is", "final_ess"]
# Env steps per task: enough for plain PPO on the true reward to reach its expert with these settings.
STEPS = {"invertedpendulum": 80_000, "inverteddoublependulum": 300_000, "reacher": 300_000, "hopper": 1_000_000, "halfcheetah": 1_000_000}
IRL_GAN = [sys.executable, "-m", "irl_gan.cli"]


# The cost settings the study was measured with (TrainConfig's defaults until 2026-11-21).
SETTINGS = {"disc_updates": 1, "cost_lr": 1e-4}


def run_cell(task: str, k: str, seed: int, steps: int, runs: Path) -> dict:
    import json
    import tempfile

    out = runs / f"{task}-k{k}-s{seed}"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        json.dump(SETTINGS, f)
    args = ["train", "--task", task, "--demos", str(ROOT / "demos" / f"{task}.h5"), "--algo", "gan-gcl", "--segment", k,
            "--demo-episodes", "4", "--steps", str(steps), "--seed", str(seed), "--out", str(out), "--config", f.name, "--no-progress"]
    if (out / "config.yaml").exists():
        args.append("--resume")
    start = time.time()
    try:
        subprocess.run(IRL_GAN + args, check=True, cwd=ROOT)
    finally:
        os.unlink(f.name)
    wall = time.time() - start
    ev = subprocess.run(IRL_GAN + ["eval-policy", str(out), "--task", task, "--episodes", "20", "--seed", "500000", "--no-progress"],
                        check=True, cwd=ROOT, capture_output=True, text=True).stdout
    m = re.search(r"return (\S+) \+- \S+ over .*normalised (\S+) \+-", ev)
    with open(out / "metrics.csv", newline="") as f:
        last = list(csv.DictReader(f))[-1]
    return {"task": task, "k": k, "seed": seed, "steps": steps, "eval_return": float(m.group(1)), "eval_normalised": float(m.group(2)),
            "train_wall_s": round(wall, 1), "final_log_z_is": last.get("log_z_is", ""), "final_ess": last.get("ess", "")}


def batch_per_side(task: str, k: str) -> int:
    """n: the segments per side in one cost update, as the trainer cuts them (disc_batch 256 at most)."""
    from irl_gan.data import load_demos
    from irl_gan.segments import make_segments
    from irl_gan.tasks import load_spec

    spec = load_spec(task)
    episodes = load_demos(ROOT / "demos" / f"{task}.h5").episodes[:4]
    return min(256, len(make_segments(episodes, spec.horizon if k == "full" else int(k))))


def summarise(rows: list[dict]) -> str:
    lines = [
        "# The segment question: gan-gcl's normalised return against segment length K",
        "",
        "4 demonstrations, PPO generator, the task's defaults with one cost update of lr 1e-4 per rollout (`SETTINGS`;",
        "TrainConfig's default until 2026-11-21), 20 deterministic evaluation episodes of the",
        "final policy (seeds from 500,000). K = full is the paper's trajectory discriminator.",
        "Command: `.venv/bin/python benchmarks/segments.py` (resumable; cells in segments.csv are kept).",
        "The effective sample size is over the last cost update's 2n segments: n per side is at most the",
        "number of demo segments (4 episodes cut into K-step windows) and at most 256.",
        "One or two seeds per cell so far: differences between K values are not yet told apart from seed variation.",
        "",
        "| task | env steps | K | seeds | normalised return (mean; per seed) | ESS of the IS weights, last round, of 2n |",
        "|---|---|---|---|---|---|",
    ]
    order = {"1": 0, "full": 10**9}
    keyed: dict[tuple, list[dict]] = {}
    for r in rows:
        keyed.setdefault((r["task"], r["k"]), []).append(r)
    for (task, k), cell in sorted(keyed.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], int(kv[0][1]) if kv[0][1].isdigit() else 0))):
        scores = [float(r["eval_normalised"]) for r in cell]
        ess = [float(r["final_ess"]) for r in cell if r["final_ess"]]
        lines.append(f"| {task} | {int(cell[0]['steps']):,} | {k} | {len(cell)} | {statistics.mean(scores):.3f}; "
                     f"{', '.join(f'{s:.3f}' for s in scores)} | {statistics.mean(ess):.0f} of {2 * batch_per_side(task, k)} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", default="invertedpendulum,inverteddoublependulum")
    p.add_argument("--ks", default="1,10,full")
    p.add_argument("--seeds", default="0")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "segments", help="Where the training runs go.")
    args = p.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(open(CSV, newline=""))) if CSV.exists() else []
    done = {(r["task"], r["k"], int(r["seed"])) for r in rows}
    for task in args.tasks.split(","):
        for k in args.ks.split(","):
            for seed in map(int, args.seeds.split(",")):
                if (task, k, seed) in done:
                    continue
                row = run_cell(task, k, seed, STEPS[task], args.runs)
                print(row, flush=True)
                rows.append({key: str(v) for key, v in row.items()})
                tmp = CSV.with_suffix(".csv.tmp")
                with open(tmp, "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=FIELDS)
                    w.writeheader()
                    w.writerows(rows)
                os.replace(tmp, CSV)
                (RESULTS / "segments.md").write_text(summarise(rows))
    print(summarise(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
