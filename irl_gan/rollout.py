"""Rolling a policy out in an env: the one loop behind recording, evaluation and scoring."""

from __future__ import annotations

from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from irl_gan.data import Episode
from irl_gan.errors import UserError

Frame = Callable[[np.ndarray], None]


def rollout(
    env,
    policy: Callable[[np.ndarray], np.ndarray],
    episodes: int,
    seed: int = 0,
    progress: bool = True,
    desc: str = "episodes",
    on_frame: Frame | None = None,
    frame_episodes: int = 1,
) -> list[Episode]:
    """Run ``episodes`` episodes; episode ``i`` is reset with seed ``seed + i``.

    Actions are clipped to the action space's bounds before the env sees them, and the
    clipped action is what is recorded, so a dataset's actions always lie in the space.
    ``on_frame`` receives the rendered frames of the first ``frame_episodes`` episodes.
    """
    if episodes <= 0:
        raise UserError(f"--episodes must be positive, got {episodes}")
    out = []
    # disable=None: no bar when stderr is not a terminal (logs, pipes, tests).
    with tqdm(total=episodes, desc=desc, disable=None if progress else True, unit="ep") as bar:
        for i in range(episodes):
            out.append(_episode(env, policy, seed + i, on_frame if i < frame_episodes else None, i))
            bar.update(1)
            bar.set_postfix(ret=f"{out[-1].ret:.1f}")
    return out


def _episode(env, policy, ep_seed: int, on_frame: Frame | None, index: int) -> Episode:
    space = env.action_space
    obs, _ = env.reset(seed=ep_seed)
    space.seed(ep_seed)
    observations, actions, rewards = [obs], [], []
    if on_frame is not None:
        on_frame(env.render())
    while True:
        action = _checked_action(policy(obs), space, index, len(actions))
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        actions.append(action)
        rewards.append(reward)
        if on_frame is not None:
            on_frame(env.render())
        if terminated or truncated:
            break
    return Episode(
        observations=np.asarray(observations),
        actions=np.asarray(actions),
        rewards=np.asarray(rewards, dtype=np.float64),
        terminated=bool(terminated),
        truncated=bool(truncated),
        seed=ep_seed,
    )


def _checked_action(raw, space, episode: int, step: int) -> np.ndarray:
    action = np.asarray(raw, dtype=space.dtype)
    if action.size != int(np.prod(space.shape)):
        raise UserError(
            f"the agent returned an action of shape {action.shape} at episode {episode} step {step}; "
            f"the task's action space has shape {space.shape}"
        )
    action = action.reshape(space.shape)
    if not np.isfinite(action).all():
        raise UserError(f"the agent returned a non-finite action (NaN or Inf) at episode {episode} step {step}")
    return np.clip(action, space.low, space.high)


def random_policy(env) -> Callable[[np.ndarray], np.ndarray]:
    """Uniform random actions (the action space is seeded per episode by ``rollout``)."""
    return lambda obs: env.action_space.sample()


def noisy_policy(policy: Callable[[np.ndarray], np.ndarray], space, share: float, rng: np.random.Generator) -> Callable[[np.ndarray], np.ndarray]:
    """``policy`` with Gaussian action noise of ``share`` of each action's half-range, clipped to
    the space: a worse expert, for rewards judged on more than the expert's own states."""
    low, high = space.low, space.high
    scale = share * (high - low) / 2
    return lambda obs: np.clip(policy(obs) + rng.normal(size=low.shape) * scale, low, high)
