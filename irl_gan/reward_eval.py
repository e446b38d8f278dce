"""How good is a learned reward? Correlation with the true reward on held-out transitions, the
EPIC distance, and pictures (``irl-gan eval-reward``).

Held-out transitions come from a mix of policies, so that the reward is judged off the expert's
path too: the shipped expert, the expert with action noise, the run's own learned policy and a
uniformly random policy.

EPIC (Gleave et al. 2021) removes potential shaping before comparing. The canonical form of a
reward ``R`` is ``C(R)(s,a,s') = R(s,a,s') + E[γR(s',A,S') - R(s,A,S') - γR(S,A,S')]`` with
``S, S'`` drawn from the held-out states and ``A`` from their actions, independently; the
distance is ``sqrt((1 - ρ)/2)`` with ``ρ`` the Pearson correlation of the two canonical rewards
over the held-out transitions. The last expectation is a constant, and Pearson's ρ ignores
constants, so it is not computed. EPIC needs the true reward at any ``(s, a, s')``, not only at
transitions the env produced: tasks whose reward has a closed form in the observations have one
below (exact, or approximate where MuJoCo's reward uses positions the observation leaves out).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np

from irl_gan.data import Episode
from irl_gan.tasks import TaskSpec

RewardFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class ClosedForm:
    """A task's true reward as a function of ``(obs, act, next_obs)``."""

    fn: RewardFn
    exact: bool
    note: str


def _sq(a: np.ndarray) -> np.ndarray:
    return np.square(a).sum(-1)


def _pendulum(obs, act, nxt):
    theta, thdot = np.arctan2(obs[..., 1], obs[..., 0]), obs[..., 2]
    u = np.clip(act[..., 0], -2.0, 2.0)
    return -(theta**2 + 0.1 * thdot**2 + 0.001 * u**2)


def _maze(obs, act, nxt):
    from irl_gan.envs.point_maze import true_reward

    return true_reward(obs)


def _forward(index: int, healthy: float, ctrl: float) -> RewardFn:
    return lambda obs, act, nxt: nxt[..., index] + healthy - ctrl * _sq(act)


_VELOCITY_NOTE = "the forward speed is read from the next observation's velocity, not MuJoCo's position difference"
CLOSED_FORMS: dict[str, ClosedForm] = {
    "Pendulum-v1": ClosedForm(_pendulum, True, "gymnasium's formula"),
    "irl_gan/PointMaze-v0": ClosedForm(_maze, True, "minus the distance to the goal"),
    "irl_gan/PointMazeShifted-v0": ClosedForm(_maze, True, "minus the distance to the goal"),
    "Reacher-v5": ClosedForm(lambda o, a, n: -np.linalg.norm(n[..., 8:11], axis=-1) - _sq(a), True, "gymnasium's formula"),
    "HalfCheetah-v5": ClosedForm(_forward(8, 0.0, 0.1), False, _VELOCITY_NOTE),
    "Hopper-v5": ClosedForm(_forward(5, 1.0, 1e-3), False, _VELOCITY_NOTE),
    "Walker2d-v5": ClosedForm(_forward(8, 1.0, 1e-3), False, _VELOCITY_NOTE),
    "Swimmer-v5": ClosedForm(_forward(3, 0.0, 1e-4), False, _VELOCITY_NOTE),
    "Ant-v5": ClosedForm(_forward(13, 1.0, 0.5), False, _VELOCITY_NOTE + "; contact cost left out"),
}


@dataclasses.dataclass
class Transitions:
    obs: np.ndarray
    acts: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    rews: np.ndarray
    source: np.ndarray
    """Which policy produced each transition (a name)."""

    @classmethod
    def from_episodes(cls, episodes: list[Episode], source: str) -> "Transitions":
        parts = []
        for e in episodes:
            n = len(e.actions)
            term = np.zeros(n, bool)
            term[-1] = e.terminated
            parts.append((e.observations[:-1], e.actions, e.observations[1:], term, e.rewards))
        cols = [np.concatenate(c) for c in zip(*parts)]
        return cls(*cols, np.full(len(cols[0]), source))

    @classmethod
    def cat(cls, items: list["Transitions"]) -> "Transitions":
        return cls(*(np.concatenate([getattr(t, f.name) for t in items]) for f in dataclasses.fields(cls)))

    def __len__(self) -> int:
        return len(self.rews)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks with ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    return pearson(_ranks(np.asarray(a)), _ranks(np.asarray(b)))


def canonical(fn: RewardFn, t: Transitions, gamma: float, samples: int, rng: np.random.Generator) -> np.ndarray:
    """``C(R)`` on the transitions ``t``, up to a constant: ``R(s,a,s') + γ m(s') - m(s)`` with
    ``m(x) = E[R(x, A, S')]`` over ``samples`` (A, S') pairs drawn from ``t``."""
    idx_a = rng.integers(len(t), size=samples)
    idx_s = rng.integers(len(t), size=samples)
    acts, nxt = t.acts[idx_a], t.next_obs[idx_s]

    def mean_from(states: np.ndarray) -> np.ndarray:
        out = np.empty(len(states))
        step = max(1, 200_000 // samples)
        for i in range(0, len(states), step):
            x = states[i : i + step]
            o = np.repeat(x, samples, axis=0)
            r = fn(o, np.tile(acts, (len(x), 1)), np.tile(nxt, (len(x), 1)))
            out[i : i + step] = np.asarray(r, np.float64).reshape(len(x), samples).mean(1)
        return out

    return np.asarray(fn(t.obs, t.acts, t.next_obs), np.float64) + gamma * mean_from(t.next_obs) - mean_from(t.obs)


def epic_distance(learned: RewardFn, true: RewardFn, t: Transitions, gamma: float, samples: int = 256, seed: int = 0) -> float:
    """EPIC pseudometric between two rewards on the coverage distribution ``t`` (0 = same up to shaping
    and scale); NaN when either reward is constant there after canonicalisation."""
    rng = np.random.default_rng(seed)
    rho = pearson(canonical(learned, t, gamma, samples, rng), canonical(true, t, gamma, samples, np.random.default_rng(seed)))
    if np.isnan(rho):
        return float("nan")  # a constant canonical reward: no distance is defined (and none is 0)
    return float(np.sqrt(max(0.0, 1.0 - rho) / 2.0))


def expert_agent(spec: TaskSpec, agent: str | Path | None = None) -> str | None:
    """The expert whose transitions join the held-out set: ``agent`` if given, else the task's
    shipped expert if there is one, else None."""
    from irl_gan.tasks import agents_dir

    if agent is not None:
        return str(agent)
    shipped = agents_dir() / spec.task
    return str(shipped) if (shipped / "model.zip").exists() else None


def held_out_transitions(spec: TaskSpec, run: Path, episodes: int, seed: int, progress: bool = True,
                         agent: str | Path | None = None) -> Transitions:
    """Transitions from the expert (``agent``, or the shipped one), the expert with action noise,
    the run's own policy (sampling) and a random policy: ``episodes`` episodes each, seeds from ``seed``."""
    from irl_gan.agents import check_policy_space, load_policy
    from irl_gan.rollout import noisy_policy, random_policy, rollout

    env = spec.make_env()
    rng = np.random.default_rng(seed)
    policies: list[tuple[str, Callable]] = []
    expert_path = expert_agent(spec, agent)
    if expert_path is not None:
        expert = load_policy(expert_path)
        check_policy_space(expert, env, expert_path)
        policies += [("expert", expert), ("expert + noise", noisy_policy(expert, env.action_space, 0.3, rng))]
    learned = load_policy(run, deterministic=False)
    check_policy_space(learned, env, str(run))
    policies += [("learned policy", learned), ("random", random_policy(env))]
    parts = []
    for i, (name, policy) in enumerate(policies):
        eps = rollout(env, policy, episodes, seed + 1000 * i, progress, desc=name)
        parts.append(Transitions.from_episodes(eps, name))
    env.close()
    return Transitions.cat(parts)


def evaluate_reward(run: Path, spec: TaskSpec, episodes: int = 4, seed: int = 2_000_000, out: Path | None = None, progress: bool = True,
                    which: str | None = None, agent: str | Path | None = None) -> dict:
    """Correlations and EPIC of ``run``'s learned reward (``which``: its final cost, the mean of its
    snapshots, or one snapshot; by default the mean where it kept any) against ``spec``'s true
    reward, with a scatter plot (and a heat-map on tasks over a plane) written to ``out``."""
    from irl_gan.reward import LearnedReward, default_cost, run_cost

    which = which or default_cost(run)
    learned = LearnedReward.for_task(run_cost(run, which), spec)
    t = held_out_transitions(spec, run, episodes, seed, progress, agent)
    r_hat = learned(t.obs, t.acts, t.next_obs, t.terminated)
    result: dict = {"task": spec.task, "run": str(run), "cost": which, "transitions": len(t),
                    "sources": {s: int((t.source == s).sum()) for s in dict.fromkeys(t.source.tolist())},
                    "expert_agent": expert_agent(spec, agent),
                    "pearson": round(pearson(r_hat, t.rews), 4), "spearman": round(spearman(r_hat, t.rews), 4)}
    result["per_source_pearson"] = {s: round(pearson(r_hat[t.source == s], t.rews[t.source == s]), 4) for s in result["sources"]}
    form = CLOSED_FORMS.get(spec.env_id)
    if form is None:
        result["epic"] = None
        result["epic_note"] = f"no closed-form reward for {spec.env_id}; EPIC needs the true reward at any (s, a, s')"
    else:
        plain = lambda o, a, n: learned(o, a, n, np.zeros(len(o), bool))  # noqa: E731
        result["epic"] = round(epic_distance(plain, form.fn, t, learned.gamma), 4)
        result["epic_true_reward"] = "exact" if form.exact else f"approximate: {form.note}"
        result["closed_form_vs_env_pearson"] = round(pearson(form.fn(t.obs, t.acts, t.next_obs), t.rews), 4)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result["scatter"] = str(_scatter(t, r_hat, out / "scatter.png", spec.task, result))
        heat = _heatmap(spec, learned, out / "heatmap.png", result)
        if heat is not None:
            result["heatmap"] = str(heat)
    return result


def _scatter(t: Transitions, r_hat: np.ndarray, path: Path, task: str, result: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from irl_gan.io import atomic_path

    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=110)
    for s in result["sources"]:
        m = t.source == s
        ax.scatter(t.rews[m], r_hat[m], s=3, alpha=0.35, label=s)
    epic = f", EPIC {result['epic']:.3f}" if result.get("epic") is not None else ""
    ax.set(xlabel="true reward", ylabel="learned reward", title=f"{task}: Pearson {result['pearson']:.3f}, Spearman {result['spearman']:.3f}{epic}")
    ax.title.set_fontsize(9)
    ax.legend(markerscale=4, fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def _heatmap(spec: TaskSpec, learned, path: Path, result: dict) -> Path | None:
    """Learned and true reward over the plane, for tasks whose states lie on one (the maze)."""
    env = spec.make_env()
    plane = getattr(env.unwrapped, "plane_states", None)
    act_dim = env.action_space.shape[0]
    env.close()
    form = CLOSED_FORMS.get(spec.env_id)
    if plane is None or form is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from irl_gan.io import atomic_path

    xs, ys, obs = plane()
    flat = obs.reshape(-1, obs.shape[-1])
    zeros_a = np.zeros((len(flat), act_dim))
    learned_r = learned(flat, zeros_a, flat, np.zeros(len(flat), bool)).reshape(obs.shape[:2])
    true_r = form.fn(flat, zeros_a, flat).reshape(obs.shape[:2])
    result["plane_pearson"] = round(pearson(learned_r.ravel(), true_r.ravel()), 4)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), dpi=110)
    for ax, z, title in zip(axes, (true_r, learned_r), ("true reward", f"learned reward (Pearson {result['plane_pearson']:.3f} over the plane)")):
        im = ax.imshow(z, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap="viridis")
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(f"{spec.task}: reward at rest over the plane", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
