"""D-REX: a cost learned by ranking noise-injected clones of the demos (Brown, Goo & Niekum 2019).

A discriminator's cost has to rank the demos above the generator of its moment, and nothing
else: a fresh agent trained on it may find behaviours the discriminator never saw. D-REX asks for no more than the demos and the env. It clones the demos (``irl_gan.bc``), rolls
the clone out with Gaussian action noise of increasing share of the action range, and fits a
state-only cost ``c(s)`` to the ranking that noise implies: each level worse than the one below
it, the demos best of all. The fit is the Bradley-Terry loss on windows of ``rank_snippet`` steps,
``P(A ranked above B) = σ(Σ_A -c - Σ_B -c)``. With ``rank_idle`` the idle policy (the middle of the
action range) is ranked with the noisiest level: the demonstrator does something.

Episodes that terminate are padded to the horizon with the absorbing state, so that falling early
is ranked too. The run directory is like bc's, with ``cost.pt`` beside the cloned policy:
``irl-gan retrain`` and ``irl-gan eval-reward`` take it as they take any run with a cost.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import yaml

from irl_gan.data import Episode
from irl_gan.io import atomic_path, atomic_write_csv, atomic_write_text
from irl_gan.tasks import TaskSpec

Tensor = torch.Tensor
# Rollout seeds of the noise levels: level i starts at RANK_SEED + 1000 i, clear of evaluation's (1e6 on).
RANK_SEED = 30_000


def episode_inputs(episode: Episode, horizon: int) -> tuple[Tensor, Tensor]:
    """An episode's steps as the cost takes them (observations with the absorbing flag, actions);
    one that terminated is padded to ``horizon`` steps with the absorbing state and action zero."""
    from irl_gan.reward import LearnedReward

    obs, acts, _, _ = LearnedReward.inputs(episode.observations[:-1], episode.actions, episode.observations[1:], np.zeros(episode.length, bool))
    pad = horizon - episode.length if episode.terminated else 0
    if pad > 0:
        absorbing = torch.zeros(pad, obs.shape[-1])
        absorbing[:, -1] = 1.0
        obs, acts = torch.cat([obs, absorbing]), torch.cat([acts, torch.zeros(pad, acts.shape[-1])])
    return obs, acts


def snippet_pairs(levels: list[list[tuple[Tensor, Tensor]]], n: int, length: int, rng: np.random.Generator):
    """``n`` pairs of ``length``-step windows, the first of each from a better (lower-index) level."""
    better, worse = [], []
    for _ in range(n):
        i, j = sorted(rng.choice(len(levels), 2, replace=False))
        for level, side in ((i, better), (j, worse)):
            obs, acts = levels[level][rng.integers(len(levels[level]))]
            t = rng.integers(len(obs) - length + 1)
            side.append((obs[t : t + length], acts[t : t + length]))
    stack = lambda side: (torch.stack([o for o, _ in side]), torch.stack([a for _, a in side]))  # noqa: E731
    return stack(better), stack(worse)


def held_out_pairs(held_out: list, n: int, length: int, seed: int):
    """``n`` window pairs of the held-out levels (best first), the same draw for the same seed:
    what ``rank_accuracy`` is measured on, in drex's fit and in a run with ``rank_weight``."""
    return snippet_pairs(held_out, n, length, np.random.default_rng(seed + 1))


def fit_ranking(cost, train: list, held_out: list, steps: int, batch: int, length: int, lr: float, seed: int, progress: bool = False) -> list[dict]:
    """Bradley-Terry on snippet pairs of ``train`` (levels, best first). Every ``steps // 5`` steps:
    the loss, and the share of 2,000 pairs of ``held_out`` that the cost ranks right."""
    from tqdm.auto import tqdm

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(cost.g.parameters(), lr=lr, weight_decay=1e-4)
    (vbo, vba), (vwo, vwa) = held_out_pairs(held_out, 2000, length, seed)
    checks, log = max(1, steps // 5), []
    for step in tqdm(range(1, steps + 1), desc="ranking steps", disable=None if progress else True):
        (bo, ba), (wo, wa) = snippet_pairs(train, batch, length, rng)
        loss = ranking_loss(cost, (bo, ba), (wo, wa))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % checks == 0 or step == steps:
            log.append({"rank_steps": step, "rank_loss": float(loss.detach()), "rank_accuracy": ranked_right(cost, (vbo, vba), (vwo, vwa))})
    return log


def ranked_levels(spec: TaskSpec, demos: Sequence[Episode], config, out: Path, progress: bool = True) -> dict:
    """The ranking D-REX fits, built from the demo episodes and the env alone: the demos cloned into
    ``out`` (a bc run), the clone rolled out at each ``rank_noise`` level (with ``rank_idle``, the
    idle policy beside the noisiest), every episode as the cost takes it, terminated ones padded.
    Returns ``levels`` (best first: the demos, then each noise level; lists of (obs, acts)),
    ``env_steps`` of the rollouts, ``true_per_step`` (the env's reward per step of each level,
    for the record: the fit never reads it) and the clone's last bc metrics."""
    from irl_gan.agents import load_policy
    from irl_gan.bc import train_bc
    from irl_gan.rollout import noisy_policy, rollout

    bc_last = train_bc(spec, demos, config, out, progress)
    clone = load_policy(out)
    env = spec.make_env(protocol=config.protocol)
    rng = np.random.default_rng(config.seed)
    levels = []
    for i, share in enumerate(config.rank_noise):
        levels.append(rollout(env, noisy_policy(clone, env.action_space, share, rng), config.rank_episodes,
                              seed=RANK_SEED + 1000 * i, progress=progress, desc=f"noise {share}"))
    if config.rank_idle:
        middle = (env.action_space.low + env.action_space.high) / 2
        idle = rollout(env, lambda obs: middle, config.rank_episodes, seed=RANK_SEED + 1000 * len(levels), progress=False)
        # interleaved, so that the held-out (last) episode of the level is one of the idle ones
        levels[-1] = [e for pair in zip(levels[-1], idle) for e in pair]
    env.close()
    true_per_step = {"demos": float(np.mean([e.rewards.mean() for e in demos]))}
    true_per_step.update({f"noise {s}": float(np.mean([e.rewards.mean() for e in lv])) for s, lv in zip(config.rank_noise, levels)})
    return {"levels": [[episode_inputs(e, spec.horizon) for e in level] for level in [list(demos), *levels]],
            "env_steps": sum(e.length for level in levels for e in level), "true_per_step": true_per_step, "bc": bc_last}


def snippet_length(config, levels: list) -> int:
    """``rank_snippet``, or the shortest ranked episode where one is shorter."""
    return min(config.rank_snippet, *(len(o) for level in levels for o, _ in level))


def ranking_loss(cost, better: tuple[Tensor, Tensor], worse: tuple[Tensor, Tensor]) -> Tensor:
    """Bradley-Terry: the better window should have the lower energy, ``logit = E(worse) - E(better)``."""
    logit = cost.base_cost(*worse).sum(-1) - cost.base_cost(*better).sum(-1)
    return torch.nn.functional.softplus(-logit).mean()


@torch.no_grad()
def ranked_right(cost, better: tuple[Tensor, Tensor], worse: tuple[Tensor, Tensor]) -> float:
    """The share of window pairs that ``cost`` ranks right (the better one of lower energy)."""
    return float((cost.base_cost(*worse).sum(-1) > cost.base_cost(*better).sum(-1)).double().mean())


class Ranking:
    """``rank_weight``: D-REX's ranking beside a discriminator, as a loss in every cost update.

    The levels are built into RUN/ranking/ before the first env step (the demos cloned, the clone's
    noisy rollouts), or read back from there on --resume. The last episode of each level is held
    out: the share of its window pairs ranked right is the run's ``rank_accuracy``."""

    def __init__(self, levels: list, config, env_steps: int = 0):
        self.env_steps = env_steps
        """Env steps of the rollouts that made the levels, taken before the generator's first."""
        self.snippet = snippet_length(config, levels)
        self.train = [lv[:-1] for lv in levels]
        self.held_out = held_out_pairs([lv[-1:] for lv in levels], 500, self.snippet, config.seed)
        self.batch = config.rank_batch

    @classmethod
    def prepare(cls, spec: TaskSpec, demos: Sequence[Episode], config, where: Path, progress: bool = True) -> "Ranking":
        path = where / "levels.pt"
        if path.exists():
            ranking = torch.load(path, weights_only=True)
        else:
            ranking = ranked_levels(spec, demos, config, where, progress)
            with atomic_path(path) as tmp:
                torch.save(ranking, tmp)
            record = {"env_steps": ranking["env_steps"], "true_return_per_step": {k: round(v, 4) for k, v in ranking["true_per_step"].items()}}
            atomic_write_text(where / "levels.yaml", yaml.safe_dump(record, sort_keys=False))
        return cls(ranking["levels"], config, int(ranking["env_steps"]))

    def loss(self, cost, rng: np.random.Generator) -> Tensor:
        """The Bradley-Terry loss of ``rank_batch`` window pairs drawn with ``rng``."""
        better, worse = snippet_pairs(self.train, self.batch, self.snippet, rng)
        return ranking_loss(cost, better, worse)

    def accuracy(self, cost) -> float:
        return ranked_right(cost, *self.held_out)


def train_drex(spec: TaskSpec, demos: Sequence[Episode], config, out: Path, progress: bool = True) -> dict:
    from irl_gan.cost import CostConfig, CostNet
    from irl_gan.report import read_metrics

    start = time.time()
    ranking = ranked_levels(spec, demos, config, out, progress)
    ranked, env_steps = ranking["levels"], ranking["env_steps"]
    obs, acts = ranked[0][0]  # the cost's inputs: observations with the absorbing flag, actions
    cost = CostNet(CostConfig(obs.shape[-1], acts.shape[-1], state_only=True, hidden=tuple(config.cost_hidden)))
    # the cost's inputs are normalised by the demos' statistics, as in training
    cost.update_normalisation(torch.cat([o for o, _ in ranked[0]]), torch.cat([a for _, a in ranked[0]]))
    length = snippet_length(config, ranked)
    # the last episode of each level is held out to measure the ranking; the rest train it
    log = fit_ranking(cost, [lv[:-1] for lv in ranked], [lv[-1:] for lv in ranked], config.rank_steps, config.rank_batch, length, config.cost_lr, config.seed, progress)
    cost.save(out / "cost.pt")

    bc_rows = read_metrics(out)
    rows = bc_rows + [{"round": len(bc_rows) + i + 1, "env_steps": env_steps, "wall_s": round(time.time() - start, 2), **r} for i, r in enumerate(log)]
    fields = list(dict.fromkeys(k for r in rows for k in r))
    atomic_write_csv(out / "metrics.csv", rows, fields)
    card = {"task": spec.task, "env_id": spec.env_id, "trained_by": "irl-gan train", "algo": "drex",
            "ranking": {"levels": ["demos", *(f"noise {s}" for s in config.rank_noise)], "idle_with_the_last": bool(config.rank_idle),
                        "snippet": length, "held_out_pairs_ranked_right": round(log[-1]["rank_accuracy"], 4),
                        "true_return_per_step": {k: round(v, 4) for k, v in ranking["true_per_step"].items()}}}
    atomic_write_text(out / "card.yaml", yaml.safe_dump(card, sort_keys=False))
    return {**ranking["bc"], "env_steps": env_steps, **log[-1]}
