"""Task specs: the standard tasks described as data, one YAML file per task in ``irl_gan/envs/``.

A spec names the gymnasium id, the horizon, the expert recipe and, once measured, the
normalisation scores ``random`` and ``expert`` (mean true return over >= 50 episodes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from irl_gan.errors import UserError

SPEC_KEYS = {"task", "env_id", "horizon", "env_kwargs", "expert", "reference", "scores", "train"}
RECIPE_KEYS = {"algo", "timesteps", "seed", "n_envs", "normalize", "hyperparameters", "policy_kwargs"}
ALGOS = ("ppo", "sac")


SHIPPED_SPECS = Path(__file__).resolve().parent / "envs"
"""The shipped task specs and their MJCF files (package data)."""


def spec_dirs() -> list[Path]:
    """Folders searched for task specs: those in ``$IRL_GAN_ENVS`` (``os.pathsep``-separated),
    then the shipped ones; a user's spec of the same name wins."""
    extra = [Path(p) for p in os.environ.get("IRL_GAN_ENVS", "").split(os.pathsep) if p]
    return [*extra, SHIPPED_SPECS]


def agents_dir() -> Path:
    """Folder holding the shipped experts: ``$IRL_GAN_AGENTS`` or the repository's ``agents/``."""
    return Path(os.environ.get("IRL_GAN_AGENTS", Path(__file__).resolve().parent.parent / "agents"))


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How the task's expert is trained (an SB3 algorithm and its settings)."""

    algo: str
    timesteps: int
    seed: int
    n_envs: int = 1
    normalize: bool = False
    hyperparameters: dict = dataclasses.field(default_factory=dict)
    policy_kwargs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Scores:
    """Mean true returns used to normalise: ``(R - random) / (expert - random)``."""

    random: float
    expert: float
    episodes: int

    def normalise(self, ret: float) -> float:
        return (ret - self.random) / (self.expert - self.random)


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    task: str
    env_id: str
    horizon: int
    expert: Recipe
    env_kwargs: dict = dataclasses.field(default_factory=dict)
    reference: dict = dataclasses.field(default_factory=dict)
    scores: Scores | None = None
    train: dict = dataclasses.field(default_factory=dict)
    """Default ``irl-gan train`` settings for this task (override TrainConfig's)."""
    path: Path | None = None

    def make_env(self, render_mode: str | None = None, **overrides: Any):
        """A gymnasium env for this task, with the spec's horizon."""
        import gymnasium as gym

        import irl_gan.envs  # noqa: F401 - registers irl_gan's own tasks (irl_gan/...)

        kwargs = {**self.env_kwargs, **overrides}
        if "xml_file" in kwargs and not Path(kwargs["xml_file"]).is_absolute():
            # A task's own MJCF file (a transfer task's changed body) lives beside its spec.
            kwargs["xml_file"] = str((self.path.parent if self.path else SHIPPED_SPECS) / kwargs["xml_file"])
        with _upstream_model_warnings_dropped():
            return gym.make(self.env_id, max_episode_steps=self.horizon, render_mode=render_mode, **kwargs)


_UPSTREAM_MODEL_WARNINGS = ("compiler attribute 'settotalmass' is deprecated",)
"""MuJoCo 4 deprecates what gymnasium's own HalfCheetah model (and our copies of it) still use,
and says so at every load: a matter for the model's authors, not for someone training on it."""


@contextlib.contextmanager
def _upstream_model_warnings_dropped():
    """While an env is built, MuJoCo's warnings in ``_UPSTREAM_MODEL_WARNINGS`` are dropped and any
    other is printed as MuJoCo prints it; the previous handler is restored afterwards."""
    import mujoco

    previous = mujoco.get_mju_user_warning()

    def warn(message: str) -> None:
        if not message.startswith(_UPSTREAM_MODEL_WARNINGS):
            print(f"WARNING: {message}", file=sys.stderr)

    mujoco.set_mju_user_warning(warn)
    try:
        yield
    finally:
        mujoco.set_mju_user_warning(previous)


def available_tasks() -> list[str]:
    return sorted({p.stem for d in spec_dirs() for p in d.glob("*.yaml")})


def _require(cond: bool, path: Path, message: str) -> None:
    if not cond:
        raise UserError(f"{path}: {message}")


def parse_spec(raw: Any, path: Path) -> TaskSpec:
    """Validate a spec read from YAML; every problem is a one-line UserError naming the file."""
    _require(isinstance(raw, dict), path, "a task spec must be a YAML mapping")
    unknown = set(raw) - SPEC_KEYS
    _require(not unknown, path, f"unknown keys {sorted(unknown)}; allowed: {sorted(SPEC_KEYS)}")
    for key in ("task", "env_id", "horizon", "expert"):
        _require(key in raw, path, f"missing required key '{key}'")
    _require(isinstance(raw["env_id"], str), path, "'env_id' must be a string")
    _require(isinstance(raw.get("train") or {}, dict), path, "'train' must be a mapping of irl-gan train settings")
    _require(isinstance(raw["horizon"], int) and raw["horizon"] > 0, path, "'horizon' must be a positive integer")
    rec = raw["expert"]
    _require(isinstance(rec, dict), path, "'expert' must be a mapping (the expert recipe)")
    unknown = set(rec) - RECIPE_KEYS
    _require(not unknown, path, f"unknown expert recipe keys {sorted(unknown)}; allowed: {sorted(RECIPE_KEYS)}")
    _require(rec.get("algo") in ALGOS, path, f"expert.algo must be one of {list(ALGOS)}, got {rec.get('algo')!r}")
    for key in ("timesteps", "seed"):
        _require(isinstance(rec.get(key), int) and rec[key] >= 0, path, f"expert.{key} must be a non-negative integer")
    _require(isinstance(rec.get("n_envs", 1), int) and rec.get("n_envs", 1) > 0, path, "expert.n_envs must be >= 1")
    scores = raw.get("scores")
    if scores is not None:
        _require(
            isinstance(scores, dict) and {"random", "expert", "episodes"} <= set(scores),
            path,
            "'scores' must have keys random, expert, episodes",
        )
        _require(scores["expert"] != scores["random"], path, "scores.expert must differ from scores.random")
        scores = Scores(float(scores["random"]), float(scores["expert"]), int(scores["episodes"]))
    return TaskSpec(
        task=str(raw["task"]),
        env_id=raw["env_id"],
        horizon=raw["horizon"],
        expert=Recipe(**rec),
        env_kwargs=dict(raw.get("env_kwargs") or {}),
        reference=dict(raw.get("reference") or {}),
        scores=scores,
        train=dict(raw.get("train") or {}),
        path=path,
    )


def load_spec(task: str) -> TaskSpec:
    """The spec of a task by name (``halfcheetah``) or by path to a YAML file."""
    path = Path(task)
    if path.suffix not in (".yaml", ".yml"):
        path = next((d / f"{task.lower()}.yaml" for d in spec_dirs() if (d / f"{task.lower()}.yaml").exists()), None)
        if path is None:
            raise UserError(f"unknown task '{task}'; known tasks: {', '.join(available_tasks())}")
    elif not path.exists():
        raise UserError(f"task spec {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}: not valid YAML{where}; fix the syntax") from None
    return parse_spec(raw, path)


def write_scores(spec: TaskSpec, scores: Scores) -> None:
    """Store measured normalisation scores in the task's YAML file."""
    assert spec.path is not None
    raw = yaml.safe_load(spec.path.read_text())
    raw["scores"] = dataclasses.asdict(scores)
    from irl_gan.io import atomic_write_text

    atomic_write_text(spec.path, yaml.safe_dump(raw, sort_keys=False))
