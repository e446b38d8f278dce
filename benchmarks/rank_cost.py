"""A cost learned by ranking noise-injected clones of the demos (issue 5, an experiment; D-REX's idea).

The discriminators' costs rank the demos first and every other behaviour arbitrarily: a fresh
agent finds a behaviour the discriminator never saw (standing still, on HalfCheetah) and the
cost rates it above the demos (``quality-temperature.md``). This asks no true reward either,
and no more than the demos: a policy cloned from the demos (a ``--algo bc`` run) is rolled out
with Gaussian action noise of increasing share of the action range, each noise level taken as
worse than the one below it and the demos as the best of all, and a state-only cost ``c(s)``
is fitted to those rankings with the Bradley-Terry loss on snippets (Brown et al. 2019, D-REX):
``P(A above B) = σ(Σ_A -c - Σ_B -c)`` over two ``--snippet``-step windows from different levels.

The result is a copy of RUN (a training run on the same demos) with the new ``cost.pt``, so that
``irl-gan retrain OUT`` and ``benchmarks/cost_ranking.py OUT`` take it as they take any run.

    .venv/bin/python benchmarks/rank_cost.py RUN --bc BC_RUN --out OUT
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cost_ranking import demos_learned_from  # noqa: E402
from harden_cost import COPIED, transitions  # noqa: E402

from irl_gan.errors import UserError  # noqa: E402


def snippet_pairs(levels: list[list[tuple[torch.Tensor, torch.Tensor]]], n: int, length: int, rng: np.random.Generator):
    """``n`` pairs of windows, the first from a better (lower-index) level than the second."""
    better, worse = [], []
    for _ in range(n):
        i, j = sorted(rng.choice(len(levels), 2, replace=False))
        for level, out in ((i, better), (j, worse)):
            obs, acts = levels[level][rng.integers(len(levels[level]))]
            t = rng.integers(len(obs) - length + 1)
            out.append((obs[t : t + length], acts[t : t + length]))
    stack = lambda side: (torch.stack([o for o, _ in side]), torch.stack([a for _, a in side]))  # noqa: E731
    return stack(better), stack(worse)


def fit(cost, train_levels, val_levels, steps: int, batch: int, length: int, lr: float, seed: int) -> list[tuple[int, float, float]]:
    """Bradley-Terry on snippet pairs; (step, training loss, held-out pairs ranked right) every 500 steps."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(cost.g.parameters(), lr=lr, weight_decay=1e-4)
    val = snippet_pairs(val_levels, 2000, length, np.random.default_rng(seed + 1))
    log = []
    for step in range(steps):
        (bo, ba), (wo, wa) = snippet_pairs(train_levels, batch, length, rng)
        logit = cost.base_cost(wo, wa).sum(-1) - cost.base_cost(bo, ba).sum(-1)
        loss = torch.nn.functional.softplus(-logit).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0 or step == steps - 1:
            with torch.no_grad():
                (vbo, vba), (vwo, vwa) = val
                right = (cost.base_cost(vwo, vwa).sum(-1) > cost.base_cost(vbo, vba).sum(-1)).double().mean()
            log.append((step, loss.item(), float(right)))
    return log


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a training run on the demos (its config names them; copied to OUT)")
    p.add_argument("--bc", type=Path, required=True, help="a policy cloned from the same demos (an --algo bc run)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--noise", default="0.1,0.25,0.5,0.75,1.0", help="noise shares, from least to most")
    p.add_argument("--episodes", type=int, default=5, help="episodes per noise level (the last one held out)")
    p.add_argument("--snippet", type=int, default=50, help="steps per window")
    p.add_argument("--steps", type=int, default=3000, help="gradient steps")
    p.add_argument("--batch", type=int, default=64, help="pairs per step")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--idle", action="store_true", help="rank the idle policy (the middle of the action range, on HalfCheetah no torque) with the noisiest level: the demonstrator does something")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    try:
        from irl_gan.agents import load_policy
        from irl_gan.cost import CostConfig, CostNet
        from irl_gan.rollout import noisy_policy, rollout
        from irl_gan.tasks import load_spec

        if not (a.run / "cost.pt").is_file() or not (a.run / "config.yaml").is_file():
            raise UserError(f"{a.run}: not a training run with a cost (no cost.pt or config.yaml)")
        if a.out.exists():
            raise UserError(f"{a.out} exists; give a new --out")
        if a.episodes < 2:
            raise UserError("--episodes: at least 2 (one is held out)")
        shares = [float(x) for x in a.noise.split(",")]
        config = yaml.safe_load((a.run / "config.yaml").read_text())
        spec = load_spec(config["task"])
        _, used = demos_learned_from(config, spec)
        bc = load_policy(a.bc)
        env = spec.make_env()
        rng = np.random.default_rng(a.seed)
        noisy = {s: rollout(env, noisy_policy(bc, env.action_space, s, rng), a.episodes, seed=30_000, progress=False) for s in shares}
        if a.idle:
            middle = (env.action_space.low + env.action_space.high) / 2
            idle = rollout(env, lambda obs: middle, a.episodes, seed=30_000, progress=False)
            print(f"idle: true return per step {np.mean([e.rewards.mean() for e in idle]):.2f}, ranked with noise {shares[-1]}")
            # interleaved so that the held-out (last) episode of the level stays one of each
            noisy[shares[-1]] = [e for pair in zip(noisy[shares[-1]], idle) for e in pair]
        env.close()
    except (UserError, ValueError) as exc:
        sys.exit(f"rank_cost.py: {exc}")

    template = CostNet.load(a.run / "cost.pt").config
    cost = CostNet(CostConfig(obs_dim=template.obs_dim, act_dim=template.act_dim, state_only=True, hidden=template.hidden))
    cost.update_normalisation(*transitions(used))
    per_episode = lambda eps: [transitions([e]) for e in eps]  # noqa: E731
    # demos first (best), then the noise levels in order; the last episode of each level is held out
    levels = [per_episode(used)] + [per_episode(noisy[s]) for s in shares]
    train, val = [lv[:-1] for lv in levels], [lv[-1:] for lv in levels]
    print("true return per step: demos {:.2f}; ".format(np.mean([e.rewards.mean() for e in used]))
          + "; ".join(f"noise {s} {np.mean([e.rewards.mean() for e in noisy[s]]):.2f}" for s in shares))
    log = fit(cost, train, val, a.steps, a.batch, a.snippet, a.lr, a.seed)
    for step, loss, right in log:
        print(f"step {step}: loss {loss:.3f}, held-out pairs ranked right {right:.3f}")
    a.out.mkdir(parents=True)
    for name in COPIED:
        if (a.run / name).is_file():
            shutil.copy2(a.run / name, a.out / name)
    cost.save(a.out / "cost.pt")
    print(f"written: {a.out}/cost.pt")


if __name__ == "__main__":
    main()
