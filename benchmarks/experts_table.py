"""The shipped-experts table of docs/benchmarks.md, generated from the agents' cards.

    python benchmarks/experts_table.py > benchmarks/results/experts.md
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def label(task: str, env_id: str) -> str:
    """The task's name where it is not just its env's (irl_gan's own and the transfer tasks)."""
    return env_id if task == env_id.split("-v")[0].lower() else f"{task} ({env_id})"


def row(card: dict) -> str:
    det, rnd, ref = card["deterministic"], card["random"], card.get("reference") or {}
    ref_ret = ref.get("return")
    if ref_ret is None:
        verdict = "n/a"
    else:
        gap = det["mean"] - ref_ret
        verdict = "meets" if gap >= 0 else f"short by {-gap:.1f} ({-gap / abs(ref_ret) * 100:.0f}%)"
    recipe = card["recipe"]
    if card["trained_timesteps"] < recipe["timesteps"]:
        verdict += f"; partial: {card['trained_timesteps']:,} of {recipe['timesteps']:,} recipe steps"
    return (
        f"| {label(card['task'], card['env_id'])} | {recipe['algo'].upper()} | {card['trained_timesteps']:,} | {card['wall_seconds'] / 60:.0f} min "
        f"| {det['mean']:.1f} ± {det['std']:.1f} | {card['stochastic']['mean']:.1f} | {rnd['mean']:.1f} "
        f"| {ref_ret if ref_ret is not None else '—'} | {verdict} |"
    )


def main() -> None:
    cards = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "agents").glob("*/card.yaml"))]
    print("| task | algo | env steps | wall (1 thread) | return (deterministic, 50 ep) | stochastic | random | reference | vs reference |")
    print("|---|---|---|---|---|---|---|---|---|")
    for card in cards:
        print(row(card))
    shipped = {c["task"] for c in cards}
    for spec_path in sorted((ROOT / "envs").glob("*.yaml")):
        spec = yaml.safe_load(spec_path.read_text())
        if spec["task"] not in shipped:
            ref = (spec.get("reference") or {}).get("return", "—")
            print(f"| {label(spec['task'], spec['env_id'])} | {spec['expert']['algo'].upper()} | — | — | not trained yet | — | — | {ref} | no expert yet |")
    print()
    print("References: " + "; ".join(f"{label(c['task'], c['env_id'])}: {c['reference']['source']}" for c in cards if c.get("reference")))
    notes = [f"{label(c['task'], c['env_id'])}: {c['reference']['note']}" for c in cards if (c.get("reference") or {}).get("note")]
    if notes:
        print()
        print("Notes: " + " ".join(notes))


if __name__ == "__main__":
    main()
