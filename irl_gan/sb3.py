"""Stable-Baselines3 glue: the generator (SB3's PPO or SAC) built, saved and loaded for a run, its
rewards replaced by the game's, and its training loop handing control to the game's rounds.

SB3 stores raw observations (before ``VecNormalize``) and actions scaled to [-1, 1] in SAC's
replay buffer; ``RelabelledReplayBuffer`` rewards them at sample time, so replayed rewards follow
the current cost. PPO's rollout buffer is relabelled once per rollout (``set_rollout_rewards``).
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from irl_gan.errors import UserError

# Set by make_generator itself; a config that names them is refused.
FIXED = {"ppo": {"policy", "env", "seed", "device", "verbose"}, "sac": {"policy", "env", "seed", "device", "verbose", "replay_buffer_class"}}


def sb3_arguments(generator: str) -> set[str]:
    """The settings a config may give SB3's PPO or SAC: its constructor's arguments, less ``FIXED``."""
    from stable_baselines3 import PPO, SAC

    cls = PPO if generator == "ppo" else SAC
    return set(inspect.signature(cls.__init__).parameters) - {"self"} - FIXED[generator]


@contextlib.contextmanager
def sb3_rejections(what: str):
    """SB3's objections to settings (TypeError, ValueError, AssertionError) as one-line UserErrors."""
    try:
        yield
    except (TypeError, ValueError, AssertionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"SB3 rejected the {what} settings: {first}") from None


def make_generator(config, venv, replay_reward: Callable | None):
    """The run's PPO or SAC on ``venv``. SAC's replay buffer rewards its samples with
    ``replay_reward`` where one is given; without one it keeps the env's rewards it stored."""
    from stable_baselines3 import PPO, SAC

    with sb3_rejections(config.generator):
        settings, kwargs = config.generator_arguments()
        common = dict(seed=config.seed, device="cpu", policy_kwargs=kwargs, verbose=0)
        if config.generator == "ppo":
            return PPO("MlpPolicy", venv, **common, **settings)
        model = SAC("MlpPolicy", venv, replay_buffer_class=RelabelledReplayBuffer if replay_reward else None, **common, **settings)
    if replay_reward:
        model.replay_buffer.reward_fn = replay_reward
    return model


def quiet(model) -> None:
    """Give ``model`` a logger that keeps its values in memory only, unless it has one of its own
    (SB3's default logger makes a folder in the system's temporary directory at every learn)."""
    from stable_baselines3.common.logger import Logger

    if not getattr(model, "_custom_logger", False):
        model.set_logger(Logger(folder=None, output_formats=[]))


def adopt_generator(model, venv, replay_reward: Callable | None):
    """A PPO or SAC of the caller's as the run's generator, moved onto ``venv``; an SAC's replay
    buffer becomes a relabelling one of the same size where ``replay_reward`` is given."""
    from stable_baselines3 import SAC

    model.set_env(venv)
    if isinstance(model, SAC) and replay_reward:
        old = model.replay_buffer
        model.replay_buffer = RelabelledReplayBuffer(old.buffer_size, model.observation_space, model.action_space, device=model.device,
                                                     n_envs=venv.num_envs, handle_timeout_termination=old.handle_timeout_termination)
        model.replay_buffer.reward_fn = replay_reward
    return model


def save_generator(model, where: Path) -> None:
    """The model, and SAC's replay buffer beside it, into the folder ``where``."""
    from stable_baselines3 import SAC

    model.save(where / "model.zip")
    if isinstance(model, SAC):
        model.save_replay_buffer(where / "replay.pkl")


def load_generator(generator: str, where: Path, venv, replay_reward: Callable):
    """The model ``save_generator`` wrote into ``where``, on ``venv``; a relabelling replay buffer
    gets ``replay_reward`` back (it is not saved with the buffer)."""
    from stable_baselines3 import PPO, SAC

    if generator == "ppo":
        return PPO.load(where / "model.zip", env=venv, device="cpu")
    model = SAC.load(where / "model.zip", env=venv, device="cpu")
    model.load_replay_buffer(where / "replay.pkl")
    if isinstance(model.replay_buffer, RelabelledReplayBuffer):
        model.replay_buffer.reward_fn = replay_reward
    return model


def stored_steps(buf, batch_inds, env_indices) -> tuple:
    """Raw steps of an SB3 replay buffer as stored: observations, actions scaled to [-1, 1], next
    observations, and terminations that are not time limits (as floats)."""
    terminated = buf.dones[batch_inds, env_indices] * (1 - buf.timeouts[batch_inds, env_indices])
    return buf.observations[batch_inds, env_indices], buf.actions[batch_inds, env_indices], buf.next_observations[batch_inds, env_indices], terminated


def replayed_steps(model, n: int, rng: np.random.Generator) -> dict | None:
    """``n`` steps drawn uniformly from SAC's replay buffer as the recorder keeps steps (raw
    observations, actions in the env's units, terminations that are not time limits); None
    while it is empty."""
    buf = model.replay_buffer
    size = buf.buffer_size if buf.full else buf.pos
    if size == 0 or n == 0:
        return None
    obs, scaled_acts, next_obs, terminated = stored_steps(buf, rng.integers(0, size, n), rng.integers(0, buf.n_envs, n))
    return {"obs": obs, "acts": model.policy.unscale_action(scaled_acts), "next_obs": next_obs, "terminated": terminated.astype(bool)}


class RelabelledReplayBuffer(ReplayBuffer):
    """A replay buffer whose rewards come from the current cost, computed at sample time:
    ``reward_fn(obs, scaled_actions, next_obs, terminated)`` gets the steps as stored."""

    reward_fn = None

    def _get_samples(self, batch_inds, env=None):
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        obs, acts, nxt, terminated = stored_steps(self, batch_inds, env_indices)
        reward = self.reward_fn(obs, acts, nxt, terminated)
        data = (
            self._normalize_obs(obs, env),
            acts,
            self._normalize_obs(nxt, env),
            terminated.reshape(-1, 1),
            np.asarray(reward, dtype=np.float32).reshape(-1, 1),
        )
        return ReplayBufferSamples(*tuple(map(self.to_torch, data)))

    def __getstate__(self):
        # The reward function belongs to the live trainer; it is re-attached on load.
        state = self.__dict__.copy()
        state.pop("reward_fn", None)
        return state


class RunningScale:
    """Running standard deviation of PPO's rewards, to keep its value targets near unit scale."""

    def __init__(self):
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def update(self, x: np.ndarray) -> None:
        n = len(x)
        mean, var = float(np.mean(x)), float(np.var(x))
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += var * n + delta**2 * self.count * n / total
        self.count = total

    @property
    def std(self) -> float:
        return max(float(np.sqrt(self.m2 / max(self.count, 1))), 1e-4)


@torch.no_grad()
def set_rollout_rewards(model, buffer, reward: np.ndarray, truncated: np.ndarray, final_obs: np.ndarray, last_values, dones) -> np.ndarray:
    """PPO: ``reward`` (one per step, the rollout's (steps, envs) flattened) into the rollout buffer,
    then its advantages again; returns the rewards written. The time limit is not an end: each step
    at the flat indices ``truncated`` also earns the discounted value of its true final observation
    (``final_obs``, normalised, one row each)."""
    reward = reward.copy()
    if len(truncated):
        reward[truncated] += model.gamma * model.policy.predict_values(torch.as_tensor(final_obs, dtype=torch.float32)).squeeze(-1).double().numpy()
    buffer.rewards[:] = reward.reshape(buffer.rewards.shape).astype(np.float32)
    buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
    return reward


# The generator's own update, as SB3 records it in its logger (train/...) -> our column name.
# PPO's come from the update before the round's rollout, SAC's from its latest gradient step.
POLICY_METRICS = {
    "train/policy_gradient_loss": "policy_loss",
    "train/value_loss": "value_loss",
    "train/actor_loss": "actor_loss",
    "train/critic_loss": "critic_loss",
    "train/approx_kl": "approx_kl",
    "train/clip_fraction": "clip_fraction",
    "train/explained_variance": "explained_variance",
    "train/std": "policy_std",
    "train/ent_coef": "ent_coef",
}


def policy_diagnostics(model) -> dict:
    """The generator's latest update as SB3 recorded it (losses, PPO's KL, clip fraction and
    policy std, SAC's entropy weight), under our column names; empty before its first update."""
    logged = model.logger.name_to_value
    return {name: float(logged[key]) for key, name in POLICY_METRICS.items() if key in logged}


class Hooks(BaseCallback):
    """SB3's loop handing control to the game. PPO: ``before_rollout()`` ahead of each rollout and
    ``after_rollout(buffer, last_values, dones)`` once it is collected, its advantages still to
    compute; either generator: ``after_step(env_steps)`` after every env step."""

    def __init__(self, on_policy: bool, before_rollout: Callable, after_rollout: Callable, after_step: Callable):
        super().__init__()
        self.on_policy, self.before_rollout, self.after_rollout, self.after_step = on_policy, before_rollout, after_rollout, after_step

    def _on_rollout_start(self) -> None:
        if self.on_policy:
            self.before_rollout()

    def _on_step(self) -> bool:
        self.after_step(self.num_timesteps)
        return True

    def _on_rollout_end(self) -> None:
        if self.on_policy:
            self.after_rollout(self.model.rollout_buffer, self.locals["values"], self.locals["dones"])
