"""Harden a learned cost against the behaviours a fresh agent found on it (issue 5, an experiment).

A frozen cost fails as a reward when a fresh agent finds a behaviour the discriminator never
saw and rates above the demos (HalfCheetah: standing still, +3.45 nats a step above the demos
for gan-gcl seed 1's 3M cost; ``experiments/temperature/quality-temperature.md``). This is one round of the loop that
asks no true reward: ``irl-gan retrain`` finds such a behaviour, and the cost is trained on to
tell the demos the run learned from (label 1) from the rollouts of that agent, of the run's own
final policy and of a random policy (label 0), with the logistic loss on ``-c(s, a) - b``
(gan-gcl's discriminator at temperature 0). The result is written as a copy of the run, so that
``irl-gan retrain OUT`` and ``experiments/reward-retrain/cost_ranking.py OUT`` take it as they take any run.

    .venv/bin/python experiments/reward-retrain/harden_cost.py RUN --against LABEL=AGENT_OR_RUN [...] --out OUT

The cost's input normalisation stays as trained (fixed at the demos' statistics).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cost_ranking import demos_learned_from, labelled, per_step  # noqa: E402

from irl_gan.errors import UserError  # noqa: E402

COPIED = ("config.yaml", "card.yaml", "metrics.csv", "obs_norm.npz", "policy.zip")


def transitions(episodes) -> tuple[torch.Tensor, torch.Tensor]:
    """Every step of the episodes as the cost takes it (observations with the absorbing flag)."""
    from irl_gan.reward import LearnedReward

    obs, acts, _, _ = LearnedReward.inputs(
        np.concatenate([e.observations[:-1] for e in episodes]),
        np.concatenate([e.actions for e in episodes]),
        np.concatenate([e.observations[1:] for e in episodes]),
        np.zeros(sum(e.length for e in episodes), bool),
    )
    return obs, acts


def harden(cost, demos, negatives: list, steps: int, lr: float, batch: int, seed: int) -> list[float]:
    """Logistic regression of demos against the pooled negatives on ``-c - b``; the losses every 100 steps."""
    torch.manual_seed(seed)
    d_obs, d_acts = transitions(demos)
    sources = [transitions(n) for n in negatives]
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.Adam([*cost.g.parameters(), b], lr=lr)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    cost.train()
    losses = []
    for step in range(steps):
        i = torch.randint(len(d_obs), (batch,))
        # the same number of generated steps from each source, whatever its size
        idx = [torch.randint(len(o), (batch // len(sources),)) for o, _ in sources]
        n_obs = torch.cat([o[j] for (o, _), j in zip(sources, idx)])
        n_acts = torch.cat([a[j] for (_, a), j in zip(sources, idx)])
        logit_d = -cost.base_cost(d_obs[i], d_acts[i]) - b
        logit_n = -cost.base_cost(n_obs, n_acts) - b
        loss = bce(logit_d, torch.ones_like(logit_d)) + bce(logit_n, torch.zeros_like(logit_n))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            losses.append(loss.item())
    cost.eval()
    return losses


def relative_to_demos(cost, demos, sets: dict) -> dict[str, float]:
    """Learned reward per step of each set, minus that of the demos."""
    from irl_gan.reward import LearnedReward

    reward = LearnedReward(cost)
    zero = per_step(reward, demos)
    return {k: per_step(reward, v) - zero for k, v in sets.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path)
    p.add_argument("--against", action="append", default=[], metavar="LABEL=AGENT", help="an agent whose behaviour the cost must rate below the demos (a retrain's run directory)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--episodes", type=int, default=4, help="episodes rolled out of each negative")
    p.add_argument("--steps", type=int, default=2000, help="gradient steps")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    try:
        from irl_gan.agents import load_policy
        from irl_gan.cost import CostNet
        from irl_gan.rollout import random_policy, rollout
        from irl_gan.tasks import load_spec

        if not (a.run / "cost.pt").is_file() or not (a.run / "config.yaml").is_file():
            raise UserError(f"{a.run}: not a training run with a cost (no cost.pt or config.yaml)")
        if a.out.exists():
            raise UserError(f"{a.out} exists; give a new --out")
        against = labelled(a.against, "--against")
        config = yaml.safe_load((a.run / "config.yaml").read_text())
        spec = load_spec(config["task"])
        _, used = demos_learned_from(config, spec)
        env = spec.make_env()
        negatives = {"the run's policy": rollout(env, load_policy(a.run), a.episodes, seed=20_000, progress=False)}
        for label, agent in against:
            negatives[label] = rollout(env, load_policy(agent), a.episodes, seed=20_000, progress=False)
        negatives["random"] = rollout(env, random_policy(env), a.episodes, seed=20_000, progress=False)
        env.close()
    except UserError as exc:
        sys.exit(f"harden_cost.py: {exc}")

    cost = CostNet.load(a.run / "cost.pt")
    before = relative_to_demos(cost, used, negatives)
    losses = harden(cost, used, list(negatives.values()), a.steps, a.lr, a.batch, a.seed)
    after = relative_to_demos(cost, used, negatives)
    a.out.mkdir(parents=True)
    for name in COPIED:
        if (a.run / name).is_file():
            shutil.copy2(a.run / name, a.out / name)
    cost.save(a.out / "cost.pt")
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} over {a.steps} steps")
    print("learned reward per step minus the demos' (before -> after):")
    for k in negatives:
        print(f"  {k}: {before[k]:+.2f} -> {after[k]:+.2f}")
    print(f"written: {a.out}/cost.pt")


if __name__ == "__main__":
    main()
