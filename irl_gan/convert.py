"""Other demonstration formats in and out: SB3-style ``.npz``, ``imitation`` trajectories, Minari.

Imports produce ordinary episodes, then go through the same validation as any dataset
(``save_demos`` then ``load_demos``), so an imported file is trusted like a recorded one.

* SB3-style expert ``.npz`` (``obs``, ``actions``, ``rewards``, ``episode_starts``): it holds no
  final observation and no record of how an episode ended. The final observation is filled with
  the last one seen, and an episode is taken to be truncated when it ran to the task's horizon
  and terminated otherwise; ``meta['import_notes']`` says so.
* ``imitation``'s saved trajectories: a HuggingFace ``datasets`` directory (``save_to_disk``;
  read with pyarrow, no ``imitation`` or ``datasets`` needed) or the older ``.npz`` with
  ``indices``. Rewards are required (``TrajectoryWithRew``).
* Minari: ``from_minari`` reads a dataset by id (from Minari's local datasets folder) or by its
  folder, with Minari's own API; ``export_minari`` writes one, so ``minari.load_dataset`` reads it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

from irl_gan.data import Demonstrations, Episode
from irl_gan.errors import UserError

FORMATS = ("auto", "sb3-npz", "imitation", "minari")


def detect_format(path: Path) -> str:
    if path.is_dir():
        if (path / "state.json").exists() and (path / "dataset_info.json").exists():
            return "imitation"
        if (path / "data" / "metadata.json").is_file() or (path / "metadata.json").is_file():
            return "minari"
        raise UserError(f"{path}: a directory but not a HuggingFace datasets directory (no state.json)")
    if path.suffix != ".npz":
        raise UserError(f"{path}: cannot tell the format from '{path.suffix}'; pass --format sb3-npz or imitation")
    keys = _npz_keys(path)
    if "episode_starts" in keys:
        return "sb3-npz"
    if "indices" in keys:
        return "imitation"
    raise UserError(f"{path}: an .npz with neither 'episode_starts' (SB3) nor 'indices' (imitation); keys: {sorted(keys)}")


def _npz_keys(path: Path) -> set[str]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return set(z.files)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise UserError(f"{path}: not a readable .npz file (truncated or corrupt)") from None


def _load_npz(path: Path, keys: tuple[str, ...]) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise UserError(f"{path}: missing arrays {missing}")
            return {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, OSError, EOFError):
        raise UserError(f"{path}: not a readable .npz file (truncated or corrupt)") from None
    except ValueError as exc:
        raise UserError(f"{path}: cannot read arrays ({exc}); object arrays are not accepted") from None


def from_sb3_npz(path: Path, horizon: int) -> tuple[list[Episode], list[str]]:
    z = _load_npz(path, ("obs", "actions", "rewards", "episode_starts"))
    obs, actions, rewards = z["obs"], z["actions"], np.asarray(z["rewards"], dtype=np.float64).reshape(-1)
    starts = np.asarray(z["episode_starts"]).reshape(-1).astype(bool)
    n = len(obs)
    if not (len(actions) == len(rewards) == len(starts) == n):
        raise UserError(
            f"{path}: obs, actions, rewards and episode_starts must have one row per step, "
            f"found {n}, {len(actions)}, {len(rewards)}, {len(starts)}"
        )
    if n == 0:
        raise UserError(f"{path}: empty dataset: no steps")
    if actions.ndim == 1:
        actions = actions[:, None]
    starts[0] = True
    bounds = list(np.flatnonzero(starts)) + [n]
    episodes = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        ep_obs = np.concatenate([obs[lo:hi], obs[hi - 1 : hi]])
        ran_to_horizon = hi - lo >= horizon
        episodes.append(Episode(ep_obs, actions[lo:hi], rewards[lo:hi], not ran_to_horizon, ran_to_horizon))
    notes = [
        "final observation of each episode repeated from the last one (not stored in SB3 .npz)",
        f"episodes shorter than the horizon ({horizon}) taken as terminated, others as truncated",
    ]
    return episodes, notes


def _imitation_episode(obs, acts, rews, terminal: bool, where: str) -> Episode:
    obs, acts = np.asarray(obs, dtype=np.float64), np.asarray(acts, dtype=np.float64)
    if rews is None:
        raise UserError(f"{where}: trajectories have no rewards; save TrajectoryWithRew to import them")
    if acts.ndim == 1:
        acts = acts[:, None]
    if len(obs) != len(acts) + 1:
        raise UserError(f"{where}: a trajectory has {len(obs)} observations for {len(acts)} actions (expected one more)")
    return Episode(obs, acts, np.asarray(rews, dtype=np.float64), bool(terminal), not bool(terminal))


def from_imitation(path: Path) -> tuple[list[Episode], list[str]]:
    notes = ["imported from imitation trajectories; a non-terminal trajectory is taken as truncated"]
    if path.is_dir():
        return _from_hf_dir(path), notes
    z = _load_npz(path, ("obs", "acts", "indices", "terminal"))
    idx = z["indices"]
    n = len(idx) + 1
    obs = np.split(z["obs"], idx + np.arange(len(idx)) + 1)
    acts = np.split(z["acts"], idx)
    rews = np.split(z["rews"], idx) if "rews" in z else [None] * n
    term = z["terminal"]
    if len(term) != n:
        raise UserError(f"{path}: {len(term)} terminal flags for {n} trajectories")
    return [_imitation_episode(o, a, r, t, str(path)) for o, a, r, t in zip(obs, acts, rews, term)], notes


def _from_hf_dir(path: Path) -> list[Episode]:
    try:
        import pyarrow as pa
    except ImportError:
        raise UserError("reading imitation's HuggingFace datasets needs pyarrow: pip install 'irl_gan[imitation-import]'") from None
    try:
        state = json.loads((path / "state.json").read_text())
        files = [path / d["filename"] for d in state["_data_files"]]
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path}/state.json: not a HuggingFace datasets state file") from None
    tables = []
    for f in files:
        try:
            with pa.memory_map(str(f)) as source:
                tables.append(pa.ipc.open_stream(source).read_all())
        except (OSError, pa.ArrowInvalid):
            raise UserError(f"{f}: not a readable Arrow file (truncated or corrupt)") from None
    table = pa.concat_tables(tables)
    missing = {"obs", "acts", "terminal"} - set(table.column_names)
    if missing:
        raise UserError(f"{path}: not imitation trajectories (missing columns {sorted(missing)})")
    cols = table.to_pydict()
    rews = cols.get("rews", [None] * table.num_rows)
    return [
        _imitation_episode(o, a, r, t, str(path)) for o, a, r, t in zip(cols["obs"], cols["acts"], rews, cols["terminal"])
    ]


def _minari_dataset(source: str):
    """A Minari dataset from its folder (the one holding ``data/``, or ``data/`` itself) or its id."""
    try:
        import minari
    except ImportError:
        raise UserError("importing from Minari needs minari: pip install 'irl_gan[minari]'") from None
    path = Path(source)
    for data in (path / "data", path):
        if (data / "metadata.json").is_file():
            return minari.MinariDataset(data)
    if path.exists():
        raise UserError(f"{source}: not a Minari dataset folder (no data/metadata.json in it)")
    try:
        return minari.load_dataset(source)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(f"Minari dataset '{source}' not found locally ({str(exc).splitlines()[0]}); "
                        "give its folder, or set MINARI_DATASETS_PATH to the folder holding it") from None


def minari_env_id(source: str) -> str | None:
    """The gymnasium id a Minari dataset was recorded on, if it says."""
    spec = _minari_dataset(source).env_spec
    return spec.id if spec is not None else None


def from_minari(source: str) -> tuple[list[Episode], list[str]]:
    dataset = _minari_dataset(source)
    for name, space in (("observation", dataset.observation_space), ("action", dataset.action_space)):
        if not hasattr(space, "shape") or space.shape is None or type(space).__name__ != "Box":
            raise UserError(f"{source}: its {name} space is {type(space).__name__}; irl_gan reads flat Box spaces only")
    seeds = [m.get("seed") for m in dataset.storage.get_episode_metadata(dataset.episode_indices)]
    episodes = [
        Episode(
            observations=np.asarray(e.observations, np.float64),
            actions=np.asarray(e.actions, np.float32),
            rewards=np.asarray(e.rewards, np.float64),
            terminated=bool(np.asarray(e.terminations)[-1]),
            truncated=bool(np.asarray(e.truncations)[-1]),
            seed=-1 if seed is None else int(seed),
        )
        for e, seed in zip(dataset.iterate_episodes(), seeds)
    ]
    unseeded = sum(seed is None for seed in seeds)
    return episodes, [f"{unseeded} episodes have no reset seed in the dataset: recorded as unknown (-1)"] if unseeded else []


def import_episodes(path: Path, fmt: str, horizon: int) -> tuple[list[Episode], list[str], str]:
    """Read a foreign dataset; returns episodes, notes on what had to be assumed, and the format."""
    if fmt == "minari":
        episodes, notes = from_minari(str(path))
        if not episodes:
            raise UserError(f"{path}: empty dataset: no episodes")
        return episodes, notes, fmt
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "sb3-npz":
        episodes, notes = from_sb3_npz(path, horizon)
    elif fmt == "imitation":
        episodes, notes = from_imitation(path)
    else:
        raise UserError(f"unknown format {fmt!r}; use one of {list(FORMATS)}")
    if not episodes:
        raise UserError(f"{path}: empty dataset: no episodes")
    return episodes, notes, fmt


def to_imitation_dict(demos: Demonstrations) -> dict:
    """The columns ``imitation`` saves (``obs``, ``acts``, ``infos``, ``terminal``, ``rews``)."""
    return {
        "obs": [e.observations for e in demos.episodes],
        "acts": [e.actions for e in demos.episodes],
        "infos": [["{}"] * e.length for e in demos.episodes],
        "terminal": [e.terminated for e in demos.episodes],
        "rews": [e.rewards for e in demos.episodes],
    }


def export_minari(demos: Demonstrations, dataset_id: str, data_path: Path | None = None) -> Path:
    """Write ``demos`` as a Minari dataset; ``minari.load_dataset(dataset_id)`` then reads it."""
    import os

    try:
        import minari
        from minari.data_collector.episode_buffer import EpisodeBuffer
    except ImportError:
        raise UserError("exporting to Minari needs minari: pip install 'irl_gan[minari]'") from None
    from irl_gan.data import space_from_dict

    root = Path(data_path or os.environ.get("MINARI_DATASETS_PATH") or Path.home() / ".minari" / "datasets").resolve()
    dest = root / dataset_id
    if dest.exists():
        raise UserError(f"Minari dataset '{dataset_id}' already exists at {dest}; choose another --id or delete it")
    root.mkdir(parents=True, exist_ok=True)
    # Built in a staging root beside the real one, then renamed into place: an interrupted
    # export leaves no half-written dataset for minari.load_dataset to find.
    staging = Path(tempfile.mkdtemp(prefix=".irl_gan-export.", dir=root))
    previous = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(staging)

    buffers = [
        EpisodeBuffer(
            id=i,
            seed=e.seed if e.seed >= 0 else None,
            observations=e.observations,
            actions=e.actions,
            rewards=e.rewards,
            terminations=np.r_[np.zeros(e.length - 1, bool), e.terminated],
            truncations=np.r_[np.zeros(e.length - 1, bool), e.truncated],
            infos={},
        )
        for i, e in enumerate(demos.episodes)
    ]
    scores = demos.meta.get("scores") or {}
    agent = demos.meta.get("agent") or {}
    try:
        with warnings.catch_warnings():
            # Minari nags about author and code links; the description says where the data came from.
            warnings.simplefilter("ignore", UserWarning)
            minari.create_dataset_from_buffers(
                dataset_id=dataset_id,
                buffer=buffers,
                env=demos.meta["env_id"],
                algorithm_name=f"irl_gan expert ({(agent.get('recipe') or {}).get('algo', 'unknown')})",
                observation_space=space_from_dict(demos.meta["observation_space"]),
                action_space=space_from_dict(demos.meta["action_space"]),
                ref_min_score=scores.get("random"),
                ref_max_score=scores.get("expert"),
                description=f"Recorded with irl_gan from {demos.path}",
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / dataset_id, dest)
    except ValueError as exc:
        raise UserError(f"Minari refused dataset id '{dataset_id}': {str(exc).splitlines()[0]}") from None
    finally:
        if previous is None:
            os.environ.pop("MINARI_DATASETS_PATH")
        else:
            os.environ["MINARI_DATASETS_PATH"] = previous
        shutil.rmtree(staging, ignore_errors=True)
    return dest / "data"
