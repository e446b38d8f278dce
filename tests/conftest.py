import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def irl_gan_home(tmp_path, monkeypatch):
    """Scores a test measures go to its own folder, never the user's ~/.irl_gan."""
    monkeypatch.setenv("IRL_GAN_HOME", str(tmp_path / "irl_gan_home"))
    return tmp_path / "irl_gan_home"


@pytest.fixture
def envs_copy(tmp_path, monkeypatch):
    """A private copy of the shipped specs, searched first, so a test may write scores into a spec."""
    dst = tmp_path / "envs"
    shutil.copytree(ROOT / "irl_gan" / "envs", dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("IRL_GAN_ENVS", str(dst))
    return dst


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from irl_gan.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


TINY_SPEC = """\
task: tiny
env_id: InvertedPendulum-v5
horizon: 100
expert:
  algo: ppo
  timesteps: 256
  seed: 0
  normalize: true
  hyperparameters: {n_steps: 128, batch_size: 64, n_epochs: 2}
  policy_kwargs: {net_arch: [16, 16]}
"""


@pytest.fixture
def tiny_task(envs_copy):
    """A task whose expert recipe trains in a second: InvertedPendulum with a 16-16 PPO."""
    (envs_copy / "tiny.yaml").write_text(TINY_SPEC)
    return "tiny"
