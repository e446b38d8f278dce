"""Plain Python controllers used as `--agent module:function` in the tests."""

import numpy as np

from examples.pendulum_controller import swing_up


def zero(obs):
    return np.zeros(1)


pendulum_swing_up = swing_up


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
