"""Small real datasets for the tests, recorded on Pendulum-v1 with plain controllers."""

from pathlib import Path

from irl_gan.data import make_meta, save_demos
from irl_gan.rollout import rollout
from irl_gan.tasks import load_spec

# The default recipe's ranking, made quick for tests: a short clone, two episodes per noise level.
QUICK_RANKING = {"bc_steps": 200, "rank_episodes": 2}


def record_pendulum(path: Path, episodes: int = 3, controller=None, seed: int = 0) -> Path:
    import controllers

    spec = load_spec("pendulum")
    env = spec.make_env()
    eps = rollout(env, controller or controllers.pendulum_swing_up, episodes, seed, progress=False)
    meta = make_meta(spec, env, {"callable": "controllers:pendulum_swing_up"}, True, "tests")
    env.close()
    return save_demos(path, eps, meta)


def tiny_training_inputs(tmp_path: Path, settings: dict) -> tuple[Path, Path]:
    """Two recorded Pendulum episodes and a --config file of ``settings``, for quick training runs."""
    import yaml

    demos = record_pendulum(tmp_path / "demos.h5", episodes=2)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(settings))
    return demos, config


def make_trainer(spec, demos: Path | None, config, out: Path):
    """A Trainer on the episodes ``config`` learns from in the demo file ``demos``, as irl-gan train builds one."""
    from irl_gan.data import load_demos
    from irl_gan.trainer import Trainer

    return Trainer(spec, config.select_demos(load_demos(demos, spec)) if demos is not None else None, config, out)
