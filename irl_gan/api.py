"""The Python API, in Stable-Baselines3's idiom: an estimator built from an env, demonstrations and a
generator, then ``learn(total_timesteps)``, ``save``/``load``, ``.policy`` and ``.reward``.

    from irl_gan import GANGCL

    algo = GANGCL("hopper", "demos/hopper.h5", "ppo")
    algo.learn(200_000)
    algo.save("runs/hopper")

Each estimator class trains with the same loop as ``irl-gan train --algo NAME``, and its run
directory is the CLI's: ``irl-gan eval-reward``, ``report`` and ``retrain`` read it.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Sequence

from irl_gan.data import Demonstrations, Episode
from irl_gan.errors import UserError
from irl_gan.tasks import TaskSpec, load_spec

DEMOS_FILE = "demos.h5"


class Imitation:
    """Learn a policy and a cost from demonstrations with the estimator ``algo``.

    ``env``: a task (a shipped name, a spec file or a gymnasium id), or a gymnasium ``VecEnv`` or
    ``Env`` made from a registered id, which the generator then trains on. ``demonstrations``: a
    dataset path, a ``Demonstrations`` or a sequence of ``Episode``. ``generator``: ``"ppo"``,
    ``"sac"``, or an SB3 PPO or SAC of yours (it then sees observations normalised by the run).
    ``settings``: any ``TrainConfig`` field (``irl-gan train``'s settings). ``out``: the run
    directory; without one the run lives in a temporary folder, removed with this object.
    """

    algo: str = ""

    def __init__(self, env: Any, demonstrations: str | Path | Demonstrations | Sequence[Episode], generator: Any = "ppo", *,
                 seed: int = 0, out: str | Path | None = None, **settings):
        from irl_gan.config import resolve_config
        from irl_gan.data import load_demos
        from irl_gan.trainer import Trainer

        spec, venv = _task_and_env(env)
        name, model = _generator(generator)
        if venv is not None:
            settings["n_envs"] = venv.num_envs
        if model is not None:
            settings["n_envs"] = model.n_envs
            settings[name] = {**settings.get(name, {}), "gamma": model.gamma}
        self._out = _run_dir(self, out)
        path = _demos_file(demonstrations, spec, self._out)
        config = resolve_config(spec, [("the Python API", {**settings, "algo": self.algo, "generator": name, "seed": seed, "demos": str(path)})])
        self.trainer = Trainer(spec, config.select_demos(load_demos(path, spec)), config, self._out, venv=venv, model=model)

    def learn(self, total_timesteps: int, callback=None, progress_bar: bool = False) -> "Imitation":
        """``total_timesteps`` more env steps of the game; called again, it goes on where it stopped.
        ``callback``: an SB3 callback (or a list of them), called at each generator step."""
        if total_timesteps < 1:
            raise UserError(f"total_timesteps must be at least 1, got {total_timesteps}")
        self.trainer.learn(int(total_timesteps), progress=progress_bar, callback=callback)
        return self

    @property
    def generator(self):
        """The SB3 model (PPO or SAC) that is the policy optimiser."""
        return self.trainer.model

    @property
    def policy(self):
        """The generator's SB3 policy; it acts on observations normalised as in ``obs_norm``."""
        return self.trainer.model.policy

    @property
    def reward(self):
        """The learned reward as it is now (a ``LearnedReward``: ``r(obs, acts, next_obs, terminated)``)."""
        from irl_gan.reward import LearnedReward

        return LearnedReward(copy.deepcopy(self.trainer.estimator.cost))

    @property
    def metrics(self) -> list[dict]:
        """One row per round: returns, normalised scores and the game's diagnostics (``metrics.csv``)."""
        return list(self.trainer.run.rows)

    @property
    def run_dir(self) -> Path:
        return self._out

    def save(self, path: str | Path) -> Path:
        """Copy the run directory (policy.zip, cost.pt, config.yaml, metrics.csv, the checkpoint) to ``path``."""
        import yaml

        from irl_gan.io import atomic_write_text

        path = Path(path)
        if path.resolve() != self._out.resolve():
            shutil.copytree(self._out, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".lock"))
            saved = yaml.safe_load((path / "config.yaml").read_text())
            if Path(saved["demos"]) == self._out / DEMOS_FILE:  # demos given in memory travel with the run
                atomic_write_text(path / "config.yaml", yaml.safe_dump({**saved, "demos": str(path / DEMOS_FILE)}, sort_keys=False))
        return path

    @classmethod
    def load(cls, path: str | Path, env: Any = None) -> "Imitation":
        """The run saved at ``path``, ready to ``learn`` on from its checkpoint (in that folder)."""
        import yaml

        from irl_gan.config import resolve_config
        from irl_gan.data import load_demos
        from irl_gan.trainer import Trainer

        path = Path(path)
        saved = path / "config.yaml"
        if not saved.is_file():
            raise UserError(f"{path}: not a saved run (no config.yaml)")
        settings = yaml.safe_load(saved.read_text()) or {}
        if cls.algo and settings.get("algo") != cls.algo:
            raise UserError(f"{path} is a {settings.get('algo')} run; load it with that estimator's class")
        spec, venv = _task_and_env(env if env is not None else settings["task"])
        self = cls.__new__(cls)
        self._out = path
        config = resolve_config(spec, [(str(saved), {k: v for k, v in settings.items() if k != "task"})])
        self.trainer = Trainer(spec, config.select_demos(load_demos(config.demos, spec)), config, path, venv=venv)
        if not self.trainer.load_checkpoint():
            raise UserError(f"{path} holds no checkpoint to go on from")
        return self


class GANGCL(Imitation):
    """The paper's GAN: a discriminator ``D = p / (p + q)`` with a learned ``log Z``."""

    algo = "gan-gcl"


class GCL(Imitation):
    """Guided cost learning: MaxEnt IRL with an importance-sampled partition function."""

    algo = "gcl"


class AIRL(Imitation):
    """Adversarial IRL: a shaped discriminator ``f = g + γ h(s') - h(s)``."""

    algo = "airl"


class GAIL(Imitation):
    """Generative adversarial imitation: a free-form discriminator, no cost."""

    algo = "gail"


def _task_and_env(env: Any) -> tuple[TaskSpec, Any]:
    """The task ``env`` names or was made from, and the VecEnv to train on (None: the run builds it)."""
    if isinstance(env, (str, Path)):
        return load_spec(str(env)), None
    from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

    if not isinstance(env, VecEnv):
        import gymnasium as gym

        if not isinstance(env, gym.Env):
            raise UserError(f"env must be a task name, a gymnasium id, a gymnasium Env or an SB3 VecEnv, not {type(env).__name__}")
        env = DummyVecEnv([lambda: env])
    ids = {s.id if s is not None else None for s in env.get_attr("spec")}
    if len(ids) != 1 or None in ids:
        raise UserError("the env was not made from a registered gymnasium id (its spec is None), so its task is unknown: pass the task's name")
    return load_spec(ids.pop()), env


def _generator(generator: Any) -> tuple[str, Any]:
    if isinstance(generator, str):
        if generator not in ("ppo", "sac"):
            raise UserError(f"generator {generator!r}: choose 'ppo', 'sac' or an SB3 PPO or SAC model")
        return generator, None
    from stable_baselines3 import PPO, SAC

    if isinstance(generator, PPO):
        return "ppo", generator
    if isinstance(generator, SAC):
        return "sac", generator
    raise UserError(f"generator must be 'ppo', 'sac' or an SB3 PPO or SAC model, not {type(generator).__name__}")


def _run_dir(owner: Imitation, out: str | Path | None) -> Path:
    if out is not None:
        out = Path(out)
        if out.exists() and any(out.iterdir()):
            raise UserError(f"run directory {out} is not empty; load a saved run with {type(owner).__name__}.load({str(out)!r})")
        return out
    tmp = Path(tempfile.mkdtemp(prefix="irl_gan-run-"))
    weakref.finalize(owner, shutil.rmtree, tmp, ignore_errors=True)
    return tmp


def _demos_file(demonstrations: Any, spec: TaskSpec, out: Path) -> Path:
    """A dataset path for the run's config: the given file, or the episodes in memory written into the run."""
    from irl_gan.data import make_meta, save_demos

    if isinstance(demonstrations, (str, Path)):
        return Path(demonstrations)
    if isinstance(demonstrations, Demonstrations) and demonstrations.path is not None and Path(demonstrations.path).is_file():
        return Path(demonstrations.path)
    if isinstance(demonstrations, Demonstrations):
        episodes, meta = demonstrations.episodes, dict(demonstrations.meta)
    elif isinstance(demonstrations, Sequence) and demonstrations and all(isinstance(e, Episode) for e in demonstrations):
        env = spec.make_env()
        try:
            episodes, meta = tuple(demonstrations), make_meta(spec, env, agent=None, deterministic=None, source="the Python API")
        finally:
            env.close()
    else:
        raise UserError("demonstrations must be a dataset path, a Demonstrations or a non-empty sequence of Episode")
    out.mkdir(parents=True, exist_ok=True)
    return save_demos(out / DEMOS_FILE, episodes, meta)
