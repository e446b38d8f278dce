"""A hand-written controller for Pendulum-v1, recordable with

    irl-gan record pendulum --agent examples.pendulum_controller:swing_up --episodes 10 --out pd.h5
"""

import numpy as np


def swing_up(obs: np.ndarray) -> np.ndarray:
    """Energy-based swing-up, then PD balance (mean return about -150; random about -1180).

    The pendulum obeys th'' = 15 sin(th) + 3 u, so E = th'^2 / 2 + 15 cos(th) is 15 when balanced
    upright: pump energy towards 15, and balance with PD once near the top.
    """
    cos, sin, speed = obs
    if cos > 0.9:
        return np.array([np.clip(-10.0 * np.arctan2(sin, cos) - 2.0 * speed, -2, 2)])
    energy = 0.5 * speed**2 + 15.0 * cos
    return np.array([np.clip(0.5 * (15.0 - energy) * (1.0 if speed >= 0 else -1.0), -2, 2)])
