"""irl_gan's own tasks: the point-mass maze and the transfer tasks with changed dynamics."""

import numpy as np
import pytest

from irl_gan.tasks import load_spec


def drive(task: str, side: float, steps: int = 150) -> np.ndarray:
    """Steer the point mass through waypoints round the wall on one side (x = side), then to the goal."""
    env = load_spec(task).make_env()
    obs, _ = env.reset(seed=0)
    waypoints = [np.array([side, -0.7]), np.array([side, 0.4]), np.array([0.0, 0.7])]
    for _ in range(steps):
        if len(waypoints) > 1 and np.linalg.norm(obs[:2] - waypoints[0]) < 0.08:
            waypoints.pop(0)
        obs, *_ = env.step(np.clip(4 * (waypoints[0] - obs[:2]) - obs[2:], -1, 1))
    return obs[:2]


def test_the_maze_wall_has_its_gap_on_the_right_and_the_shifted_maze_on_the_left():
    goal = np.array([0.0, 0.7])
    assert np.linalg.norm(drive("pointmaze", 0.75) - goal) < 0.1
    assert np.linalg.norm(drive("pointmaze", -0.75) - goal) > 0.5  # blocked
    assert np.linalg.norm(drive("pointmaze-shifted", -0.75) - goal) < 0.1
    assert np.linalg.norm(drive("pointmaze-shifted", 0.75) - goal) > 0.5


@pytest.mark.parametrize("task, source", [("ant-disabled", "ant"), ("halfcheetah-gravity", "halfcheetah"), ("pointmaze-shifted", "pointmaze")])
def test_a_transfer_task_keeps_its_sources_spaces_and_changes_its_dynamics(task, source):
    a, b = load_spec(task).make_env(), load_spec(source).make_env()
    assert a.observation_space.shape == b.observation_space.shape and a.action_space.shape == b.action_space.shape
    ma, mb = a.unwrapped.model, b.unwrapped.model
    changed = [not np.array_equal(ma.opt.gravity, mb.opt.gravity), not np.array_equal(ma.actuator_gear, mb.actuator_gear)]
    changed += [ma.ngeom != mb.ngeom or not np.array_equal(ma.geom_pos, mb.geom_pos) or not np.array_equal(ma.geom_size, mb.geom_size)]
    assert any(changed)


def test_the_disabled_ant_has_its_front_motors_off():
    model = load_spec("ant-disabled").make_env().unwrapped.model
    import mujoco

    off = {mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[i, 0]) for i in range(model.nu) if model.actuator_gear[i, 0] == 0}
    assert off == {"hip_1", "ankle_1", "hip_2", "ankle_2"}
