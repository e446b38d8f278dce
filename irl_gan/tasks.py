"""Task specs: the standard tasks described as data, one YAML file per task in ``irl_gan/envs/``.

A spec names the gymnasium id, the horizon, the expert recipe and, once measured, the
normalisation scores ``random`` and ``expert`` (mean true return over >= 50 episodes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
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
    zero: float | None = None
    """Return of the policy that always acts zero (the action nearest zero in bounds), if measured."""

    def normalise(self, ret: float) -> float:
        return (ret - self.random) / (self.expert - self.random)

    def as_dict(self) -> dict:
        """As a spec or the score store holds them: the measured fields only."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    task: str
    env_id: str
    horizon: int
    expert: Recipe | None = None
    env_kwargs: dict = dataclasses.field(default_factory=dict)
    reference: dict = dataclasses.field(default_factory=dict)
    scores: Scores | None = None
    train: dict = dataclasses.field(default_factory=dict)
    """Default ``irl-gan train`` settings for this task (override TrainConfig's)."""
    path: Path | None = None
    ref: str = ""
    """What ``load_spec`` resolves back to this task: a spec name, a spec file's path or a gymnasium id."""

    def __post_init__(self) -> None:
        if not self.ref:
            object.__setattr__(self, "ref", self.task)

    def make_env(self, render_mode: str | None = None, protocol: str = "native", **overrides: Any):
        """A gymnasium env for this task, with the spec's horizon. ``protocol`` (``irl_gan.protocols``):
        ``native``, the standard task; ``fixed``, every episode lasting the horizon (training envs
        only: evaluation is on the standard task)."""
        import gymnasium as gym

        import irl_gan.envs  # noqa: F401 - registers irl_gan's own tasks (irl_gan/...)
        from irl_gan.protocols import check_protocol, fixed_horizon, fixed_horizon_kwargs

        fixed = check_protocol(protocol) == "fixed"
        kwargs = {**self.env_kwargs, **(fixed_horizon_kwargs(self.env_id) if fixed else {}), **overrides}
        if "xml_file" in kwargs and not Path(kwargs["xml_file"]).is_absolute():
            # A task's own MJCF file (a transfer task's changed body) lives beside its spec.
            kwargs["xml_file"] = str((self.path.parent if self.path else SHIPPED_SPECS) / kwargs["xml_file"])
        with _upstream_model_warnings_dropped():
            env = gym.make(self.env_id, max_episode_steps=self.horizon, render_mode=render_mode, **kwargs)
        return fixed_horizon(env, self.horizon) if fixed else env


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


def _parse_scores(scores: Any, path: Path) -> Scores | None:
    if scores is None:
        return None
    _require(isinstance(scores, dict) and {"random", "expert", "episodes"} <= set(scores), path, "'scores' must have keys random, expert, episodes")
    _require(scores["expert"] != scores["random"], path, "scores.expert must differ from scores.random")
    zero = scores.get("zero")
    return Scores(float(scores["random"]), float(scores["expert"]), int(scores["episodes"]), None if zero is None else float(zero))


def parse_spec(raw: Any, path: Path) -> TaskSpec:
    """Validate a spec read from YAML; every problem is a one-line UserError naming the file."""
    _require(isinstance(raw, dict), path, "a task spec must be a YAML mapping")
    unknown = set(raw) - SPEC_KEYS
    _require(not unknown, path, f"unknown keys {sorted(unknown)}; allowed: {sorted(SPEC_KEYS)}")
    for key in ("task", "env_id"):
        _require(key in raw, path, f"missing required key '{key}'")
    _require(isinstance(raw["env_id"], str), path, "'env_id' must be a string")
    _require(isinstance(raw.get("train") or {}, dict), path, "'train' must be a mapping of irl-gan train settings")
    if raw.get("horizon") is None:
        raw = {**raw, "horizon": _time_limit(raw["env_id"], f"{path}: give 'horizon'")}
    _require(isinstance(raw["horizon"], int) and raw["horizon"] > 0, path, "'horizon' must be a positive integer")
    rec = raw.get("expert")
    if rec is not None:
        _require(isinstance(rec, dict), path, "'expert' must be a mapping (the expert recipe)")
        unknown = set(rec) - RECIPE_KEYS
        _require(not unknown, path, f"unknown expert recipe keys {sorted(unknown)}; allowed: {sorted(RECIPE_KEYS)}")
        _require(rec.get("algo") in ALGOS, path, f"expert.algo must be one of {list(ALGOS)}, got {rec.get('algo')!r}")
        for key in ("timesteps", "seed"):
            _require(isinstance(rec.get(key), int) and rec[key] >= 0, path, f"expert.{key} must be a non-negative integer")
        _require(isinstance(rec.get("n_envs", 1), int) and rec.get("n_envs", 1) > 0, path, "expert.n_envs must be >= 1")
    scores = _parse_scores(raw.get("scores"), path)
    return TaskSpec(
        task=str(raw["task"]),
        env_id=raw["env_id"],
        horizon=raw["horizon"],
        expert=Recipe(**rec) if rec is not None else None,
        env_kwargs=dict(raw.get("env_kwargs") or {}),
        reference=dict(raw.get("reference") or {}),
        scores=scores,
        train=dict(raw.get("train") or {}),
        path=path,
    )


def load_spec(task: str) -> TaskSpec:
    """The spec of a task: a spec name (``halfcheetah``), a spec file's path, a registered gymnasium
    id (``Humanoid-v5``) or ``module:EnvId`` (importing the module registers the id).

    Scores measured with ``irl-gan scores`` (kept in :func:`home_dir`) take precedence over a spec's own.
    """
    if not isinstance(task, str) or not task:
        raise UserError("no task given; pass --task with a task name, a spec file or a gymnasium id such as Hopper-v5")
    path = Path(task)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise UserError(f"task spec {path} does not exist")
        spec = _read_spec(path, ref=str(path.resolve()))
    else:
        found = next((d / f"{task.lower()}.yaml" for d in spec_dirs() if (d / f"{task.lower()}.yaml").exists()), None)
        spec = _read_spec(found, ref=found.stem) if found is not None else _gymnasium_spec(task)
    stored = _stored_scores().get(spec.ref)
    return dataclasses.replace(spec, scores=_parse_scores(stored, home_dir() / SCORES_FILE)) if stored else spec


def _read_spec(path: Path, ref: str) -> TaskSpec:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}: not valid YAML{where}; fix the syntax") from None
    return dataclasses.replace(parse_spec(raw, path), ref=ref)


def _gymnasium_spec(task: str) -> TaskSpec:
    """A spec with no file for a gymnasium id: the env's own time limit, no recipe, no scores."""
    import gymnasium as gym

    import irl_gan.envs  # noqa: F401 - irl_gan's own ids count as gymnasium ids too

    module, _, env_id = task.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UserError(f"task '{task}': cannot import module '{module}' ({exc}); check the name before the colon") from None
    if env_id not in gym.registry:
        hint = f"module '{module}' did not register it" if module else "for your own env use module:EnvId, where importing module registers EnvId"
        raise UserError(
            f"unknown task '{task}': not a task spec, a .yaml file or a registered gymnasium id ({hint}); known tasks: {', '.join(available_tasks())}"
        )
    return TaskSpec(task=task, env_id=env_id, horizon=_time_limit(env_id, f"write a task spec with 'horizon' for {task}"), ref=task)


def _time_limit(env_id: str, fix: str) -> int:
    import gymnasium as gym

    import irl_gan.envs  # noqa: F401

    try:
        steps = gym.spec(env_id).max_episode_steps
    except gym.error.Error:
        raise UserError(f"'{env_id}' is not a registered gymnasium id; {fix}") from None
    if not steps:
        raise UserError(f"{env_id} has no time limit to take the horizon from; {fix}")
    return int(steps)


SCORES_FILE = "scores.yaml"


def home_dir() -> Path:
    """Where irl_gan keeps what it measures for you (``irl-gan scores``): ``$IRL_GAN_HOME`` or ``~/.irl_gan``."""
    return Path(os.environ.get("IRL_GAN_HOME") or Path.home() / ".irl_gan")


def _stored_scores() -> dict:
    path = home_dir() / SCORES_FILE
    if not path.exists():
        return {}
    try:
        stored = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        raise UserError(f"{path}: not valid YAML; delete it and measure again with irl-gan scores") from None
    if not isinstance(stored, dict):
        raise UserError(f"{path}: must map tasks to scores; delete it and measure again with irl-gan scores")
    return stored


def store_scores(spec: TaskSpec, scores: Scores) -> Path:
    """Keep ``scores`` for ``spec``'s task in the user's store; they apply from the next ``load_spec`` on."""
    from irl_gan.io import atomic_write_text

    path = home_dir() / SCORES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = {**_stored_scores(), spec.ref: scores.as_dict()}
    atomic_write_text(path, yaml.safe_dump(stored, sort_keys=True))
    return path


def write_scores(spec: TaskSpec, scores: Scores) -> None:
    """Store measured normalisation scores in the task's YAML file."""
    assert spec.path is not None
    raw = yaml.safe_load(spec.path.read_text())
    raw["scores"] = scores.as_dict()
    from irl_gan.io import atomic_write_text

    atomic_write_text(spec.path, yaml.safe_dump(raw, sort_keys=False))
