"""Demonstrations: immutable episodes, one file format, validated once at the boundary.

Format (``irl_gan-demos`` version 1): one HDF5 file holding every episode concatenated.

=======================  =====================  =============================================
dataset                  shape                  meaning
=======================  =====================  =============================================
``observations``         (sum(T_i + 1), *obs)   each episode's T_i + 1 observations, final one
                                                included
``actions``              (sum(T_i), *act)       actions taken, inside the action space
``rewards``              (sum(T_i),)            true env rewards
``episode_lengths``      (E,)                   T_i >= 1
``episode_terminated``   (E,)                   the episode ended by termination (a failure or
                                                goal state: no future reward)
``episode_truncated``    (E,)                   the episode ended by the time limit
``episode_seeds``        (E,)                   the reset seed, -1 where unknown
``episode_returns``      (E,)                   sum of rewards, stored to catch corruption
=======================  =====================  =============================================

Root attributes: ``format``, ``format_version``, and ``meta`` (JSON): ``task``, ``env_id``,
``observation_space``, ``action_space``, ``agent`` (the expert's card), ``scores``
(normalisation returns), ``deterministic``, ``source``, ``created``, ``irl_gan_version``.
The file is written atomically, so a file that exists is complete unless damaged later;
damage is what ``load_demos`` looks for.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from irl_gan.version import __version__
from irl_gan.errors import UserError

FORMAT = "irl_gan-demos"
FORMAT_VERSION = 1
SUFFIXES = (".h5", ".hdf5")
ARRAYS = (
    "observations",
    "actions",
    "rewards",
    "episode_lengths",
    "episode_terminated",
    "episode_truncated",
    "episode_seeds",
    "episode_returns",
)
# Actions are float32 in MuJoCo spaces; allow rounding at the bounds.
BOUND_TOLERANCE = 1e-5


@dataclasses.dataclass(frozen=True)
class Episode:
    """One episode: ``T + 1`` observations, ``T`` actions and rewards, and how it ended."""

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool
    truncated: bool
    seed: int = -1

    @property
    def length(self) -> int:
        return len(self.actions)

    @property
    def ret(self) -> float:
        return float(np.sum(self.rewards))


@dataclasses.dataclass(frozen=True)
class Demonstrations:
    """A validated dataset: its episodes and the metadata recorded with them."""

    episodes: tuple[Episode, ...]
    meta: dict
    path: Path | None = None

    @property
    def returns(self) -> np.ndarray:
        return np.array([e.ret for e in self.episodes])

    @property
    def lengths(self) -> np.ndarray:
        return np.array([e.length for e in self.episodes])

    @property
    def n_steps(self) -> int:
        return int(self.lengths.sum())

    def select(self, n: int, drop_terminated: bool = False) -> list[Episode]:
        """The first ``n`` episodes, or with ``drop_terminated`` the first ``n`` that ran to the time
        limit; too few is a one-line UserError naming the fix."""
        pool = [e for e in self.episodes if not (drop_terminated and e.terminated)]
        if n > len(pool):
            where = self.path or "the demonstrations"
            if drop_terminated:
                raise UserError(f"--demo-episodes {n}: only {len(pool)} of the {len(self.episodes)} episodes in {where} ran to the time limit; "
                                "lower --demo-episodes, record more, or set drop_terminated_demos: false")
            raise UserError(f"--demo-episodes {n}: {where} holds only {len(self.episodes)} episodes")
        return pool[:n]

    def normalised_returns(self) -> np.ndarray | None:
        scores = self.meta.get("scores")
        if not scores:
            return None
        return (self.returns - scores["random"]) / (scores["expert"] - scores["random"])

    def summary(self) -> dict:
        """The numbers ``irl-gan demos info`` prints."""
        rets = self.returns
        out = {
            "path": str(self.path) if self.path else None,
            "task": self.meta.get("task"),
            "env_id": self.meta.get("env_id"),
            "episodes": len(self.episodes),
            "steps": self.n_steps,
            "length_mean": float(self.lengths.mean()),
            "terminated": int(sum(e.terminated for e in self.episodes)),
            "truncated": int(sum(e.truncated for e in self.episodes)),
            "return_mean": float(rets.mean()),
            "return_std": float(rets.std()),
            "deterministic": self.meta.get("deterministic"),
            "source": self.meta.get("source"),
        }
        norm = self.normalised_returns()
        if norm is not None:
            out["normalised_mean"] = float(norm.mean())
            out["normalised_std"] = float(norm.std())
        return out


def state_action_pairs(episodes: Sequence[Episode]) -> tuple[np.ndarray, np.ndarray]:
    """Every step's observation and action, the episodes' steps end to end (behavioural cloning's data)."""
    return np.concatenate([e.observations[:-1] for e in episodes]), np.concatenate([e.actions for e in episodes])


# ---------------------------------------------------------------------------- spaces


def space_to_dict(space) -> dict:
    """A JSON-able description of a gymnasium Box space."""
    import gymnasium as gym

    if not isinstance(space, gym.spaces.Box):
        raise UserError(f"only Box observation and action spaces are supported, got {type(space).__name__}")
    return {
        "type": "Box",
        "shape": list(space.shape),
        "dtype": str(space.dtype),
        "low": space.low.tolist(),
        "high": space.high.tolist(),
    }


def space_from_dict(d: dict):
    import gymnasium as gym

    return gym.spaces.Box(
        low=np.asarray(d["low"], dtype=d["dtype"]), high=np.asarray(d["high"], dtype=d["dtype"]), dtype=d["dtype"]
    )


def make_meta(spec, env, agent: dict | None, deterministic: bool | None, source: str) -> dict:
    """Metadata recorded with a dataset of ``spec``'s task."""
    return {
        "task": spec.ref,
        "env_id": spec.env_id,
        "horizon": spec.horizon,
        "observation_space": space_to_dict(env.observation_space),
        "action_space": space_to_dict(env.action_space),
        "agent": agent,
        "scores": dataclasses.asdict(spec.scores) if spec.scores else None,
        "deterministic": deterministic,
        "source": source,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "irl_gan_version": __version__,
    }


# ---------------------------------------------------------------------------- writing


def save_demos(path: str | Path, episodes: Sequence[Episode], meta: dict) -> Path:
    """Write ``episodes`` to ``path`` atomically (a reader never sees a partial file)."""
    import h5py

    from irl_gan.io import atomic_path

    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise UserError(f"output {path} must end in .h5 or .hdf5")
    if not episodes:
        raise UserError(f"refusing to write {path}: no episodes")
    arrays = {
        "observations": np.concatenate([e.observations for e in episodes]),
        "actions": np.concatenate([e.actions for e in episodes]),
        "rewards": np.concatenate([e.rewards for e in episodes]).astype(np.float64),
        "episode_lengths": np.array([e.length for e in episodes], dtype=np.int64),
        "episode_terminated": np.array([e.terminated for e in episodes], dtype=bool),
        "episode_truncated": np.array([e.truncated for e in episodes], dtype=bool),
        "episode_seeds": np.array([e.seed for e in episodes], dtype=np.int64),
        "episode_returns": np.array([e.ret for e in episodes], dtype=np.float64),
    }
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["meta"] = json.dumps(meta)
            for name, arr in arrays.items():
                f.create_dataset(name, data=arr, compression="gzip" if arr.size > 1024 else None)
    return path


# ---------------------------------------------------------------------------- reading


class _Check:
    """Raises a one-line UserError naming the file when a condition fails."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, cond, message: str) -> None:
        if not cond:
            raise UserError(f"{self.path}: {message}")


def _read_arrays(path: Path, check: _Check) -> tuple[dict, dict]:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError:
        raise UserError(f"{path}: not a readable HDF5 file (truncated or corrupt); record or import it again") from None
    with f:
        check(_is_format_tag(f.attrs.get("format")), f"not an {FORMAT} dataset (no '{FORMAT}' format tag)")
        try:
            version = int(f.attrs.get("format_version", -1))
        except (TypeError, ValueError, OverflowError):
            version = -1
        check(version == FORMAT_VERSION, f"format version {f.attrs.get('format_version')} is not supported (expected {FORMAT_VERSION})")
        try:
            meta = json.loads(f.attrs["meta"])
        except (KeyError, ValueError, TypeError):
            raise UserError(f"{path}: metadata is missing or not valid JSON") from None
        missing = [k for k in ARRAYS if k not in f]
        check(not missing, f"incomplete dataset: missing {', '.join(missing)}")
        try:
            arrays = {k: np.asarray(f[k][()]) for k in ARRAYS}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise UserError(f"{path}: data is truncated or corrupt; record or import it again") from None
    return meta, arrays


def _is_format_tag(value) -> bool:
    return isinstance(value, str) and value == FORMAT


_PER_EPISODE = {
    "episode_lengths": "integer",
    "episode_terminated": "bool",
    "episode_seeds": "integer",
    "episode_returns": "floating",
    "episode_truncated": "bool",
}


def _check_meta(meta, check: _Check) -> None:
    """The metadata's structure, before anything reads from it."""
    check(isinstance(meta, dict), "metadata must be a JSON object")
    for key in ("task", "env_id", "observation_space", "action_space"):
        check(key in meta, f"metadata lacks '{key}'")
    check(isinstance(meta["env_id"], str), "metadata 'env_id' must be a string")
    for name in ("observation_space", "action_space"):
        space = meta[name]
        check(isinstance(space, dict) and isinstance(space.get("shape"), list), f"metadata '{name}' must have a 'shape' list")
        check(
            len(space["shape"]) == 1 and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in space["shape"]),
            f"metadata '{name}' must be a flat Box (shape [n], n >= 1), found shape {space['shape']}",
        )
    act = meta["action_space"]
    for bound in ("low", "high"):
        try:
            arr = np.asarray(act.get(bound), dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        check(arr is not None and arr.shape == tuple(act["shape"]), f"metadata action_space '{bound}' must be numbers of shape {tuple(act['shape'])}")
    scores = meta.get("scores")
    check(
        scores is None or (isinstance(scores, dict) and all(isinstance(scores.get(k), (int, float)) for k in ("random", "expert"))),
        "metadata 'scores' must be null or hold numbers 'random' and 'expert'",
    )


def _check_kinds(a: dict, check: _Check) -> None:
    """Dimensions and dtypes of the arrays, before any arithmetic on them."""
    for k, kind in _PER_EPISODE.items():
        check(a[k].ndim == 1, f"{k} must be a 1-D array, found shape {a[k].shape}")
        ok = a[k].dtype == bool if kind == "bool" else np.issubdtype(a[k].dtype, getattr(np, kind))
        if kind == "bool":
            ok = ok or np.issubdtype(a[k].dtype, np.integer)
        check(ok, f"{k} must be {kind}, found {a[k].dtype}")
    for k, ndim in (("observations", 2), ("actions", 2), ("rewards", 1)):
        check(a[k].ndim == ndim, f"{k} must be a {ndim}-D array, found shape {a[k].shape}")
        check(np.issubdtype(a[k].dtype, np.floating), f"{k} must be floating point, found {a[k].dtype}")


def _validate(meta: dict, a: dict, check: _Check) -> None:
    _check_meta(meta, check)
    _check_kinds(a, check)
    lengths = a["episode_lengths"]
    n_ep = len(lengths)
    check(n_ep > 0, "empty dataset: it holds no episodes")
    for k in ("episode_terminated", "episode_truncated", "episode_seeds", "episode_returns"):
        check(len(a[k]) == n_ep, f"{k} has {len(a[k])} entries for {n_ep} episodes")
    check(bool((lengths > 0).all()), f"episode {int(np.argmin(lengths > 0))} has length {int(lengths.min())}; every episode needs >= 1 step")
    # Lengths are checked against the data they claim before anything is sized by them, so a
    # gigantic claim costs nothing (and Python integers cannot overflow).
    total = sum(int(n) for n in lengths)
    check(len(a["actions"]) == total, f"lengths sum to {total} steps but there are {len(a['actions'])} actions")
    check(len(a["rewards"]) == total, f"lengths sum to {total} steps but there are {len(a['rewards'])} rewards")
    check(
        len(a["observations"]) == total + n_ep,
        f"{n_ep} episodes of {total} steps need {total + n_ep} observations, found {len(a['observations'])}",
    )
    a["episode_lengths"] = lengths = lengths.astype(np.int64)  # any integer dtype; now known to fit
    obs_space, act_space = meta["observation_space"], meta["action_space"]
    check(
        tuple(a["observations"].shape[1:]) == tuple(obs_space["shape"]),
        f"observations have shape {tuple(a['observations'].shape[1:])}, the observation space {tuple(obs_space['shape'])}",
    )
    check(
        tuple(a["actions"].shape[1:]) == tuple(act_space["shape"]),
        f"actions have dimension {tuple(a['actions'].shape[1:])}, the action space {tuple(act_space['shape'])}",
    )
    for k in ("observations", "actions", "rewards", "episode_returns"):
        bad = ~np.isfinite(a[k])
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            ends = np.cumsum(lengths + 1 if k == "observations" else lengths)
            ep = row if k == "episode_returns" else int(np.searchsorted(ends, row, side="right"))
            raise UserError(f"{check.path}: non-finite value (NaN or Inf) in {k} of episode {ep}")
    low = np.asarray(act_space["low"], dtype=np.float64)
    high = np.asarray(act_space["high"], dtype=np.float64)
    out = (a["actions"] < low - BOUND_TOLERANCE) | (a["actions"] > high + BOUND_TOLERANCE)
    if out.any():
        row, col = (int(x) for x in np.argwhere(out)[0])
        ep = int(np.searchsorted(np.cumsum(lengths), row, side="right"))
        raise UserError(
            f"{check.path}: action {a['actions'][row, col]:.4g} in episode {ep} (dimension {col}) lies outside "
            f"the action space [{low[col]:.4g}, {high[col]:.4g}]"
        )
    sums = np.add.reduceat(a["rewards"], np.concatenate([[0], np.cumsum(lengths)[:-1]]))
    check(np.allclose(sums, a["episode_returns"], rtol=1e-6, atol=1e-6), "stored episode returns do not match the rewards; the file is corrupt")


def _check_task(meta: dict, spec, check: _Check) -> None:
    check(
        meta["env_id"] == spec.env_id,
        f"dataset was recorded on {meta['env_id']} but task '{spec.task}' is {spec.env_id}; pass --task {meta.get('task')}",
    )
    env = spec.make_env()
    try:
        for name, space in (("observation", env.observation_space), ("action", env.action_space)):
            stored = tuple(meta[f"{name}_space"]["shape"])
            check(stored == space.shape, f"{name} space {stored} does not match task '{spec.task}' ({space.shape})")
    finally:
        env.close()


def read_meta(path: str | Path) -> dict:
    """A dataset's metadata, after the same file checks as ``load_demos`` (data not read)."""
    import h5py

    path = Path(path)
    check = _Check(path)
    _check_file(path, check)
    try:
        with h5py.File(path, "r") as f:
            check(_is_format_tag(f.attrs.get("format")), f"not an {FORMAT} dataset (no '{FORMAT}' format tag)")
            meta = json.loads(f.attrs["meta"])
    except OSError:
        raise UserError(f"{path}: not a readable HDF5 file (truncated or corrupt); record or import it again") from None
    except (KeyError, ValueError, TypeError):
        raise UserError(f"{path}: metadata is missing or not valid JSON") from None
    _check_meta(meta, check)
    return meta


def _check_file(path: Path, check: _Check) -> None:
    check(path.exists(), "no such file")
    check(path.is_file(), "is a directory, not a dataset file")
    check(
        path.suffix in SUFFIXES,
        f"wrong file type '{path.suffix or '(none)'}': expected an irl_gan .h5 dataset "
        "(convert other formats with `irl-gan demos import`)",
    )


def load_demos(path: str | Path, task=None) -> Demonstrations:
    """Read and validate a dataset; with ``task`` (a TaskSpec) also check it belongs to that task.

    The dataset's own normalisation scores are kept; without any, ``task``'s are used.

    Every problem is a one-line ``UserError`` naming the file: missing, wrong type, truncated,
    empty, inconsistent lengths, wrong shapes, non-finite values, actions out of bounds.
    """
    path = Path(path)
    check = _Check(path)
    _check_file(path, check)
    meta, a = _read_arrays(path, check)
    _validate(meta, a, check)
    if task is not None:
        _check_task(meta, task, check)
        if not meta.get("scores") and task.scores is not None:
            # Recorded before the task's scores were measured: normalise with today's.
            meta = {**meta, "scores": dataclasses.asdict(task.scores)}
        elif meta.get("scores") and meta["scores"].get("zero") is None and task.scores is not None and task.scores.zero is not None:
            meta = {**meta, "scores": {**meta["scores"], "zero": task.scores.zero}}
    lengths = a["episode_lengths"]
    act_ends = np.cumsum(lengths)
    obs_ends = np.cumsum(lengths + 1)
    episodes = tuple(
        Episode(
            observations=a["observations"][obs_ends[i] - lengths[i] - 1 : obs_ends[i]],
            actions=a["actions"][act_ends[i] - lengths[i] : act_ends[i]],
            rewards=a["rewards"][act_ends[i] - lengths[i] : act_ends[i]],
            terminated=bool(a["episode_terminated"][i]),
            truncated=bool(a["episode_truncated"][i]),
            seed=int(a["episode_seeds"][i]),
        )
        for i in range(len(lengths))
    )
    return Demonstrations(episodes=episodes, meta=meta, path=path)
