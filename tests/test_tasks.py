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
    # The recipe keeps only demos that ran to the time limit: every shipped file must hold enough.
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


def test_a_gymnasium_id_is_a_task_with_no_spec_its_horizon_the_envs_time_limit():
    spec = load_spec("InvertedPendulum-v5")
    assert (spec.task, spec.env_id, spec.horizon, spec.expert, spec.scores, spec.path) == ("InvertedPendulum-v5", "InvertedPendulum-v5", 1000, None, None, None)
    assert spec.make_env().spec.max_episode_steps == 1000


def test_module_colon_id_imports_the_module_that_registers_the_id(tmp_path, monkeypatch):
    (tmp_path / "my_envs.py").write_text(
        "from gymnasium.envs.registration import register\n"
        "register(id='MyPendulum-v0', entry_point='gymnasium.envs.classic_control.pendulum:PendulumEnv', max_episode_steps=77)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = load_spec("my_envs:MyPendulum-v0")
    assert (spec.ref, spec.env_id, spec.horizon) == ("my_envs:MyPendulum-v0", "MyPendulum-v0", 77)
    with pytest.raises(UserError, match="cannot import module 'no_such_module'"):
        load_spec("no_such_module:X-v0")
    with pytest.raises(UserError, match="unknown task 'Nope-v9'.*known tasks: .*hopper"):
        load_spec("Nope-v9")


def test_a_users_spec_folder_adds_to_the_shipped_tasks_and_a_spec_needs_only_task_and_env_id(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text("task: mine\nenv_id: Pendulum-v1\n")
    monkeypatch.setenv("IRL_GAN_ENVS", str(tmp_path))
    assert {"mine", "hopper"} <= set(available_tasks())
    spec = load_spec("mine")
    assert (spec.horizon, spec.expert, spec.ref) == (200, None, "mine")
    assert load_spec(str(tmp_path / "mine.yaml")).ref == str((tmp_path / "mine.yaml").resolve())


def test_scores_are_measured_stored_and_then_normalise_every_later_command(cli, tmp_path, irl_gan_home):
    code, out, err = cli("scores", "Pendulum-v1", "--agent", "controllers:pendulum_swing_up", "--episodes", 2, "--no-progress")
    assert code == 0, err
    assert "Pendulum-v1: random" in out and str(irl_gan_home / "scores.yaml") in out
    scores = load_spec("Pendulum-v1").scores
    assert scores is not None and scores.episodes == 2 and scores.zero is not None and scores.expert > scores.random
    code, _, err = cli("scores", "Reacher-v5", "--episodes", 1)
    assert code == 2 and "pass --agent" in err


def test_demos_info_shows_the_zero_action_bar_where_it_beats_random(cli, tmp_path, irl_gan_home):
    import yaml

    (irl_gan_home).mkdir(parents=True, exist_ok=True)
    (irl_gan_home / "scores.yaml").write_text(yaml.safe_dump({"invertedpendulum": {"random": 5.0, "expert": 1000.0, "zero": 25.0, "episodes": 50}}))
    demos = Path(__file__).resolve().parent.parent / "demos" / "invertedpendulum.h5"
    code, out, err = cli("demos", "info", demos, "--task", "invertedpendulum")
    assert code == 0, err
    assert "acting zero  25.0 (0.020 normalised)" in out
