"""Starting some of the generator's episodes from states of the demonstrations.

Peng et al.'s reference state initialisation (DeepMimic, 2018): an episode that starts inside a
demonstrated gait shows the policy, from its first rollout, states its initial distribution
would reach only once it already runs. The cost, the discriminator and the evaluations are
untouched; only where the generator's episodes begin changes.

A MuJoCo state is recovered from a demo observation when the observation is gymnasium's
locomotion layout: the joint positions without the first one or two (the root's x, or x and y,
which no reward reads), then the joint velocities (Hopper's and Walker2d's clipped to ±10,
which a clipped velocity reproduces). ``DemoStateResets`` checks that layout when it is built,
by setting a demo state and comparing the observation the env then returns.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from irl_gan.errors import UserError


class DemoStateResets(gym.Wrapper):
    """With probability ``share``, a reset puts the env in a state drawn uniformly from ``states``
    (demo observations, one per row) instead of the env's own initial distribution; the episode
    then runs its full horizon from there. ``info["demo_reset"]`` says which resets did."""

    def __init__(self, env: gym.Env, states: np.ndarray, share: float):
        super().__init__(env)
        if not 0.0 <= share <= 1.0:
            raise UserError(f"demo_resets {share}: it is the share of episodes started from a demo state; use a number in [0, 1]")
        self.states, self.share = np.asarray(states, dtype=np.float64), share
        sim = env.unwrapped
        name = env.spec.id if env.spec else type(sim).__name__
        if not hasattr(sim, "set_state") or not hasattr(sim, "_get_obs"):
            raise UserError(f"demo_resets needs a MuJoCo env whose state can be set; {name} is not one: set demo_resets to 0")
        self._hidden = sim.model.nq + sim.model.nv - self.states.shape[1]  # root coordinates the observation leaves out
        if not 0 <= self._hidden <= 2 or not self._matches(self.states[0]):
            raise UserError(f"demo_resets: {name}'s observations are not its joint positions and "
                            "velocities, so a demo observation does not give a state to start from: set demo_resets to 0")

    def _state(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sim = self.env.unwrapped
        n_pos = sim.model.nq - self._hidden
        return np.concatenate([sim.data.qpos[: self._hidden], obs[:n_pos]]), obs[n_pos:]

    def _matches(self, obs: np.ndarray) -> bool:
        self.env.reset(seed=0)
        self.env.unwrapped.set_state(*self._state(obs))
        return np.allclose(self.env.unwrapped._get_obs(), obs, atol=1e-6)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        sim = self.env.unwrapped
        if self.share > 0 and sim.np_random.random() < self.share:
            sim.set_state(*self._state(self.states[sim.np_random.integers(len(self.states))]))
            obs, info = sim._get_obs(), {**info, "demo_reset": True}
        return obs, info


def demo_states(episodes) -> np.ndarray:
    """Every observation of ``episodes`` that a policy acted in (not an episode's last)."""
    return np.concatenate([e.observations[:-1] for e in episodes])
