"""Task specs: every shipped spec is valid data that makes its env."""

from pathlib import Path

import pytest

from irl_gan.errors import UserError
from irl_gan.tasks import available_tasks, load_spec

REQUIRED = {"pendulum", "invertedpendulum", "inverteddoublependulum", "reacher", "swimmer", "hopper", "halfcheetah", "walker2d", "ant"}


def test_every_required_task_has_a_spec():
    assert REQUIRED <= set(available_tasks())


@pytest.mark.parametrize("task", sorted(REQUIRED))
def test_spec_makes_its_env_with_the_spec_horizon(task):
    spec = load_spec(task)
    assert spec.env_id.endswith("-v5") or spec.env_id == "Pendulum-v1"
    env = spec.make_env()
    assert env.spec.max_episode_steps == spec.horizon
    env.close()


def test_unknown_keys_in_a_spec_are_refused(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("task: x\nenv_id: Pendulum-v1\nhorizon: 200\nexpert: {algo: sac, timesteps: 10, seed: 0}\nhorizn: 3\n")
    with pytest.raises(UserError, match="unknown keys \\['horizn'\\]"):
        load_spec(str(path))


@pytest.mark.parametrize(
    "expert, message",
    [
        ("{algo: dqn, timesteps: 10, seed: 0}", "expert.algo must be one of"),
        ("{algo: sac, timesteps: -5, seed: 0}", "expert.timesteps must be a non-negative integer"),
        ("{algo: sac, timesteps: 10, seed: 0, learning_rate: 3}", "unknown expert recipe keys"),
    ],
)
def test_bad_recipes_are_refused_with_the_reason(tmp_path, expert, message):
    path = tmp_path / "x.yaml"
    path.write_text(f"task: x\nenv_id: Pendulum-v1\nhorizon: 200\nexpert: {expert}\n")
    with pytest.raises(UserError, match=message):
        load_spec(str(path))


@pytest.mark.parametrize("task", sorted(REQUIRED))
def test_the_recipe_finds_its_demo_episodes_in_the_shipped_demos(task):
    # Hopper's recipe keeps only demos that ran to the time limit: the shipped file must hold enough.
    from irl_gan.config import resolve_config
    from irl_gan.data import load_demos

    path = Path(__file__).resolve().parent.parent / "demos" / f"{task}.h5"
    spec = load_spec(task)
    config = resolve_config(spec, [("test", {"demos": str(path)})])
    episodes = config.select_demos(load_demos(path, spec))
    assert len(episodes) == config.demo_episodes
    assert not (config.drop_terminated_demos and any(e.terminated for e in episodes))


def test_building_halfcheetah_drops_mujocos_settotalmass_deprecation_and_restores_the_handler(capfd):
    """Gymnasium's HalfCheetah model uses an attribute MuJoCo 4 deprecates; that warning is not
    the user's to act on. Any handler set before is back in place afterwards."""
    import mujoco

    from irl_gan.tasks import load_spec

    seen = []
    mujoco.set_mju_user_warning(seen.append)
    try:
        for task in ("halfcheetah", "halfcheetah-gravity"):
            load_spec(task).make_env().close()
        assert mujoco.get_mju_user_warning() is not None
    finally:
        mujoco.set_mju_user_warning(None)
    assert seen == [] and "settotalmass" not in capfd.readouterr().err
