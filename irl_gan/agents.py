"""Policies that act in an env: shipped SB3 experts, checkpoints, and user callables.

An agent directory (``agents/TASK/``) holds ``model.zip`` (an SB3 checkpoint, loadable with
SB3 alone), ``obs_norm.npz`` when the expert was trained on normalised observations, and
``card.yaml`` (recipe, seed, returns); a training run's directory holds ``policy.zip`` with
the same companions. ``load_policy`` accepts either directory, a bare
``.zip`` checkpoint, or ``module:function`` naming a Python callable ``obs -> action``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import re
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

from irl_gan.errors import UserError

Policy = Callable[[np.ndarray], np.ndarray]

MODEL_FILE = "model.zip"
RUN_POLICY_FILE = "policy.zip"
OBS_NORM_FILE = "obs_norm.npz"
CARD_FILE = "card.yaml"
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclasses.dataclass(frozen=True)
class ObsNorm:
    """Running observation statistics an expert was trained with (SB3 ``VecNormalize``)."""

    mean: np.ndarray
    var: np.ndarray
    clip: float
    epsilon: float

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return np.clip((obs - self.mean) / np.sqrt(self.var + self.epsilon), -self.clip, self.clip)

    def save(self, path: Path) -> None:
        from irl_gan.io import atomic_path

        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, mean=self.mean, var=self.var, clip=self.clip, epsilon=self.epsilon)

    @classmethod
    def load(cls, path: Path) -> "ObsNorm":
        with np.load(path) as z:
            return cls(z["mean"], z["var"], float(z["clip"]), float(z["epsilon"]))


@dataclasses.dataclass
class SB3Policy:
    """An SB3 model as a policy ``obs -> action``, with the observation normalisation it expects."""

    model: object
    obs_norm: ObsNorm | None = None
    deterministic: bool = True
    card: dict | None = None

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if self.obs_norm is not None:
            obs = self.obs_norm(obs)
        action, _ = self.model.predict(obs, deterministic=self.deterministic)
        return action


def _load_sb3(zip_path: Path):
    from stable_baselines3 import PPO, SAC

    errors = []
    for cls in (PPO, SAC):
        try:
            return cls.load(zip_path, device="cpu")
        except Exception as exc:  # SB3 raises assorted types for a checkpoint of the other class
            errors.append(exc)
    raise UserError(f"{zip_path}: not a loadable SB3 PPO or SAC checkpoint ({type(errors[-1]).__name__})")


def load_card(agent_dir: Path) -> dict | None:
    card = agent_dir / CARD_FILE
    return yaml.safe_load(card.read_text()) if card.exists() else None


def load_policy(spec: str | Path, deterministic: bool = True) -> Policy:
    """Resolve ``--agent``: an agent directory, an SB3 ``.zip``, or ``module:function``."""
    text = str(spec)
    path = Path(text)
    if not path.exists() and _CALLABLE.match(text):
        module_name, func_name = text.split(":")
        # Like `python -m`, find the user's controller modules in the working directory.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise UserError(f"cannot import module '{module_name}' for agent {text}: {exc}") from None
        func = getattr(module, func_name, None)
        if not callable(func):
            raise UserError(f"agent {text}: module '{module_name}' has no callable '{func_name}'")
        return func
    if not path.exists():
        raise UserError(f"agent {text} does not exist; pass an agent directory, an SB3 .zip, or module:function")
    if path.is_dir():
        # An expert's directory holds model.zip; a training run's, policy.zip.
        zip_path = next((path / n for n in (MODEL_FILE, RUN_POLICY_FILE) if (path / n).exists()), None)
        if zip_path is None:
            raise UserError(f"{path} holds neither {MODEL_FILE} (an expert) nor {RUN_POLICY_FILE} (a training run)")
        norm_path = path / OBS_NORM_FILE
        obs_norm = ObsNorm.load(norm_path) if norm_path.exists() else None
        return SB3Policy(_load_sb3(zip_path), obs_norm, deterministic, load_card(path))
    if path.suffix != ".zip":
        raise UserError(f"agent {path}: expected an agent directory or an SB3 .zip checkpoint, got a {path.suffix or 'plain'} file")
    return SB3Policy(_load_sb3(path), None, deterministic, None)


def check_policy_space(policy: Policy, env, agent: str) -> None:
    """Fail early, in one line, when an SB3 agent was trained on another task."""
    card = getattr(policy, "card", None) or {}
    env_id = env.spec.id if env.spec is not None else None
    # An id given as module:EnvId (the module registers it) is EnvId to the env it makes.
    if card.get("env_id") and env_id and card["env_id"].rpartition(":")[2] != env_id:
        raise UserError(f"agent {agent} was trained on {card['env_id']}, not {env_id}; pass the agent trained for this task")
    model = getattr(policy, "model", None)
    if model is None:
        return
    if model.observation_space.shape != env.observation_space.shape or model.action_space.shape != env.action_space.shape:
        raise UserError(
            f"agent {agent} expects observations {model.observation_space.shape} and actions "
            f"{model.action_space.shape}, but the task has {env.observation_space.shape} and "
            f"{env.action_space.shape}; pass the agent trained for this task"
        )
