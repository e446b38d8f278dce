"""The dataset format: round trips, and every kind of damage caught at the boundary."""

import h5py
import numpy as np
import pytest

from helpers import record_pendulum
from irl_gan.data import load_demos
from irl_gan.errors import UserError
from irl_gan.tasks import load_spec


def test_round_trip_keeps_episodes_and_metadata(tmp_path):
    path = record_pendulum(tmp_path / "d.h5", episodes=3, seed=7)
    demos = load_demos(path, load_spec("pendulum"))
    assert len(demos.episodes) == 3
    for i, ep in enumerate(demos.episodes):
        assert ep.observations.shape == (201, 3)
        assert ep.actions.shape == (200, 1)
        assert ep.seed == 7 + i
        assert ep.truncated and not ep.terminated
    assert demos.meta["env_id"] == "Pendulum-v1"
    assert demos.meta["action_space"]["high"] == [2.0]
    assert demos.n_steps == 600


def test_episode_observations_line_up_with_actions(tmp_path):
    # The final observation of one episode must not leak into the next.
    path = record_pendulum(tmp_path / "d.h5", episodes=2)
    demos = load_demos(path)
    import gymnasium as gym

    env = gym.make("Pendulum-v1")
    obs, _ = env.reset(seed=demos.episodes[1].seed)
    np.testing.assert_allclose(demos.episodes[1].observations[0], obs)
    obs, *_ = env.step(demos.episodes[1].actions[0])
    np.testing.assert_allclose(demos.episodes[1].observations[1], obs, rtol=1e-6)


def test_summary_normalises_with_the_stored_scores(tmp_path):
    path = record_pendulum(tmp_path / "d.h5", episodes=2)
    with h5py.File(path, "r+") as f:
        import json

        meta = json.loads(f.attrs["meta"])
        meta["scores"] = {"random": -1000.0, "expert": 0.0, "episodes": 50}
        f.attrs["meta"] = json.dumps(meta)
    demos = load_demos(path)
    s = demos.summary()
    assert s["normalised_mean"] == pytest.approx((s["return_mean"] + 1000.0) / 1000.0)


def _mutate(path, fn):
    with h5py.File(path, "r+") as f:
        fn(f)
    return path


def _replace(f, name, data):
    del f[name]
    f.create_dataset(name, data=data)


MALFORMED = {
    "nan observation": lambda f: f["observations"].__setitem__((5, 0), np.nan),
    "inf reward": lambda f: f["rewards"].__setitem__(3, np.inf),
    "action out of bounds": lambda f: f["actions"].__setitem__((3, 0), 5.0),
    "wrong action dimension": lambda f: _replace(f, "actions", np.zeros((600, 2), np.float32)),
    "lengths disagree": lambda f: _replace(f, "episode_lengths", np.array([200, 200, 199])),
    "zero-length episode": lambda f: _replace(f, "episode_lengths", np.array([200, 400, 0])),
    "missing array": lambda f: f.__delitem__("rewards"),
    "returns corrupted": lambda f: f["episode_returns"].__setitem__(0, 123.0),
    "not our format": lambda f: f.attrs.__setitem__("format", "something-else"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_damaged_dataset_is_refused_in_one_line(tmp_path, kind):
    path = _mutate(record_pendulum(tmp_path / "d.h5"), MALFORMED[kind])
    with pytest.raises(UserError) as info:
        load_demos(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message


def test_empty_dataset_is_refused(tmp_path):
    def empty(f):
        for name in list(f):
            data = f[name][()]
            _replace(f, name, data[:0])

    path = _mutate(record_pendulum(tmp_path / "d.h5"), empty)
    with pytest.raises(UserError, match="empty dataset"):
        load_demos(path)


def test_written_files_get_ordinary_permissions(tmp_path):
    """Written through a private temporary file, a dataset still ends up readable as the umask allows."""
    import os

    from helpers import record_pendulum

    mask = os.umask(0o022)
    try:
        path = record_pendulum(tmp_path / "d.h5", episodes=1)
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_select_can_keep_only_episodes_that_ran_to_the_time_limit():
    from irl_gan.data import Demonstrations, Episode

    def episode(length, terminated):
        return Episode(np.zeros((length + 1, 2)), np.zeros((length, 1)), np.zeros(length), terminated, not terminated)

    demos = Demonstrations((episode(5, True), episode(10, False), episode(3, True), episode(10, False)), {}, None)
    assert [e.length for e in demos.select(3)] == [5, 10, 3]
    assert [e.length for e in demos.select(2, drop_terminated=True)] == [10, 10]
    with pytest.raises(UserError, match="only 2 of the 4 episodes .* ran to the time limit") as info:
        demos.select(3, drop_terminated=True)
    assert "\n" not in str(info.value)
    with pytest.raises(UserError, match="holds only 4 episodes"):
        demos.select(5)
