"""Check every shipped expert and demo set, through the CLI a user would run.

For each agent in agents/: record 10 deterministic episodes with `irl-gan record`, read them
back with `irl-gan demos info --json`, and compare the normalised score with the agent's card.
Within noise means within three standard errors of the difference of the two means (Welch:
``sqrt(std_card²/n_card + std_rec²/n_rec)``); returns such as HalfCheetah's are heavy-tailed, so
both samples' spread counts. Each
recording is exported to Minari and loaded with `minari.load_dataset`. Shipped demos in demos/
are re-validated with `irl-gan demos info`. Writes benchmarks/results/shipped_experts.csv and
prints a Markdown table.

    python benchmarks/check_shipped.py [TASK ...]
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
IRL_GAN = [sys.executable, "-m", "irl_gan.cli"]
EPISODES = 10


def run(*args) -> str:
    proc = subprocess.run([*IRL_GAN, *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"irl-gan {' '.join(map(str, args))} failed: {proc.stderr.strip()}")
    return proc.stdout


def check(task: str, tmp: Path) -> dict:
    card = yaml.safe_load((ROOT / "agents" / task / "card.yaml").read_text())
    out = tmp / f"{task}.h5"
    run("record", task, "--agent", ROOT / "agents" / task, "--episodes", EPISODES, "--deterministic", "--seed", 12345, "--out", out, "--no-progress")
    info = json.loads(run("demos", "info", out, "--json"))
    expert, random = card["deterministic"], card["random"]
    span = expert["mean"] - random["mean"]
    card_norm = 1.0  # the card's deterministic mean is the task's expert score
    se = (expert["std"] ** 2 / expert["episodes"] + info["return_std"] ** 2 / info["episodes"]) ** 0.5
    noise = 3 * se / abs(span)
    row = {
        "task": task,
        "card_return": f"{expert['mean']:.1f} +- {expert['std']:.1f}",
        "recorded_return": f"{info['return_mean']:.1f} +- {info['return_std']:.1f}",
        "card_normalised": card_norm,
        "recorded_normalised": round(info["normalised_mean"], 4),
        "gap": round(abs(info["normalised_mean"] - card_norm), 4),
        "allowed_gap": round(noise, 4),
        "within_noise": abs(info["normalised_mean"] - card_norm) <= noise,
    }
    import minari

    os.environ["MINARI_DATASETS_PATH"] = str(tmp / "minari")
    dataset_id = f"irl_gan/{task}/check-v0"
    run("demos", "export-minari", out, "--id", dataset_id, "--data-path", tmp / "minari")
    ds = minari.load_dataset(dataset_id)
    row["minari_episodes"] = ds.total_episodes
    row["minari_steps_match"] = ds.total_steps == info["steps"]
    demo = ROOT / "demos" / f"{task}.h5"
    if demo.exists():
        shipped = json.loads(run("demos", "info", demo, "--json"))
        row["shipped_demo"] = f"{shipped['episodes']} ep, normalised {shipped['normalised_mean']:.3f}"
    return row


def main() -> None:
    tasks = sys.argv[1:] or sorted(p.parent.name for p in (ROOT / "agents").glob("*/card.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        rows = [check(t, Path(tmp)) for t in tasks]
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    with open(results / "shipped_experts.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r.get(k, "")) for k in keys) + " |")
    if not all(r["within_noise"] and r["minari_steps_match"] for r in rows):
        raise SystemExit("some shipped experts do not reproduce their cards")


if __name__ == "__main__":
    main()
