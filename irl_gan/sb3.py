"""Stable-Baselines3 glue: what a config may pass to SB3's PPO and SAC, and SB3's objections to it
as the one-line errors a user reads.
"""

from __future__ import annotations

import contextlib
import inspect

from irl_gan.errors import UserError

# Set by the trainer itself; a config that names them is refused.
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
