"""Recording the generator's transitions as the policy optimiser collects them.

``Recorder`` wraps the raw vectorised env (below any observation normalisation), so it sees
observations and actions in the env's own units: the same units as the demonstrations. It
keeps each step of the current rollout as arrays shaped (steps, envs), for relabelling
rewards in one batch, and keeps the episodes completed recently, for segments longer than
one step.
"""

from __future__ import annotations

import collections

import numpy as np
from stable_baselines3.common.vec_env import VecEnvWrapper

from irl_gan.data import Episode


class Recorder(VecEnvWrapper):
    def __init__(self, venv, keep_episodes: int = 64):
        """``keep_episodes`` = 0 keeps no episodes (K = 1 needs only the rollout's steps)."""
        super().__init__(venv)
        self.track_episodes = keep_episodes > 0
        n = venv.num_envs
        self._obs = None
        self._open = [{"obs": [], "acts": [], "rews": []} for _ in range(n)]
        self.episodes: collections.deque[Episode] = collections.deque(maxlen=max(keep_episodes, 1))
        self.start_rollout()

    # ------------------------------------------------------------------ rollouts

    def start_rollout(self) -> None:
        self.steps: dict[str, list[np.ndarray]] = {k: [] for k in ("obs", "acts", "next_obs", "rews", "terminated", "truncated")}
        self._arrays: dict[str, np.ndarray] | None = None

    def rollout_arrays(self) -> dict[str, np.ndarray]:
        """This rollout's steps, each (steps, envs, ...): next_obs is the true final observation at
        an episode end (not the reset observation the policy sees next). Stacked once per rollout
        (the cost's update and the relabelling both read them); treat them as read-only."""
        if self._arrays is None:
            self._arrays = {k: np.stack(v) for k, v in self.steps.items()}
        return self._arrays

    def flat_rollout(self) -> dict[str, np.ndarray]:
        """``rollout_arrays`` with the steps and envs axes as one, step-major: the layout of the
        rewards that relabel SB3's rollout buffer."""
        r = self.rollout_arrays()
        n = r["terminated"].size
        return {k: v.reshape(n, *v.shape[2:]) for k, v in r.items()}

    # ------------------------------------------------------------------ VecEnv

    def reset(self):
        self._obs = self.venv.reset()
        for i in range(self.num_envs):
            self._open[i] = {"obs": [self._obs[i].copy()], "acts": [], "rews": []}
        return self._obs

    def step_async(self, actions: np.ndarray) -> None:
        self._acts = np.asarray(actions).copy()
        self.venv.step_async(actions)

    def step_wait(self):
        obs, rews, dones, infos = self.venv.step_wait()
        # The vec env hands out fresh arrays each step, so they are kept without copying.
        nxt = obs
        terminated = np.zeros(self.num_envs, bool)
        truncated = np.zeros(self.num_envs, bool)
        ended = np.flatnonzero(dones)
        if len(ended):
            nxt = obs.copy()
            for i in ended:
                nxt[i] = infos[i]["terminal_observation"]
                truncated[i] = bool(infos[i].get("TimeLimit.truncated", False))
                terminated[i] = not truncated[i]
        if self.track_episodes:
            self._track(obs, rews, dones, nxt, terminated, truncated)
        for key, value in (("obs", self._obs), ("acts", self._acts), ("next_obs", nxt), ("rews", rews), ("terminated", terminated), ("truncated", truncated)):
            self.steps[key].append(value)
        self._arrays = None
        self._obs = obs
        return obs, rews, dones, infos

    def _track(self, obs, rews, dones, nxt, terminated, truncated) -> None:
        for i in range(self.num_envs):
            ep = self._open[i]
            ep["acts"].append(self._acts[i])
            ep["rews"].append(float(rews[i]))
            ep["obs"].append(nxt[i].copy())
            if dones[i]:
                self.episodes.append(
                    Episode(np.asarray(ep["obs"]), np.asarray(ep["acts"]), np.asarray(ep["rews"]), bool(terminated[i]), bool(truncated[i]))
                )
                self._open[i] = {"obs": [obs[i].copy()], "acts": [], "rews": []}
