"""A point mass in a 2-D maze whose reward is known in closed form: ``r(s) = -|p - g|``, the
distance of the mass's position ``p`` from the goal ``g`` (state-only, no action cost). A learned
cost can therefore be compared with the true reward exactly, over the whole plane.

Observation: position (2) and velocity (2). Action: a force in [-1, 1]^2. The heavy damping
makes the speed follow the force within a few steps (top speed 1 per second). The wall across
the middle has a gap on the right (``pointmaze.xml``) or, in the transfer version, on the left
(``pointmaze_shifted.xml``).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces, utils
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from irl_gan.tasks import SHIPPED_SPECS

GOAL = np.array([0.0, 0.7])
START = np.array([0.0, -0.7])


def true_reward(obs: np.ndarray) -> np.ndarray:
    """The maze's reward of a state (any batch shape): minus the distance to the goal."""
    return -np.linalg.norm(np.asarray(obs)[..., :2] - GOAL, axis=-1)


class PointMaze(MujocoEnv, utils.EzPickle):
    metadata = {"render_modes": ["human", "rgb_array", "depth_array"], "render_fps": 20}

    def __init__(self, xml_file: str = "pointmaze.xml", frame_skip: int = 5, reset_noise: float = 0.05, **kwargs):
        utils.EzPickle.__init__(self, xml_file, frame_skip, reset_noise, **kwargs)
        self.reset_noise = reset_noise
        obs_space = spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float64)
        MujocoEnv.__init__(self, str(SHIPPED_SPECS / xml_file), frame_skip, observation_space=obs_space, camera_name="top", **kwargs)
        self.metadata["render_fps"] = int(np.round(1.0 / self.dt))

    def _get_obs(self) -> np.ndarray:
        return np.concatenate([self.data.qpos, self.data.qvel]).astype(np.float64)

    def step(self, action):
        reward = float(true_reward(self._get_obs()))
        self.do_simulation(action, self.frame_skip)
        obs = self._get_obs()
        if self.render_mode == "human":
            self.render()
        return obs, reward, False, False, {"distance": -reward}

    def reset_model(self) -> np.ndarray:
        noise = self.np_random.uniform(-self.reset_noise, self.reset_noise, size=2)
        self.set_state(START + noise, np.zeros(2))
        return self._get_obs()

    @staticmethod
    def plane_states(n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """States at rest on an n x n grid over the maze: x, y (each n) and obs (n, n, 4)."""
        xs = ys = np.linspace(-1.0, 1.0, n)
        gx, gy = np.meshgrid(xs, ys)
        obs = np.stack([gx, gy, np.zeros_like(gx), np.zeros_like(gy)], axis=-1)
        return xs, ys, obs
