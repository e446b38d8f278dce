"""Plain Python controllers used as `--agent module:function` in the tests."""

import numpy as np


def zero(obs):
    return np.zeros(1)


def pendulum_swing_up(obs):
    """Energy-based swing-up, then PD balance, for Pendulum-v1 (mean return about -150).

    The pendulum obeys th'' = 15 sin(th) + 3 u, so E = th'^2 / 2 + 15 cos(th) is 15 when balanced
    upright; pump energy towards that, and balance with PD once near the top.
    """
    cos, sin, speed = obs
    if cos > 0.9:
        return np.array([np.clip(-10.0 * np.arctan2(sin, cos) - 2.0 * speed, -2, 2)])
    energy = 0.5 * speed**2 + 15.0 * cos
    return np.array([np.clip(0.5 * (15.0 - energy) * (1.0 if speed >= 0 else -1.0), -2, 2)])


def wrong_dimension(obs):
    return np.zeros(3)


def nan_action(obs):
    return np.array([np.nan])


class Interrupt(Exception):
    pass


_calls = {"n": 0}


def interrupts_after_50_steps(obs):
    _calls["n"] += 1
    if _calls["n"] > 50:
        _calls["n"] = 0
        raise KeyboardInterrupt
    return np.zeros(1)
