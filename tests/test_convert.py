"""Foreign formats: SB3 .npz and imitation trajectories in, Minari out."""

import numpy as np
import pytest

from helpers import record_pendulum
from irl_gan.convert import to_imitation_dict
from irl_gan.data import load_demos


@pytest.fixture
def source(tmp_path):
    return load_demos(record_pendulum(tmp_path / "src.h5", episodes=3))


def test_import_sb3_npz(tmp_path, source, cli):
    eps = source.episodes
    npz = tmp_path / "expert.npz"
    np.savez(
        npz,
        obs=np.concatenate([e.observations[:-1] for e in eps]),
        actions=np.concatenate([e.actions for e in eps]),
        rewards=np.concatenate([e.rewards for e in eps]),
        episode_starts=np.concatenate([np.r_[True, np.zeros(e.length - 1, bool)] for e in eps]),
    )
    code, out, err = cli("demos", "import", npz, "--task", "pendulum", "--out", tmp_path / "sb3.h5")
    assert code == 0, err
    got = load_demos(tmp_path / "sb3.h5")
    np.testing.assert_allclose(got.returns, source.returns)
    np.testing.assert_array_equal(got.episodes[1].actions, eps[1].actions)
    # Pendulum episodes run to the horizon, so they are truncations.
    assert all(e.truncated and not e.terminated for e in got.episodes)
    assert "final observation" in out


def test_import_imitation_huggingface_directory(tmp_path, source, cli):
    datasets = pytest.importorskip("datasets")
    # Exactly what imitation's serialize.save writes: a HF dataset of TrajectoryWithRew columns.
    datasets.Dataset.from_dict(to_imitation_dict(source)).save_to_disk(str(tmp_path / "imitation_trajs"))
    code, _, err = cli("demos", "import", tmp_path / "imitation_trajs", "--task", "pendulum", "--out", tmp_path / "imi.h5")
    assert code == 0, err
    got = load_demos(tmp_path / "imi.h5")
    np.testing.assert_allclose(got.returns, source.returns)
    np.testing.assert_allclose(got.episodes[2].observations, source.episodes[2].observations, rtol=1e-6)


def test_import_imitation_legacy_npz(tmp_path, source, cli):
    d = to_imitation_dict(source)
    np.savez(
        tmp_path / "legacy.npz",
        obs=np.concatenate(d["obs"]),
        acts=np.concatenate(d["acts"]),
        rews=np.concatenate(d["rews"]),
        terminal=np.array(d["terminal"]),
        indices=np.cumsum([len(a) for a in d["acts"]])[:-1],
    )
    code, _, err = cli("demos", "import", tmp_path / "legacy.npz", "--task", "pendulum", "--out", tmp_path / "leg.h5")
    assert code == 0, err
    np.testing.assert_allclose(load_demos(tmp_path / "leg.h5").returns, source.returns)


def test_import_with_wrong_shapes_leaves_nothing_behind(tmp_path, source, cli):
    npz = tmp_path / "bad.npz"
    np.savez(npz, obs=np.zeros((10, 3)), actions=np.zeros((10, 4)), rewards=np.zeros(10), episode_starts=np.eye(1, 10, dtype=bool)[0])
    code, _, err = cli("demos", "import", npz, "--task", "pendulum", "--out", tmp_path / "bad.h5")
    assert code == 2 and "action" in err and str(npz) in err
    assert not any(p.suffix == ".h5" and p.name != "src.h5" for p in tmp_path.iterdir())


def test_export_to_minari_loads_with_minari(tmp_path, source, cli, monkeypatch):
    minari = pytest.importorskip("minari")
    root = tmp_path / "minari"
    code, out, err = cli("demos", "export-minari", source.path, "--id", "irl_gan/pendulum/test-v0", "--data-path", root)
    assert code == 0, err
    assert [p.name for p in root.iterdir()] == ["irl_gan"]  # staged beside, renamed in, nothing left over
    code, _, err = cli("demos", "export-minari", source.path, "--id", "irl_gan/pendulum/test-v0", "--data-path", root)
    assert code == 2 and "already exists" in err
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    ds = minari.load_dataset("irl_gan/pendulum/test-v0")
    assert ds.total_episodes == 3 and ds.total_steps == source.n_steps
    ep = next(iter(ds.iterate_episodes([1])))
    np.testing.assert_allclose(ep.observations, source.episodes[1].observations, rtol=1e-6)
    np.testing.assert_allclose(np.sum(ep.rewards), source.episodes[1].ret, rtol=1e-6)
    assert bool(ep.truncations[-1]) and not bool(ep.terminations[-1])


def _minari_recorded(root, monkeypatch):
    """A dataset written by Minari's own writer (create_dataset_from_buffers): two random Pendulum-v1 episodes."""
    minari = pytest.importorskip("minari")
    import gymnasium as gym
    from minari.data_collector.episode_buffer import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    env = gym.make("Pendulum-v1", max_episode_steps=30)
    buffers = []
    for seed in (0, 1):
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        o, a, r = [obs], [], []
        for _ in range(30):
            a.append(env.action_space.sample())
            obs, rew, _, _, _ = env.step(a[-1])
            o.append(obs)
            r.append(rew)
        buffers.append(EpisodeBuffer(id=seed, seed=seed, observations=np.array(o), actions=np.array(a), rewards=np.array(r),
                                     terminations=np.zeros(30, bool), truncations=np.r_[np.zeros(29, bool), True], infos={}))
    dataset = minari.create_dataset_from_buffers(dataset_id="test/pendulum/random-v0", buffer=buffers, env=env, algorithm_name="random")
    env.close()
    return dataset


def test_import_from_a_dataset_minari_recorded_by_id_and_by_folder(tmp_path, cli, monkeypatch):
    dataset = _minari_recorded(tmp_path / "minari", monkeypatch)
    code, out, err = cli("demos", "import", "test/pendulum/random-v0", "--format", "minari", "--out", tmp_path / "by-id.h5")
    assert code == 0, err
    assert "Pendulum-v1 (Pendulum-v1)" in out and "episodes     2  (0 terminated, 2 truncated)" in out
    from irl_gan.data import load_demos

    demos = load_demos(tmp_path / "by-id.h5")
    minari_eps = list(dataset.iterate_episodes())
    assert [e.length for e in demos.episodes] == [30, 30] and [e.seed for e in demos.episodes] == [0, 1]
    for ours, theirs in zip(demos.episodes, minari_eps):
        np.testing.assert_allclose(ours.observations, theirs.observations, rtol=1e-6)
        np.testing.assert_allclose(ours.actions, theirs.actions, rtol=1e-6)
        np.testing.assert_allclose(ours.rewards, theirs.rewards, rtol=1e-6)
    folder = tmp_path / "minari" / "test" / "pendulum" / "random-v0"
    code, out, err = cli("demos", "import", folder, "--task", "pendulum", "--out", tmp_path / "by-folder.h5")
    assert code == 0, err
    assert "pendulum (Pendulum-v1)" in out


def test_import_from_minari_names_a_missing_dataset_in_one_line(tmp_path, cli, monkeypatch):
    pytest.importorskip("minari")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    code, _, err = cli("demos", "import", "nobody/none-v0", "--format", "minari", "--out", tmp_path / "x.h5")
    assert code == 2 and "Minari dataset 'nobody/none-v0' not found" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.h5").exists()
