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
) -> list[Episode]:
    """Run ``episodes`` episodes; episode ``i`` is reset with seed ``seed + i``.

    Actions are clipped to the action space's bounds before the env sees them, and the
    clipped action is what is recorded, so a dataset's actions always lie in the space.
    """
    if episodes <= 0:
        raise UserError(f"--episodes must be positive, got {episodes}")
    space = env.action_space
    out = []
    bar = tqdm(total=episodes, desc=desc, disable=not progress, unit="ep")
    for i in range(episodes):
        ep_seed = seed + i
        obs, _ = env.reset(seed=ep_seed)
        space.seed(ep_seed)
        observations, actions, rewards = [obs], [], []
        if on_frame is not None:
            on_frame(env.render())
        while True:
            action = np.asarray(policy(obs), dtype=space.dtype).reshape(space.shape)
            action = np.clip(action, space.low, space.high)
            obs, reward, terminated, truncated, _ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
            if on_frame is not None:
                on_frame(env.render())
            if terminated or truncated:
                break
        out.append(
            Episode(
                observations=np.asarray(observations),
                actions=np.asarray(actions),
                rewards=np.asarray(rewards, dtype=np.float64),
                terminated=bool(terminated),
                truncated=bool(truncated),
                seed=ep_seed,
            )
        )
        bar.update(1)
        bar.set_postfix(ret=f"{out[-1].ret:.1f}")
    bar.close()
    return out


def random_policy(env) -> Callable[[np.ndarray], np.ndarray]:
    """Uniform random actions (the action space is seeded per episode by ``rollout``)."""
    return lambda obs: env.action_space.sample()
