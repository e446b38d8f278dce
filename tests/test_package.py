"""The package as a user installs it: a built wheel, in a fresh venv, run from outside the repository."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list, cwd: Path, env: dict) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A wheel built from a copy of the sources, installed into a fresh venv; its dependencies are
    this environment's (a .pth line), so nothing of the repository's tree is importable there."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT / "irl_gan", src / "irl_gan", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist", src],
                   check=True, capture_output=True, timeout=600)
    wheel = next((tmp / "dist").glob("irl_gan-*.whl"))
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel], check=True, capture_output=True, timeout=600)
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp / "elsewhere"
    work.mkdir()
    (tmp / "tmpdir").mkdir()
    env = {**os.environ, "IRL_GAN_HOME": str(tmp / "home"), "OMP_NUM_THREADS": "1", "PYTHONPATH": "", "TMPDIR": str(tmp / "tmpdir")}
    env.pop("IRL_GAN_ENVS", None)
    return env_dir / "bin", work, env


def test_the_wheel_holds_the_task_specs_and_imports_from_the_venv(installed):
    bin_dir, work, env = installed
    where = _run([bin_dir / "python", "-c", "import irl_gan.tasks as t; print(t.__file__); print(' '.join(t.available_tasks()))"], work, env)
    module, tasks = where.splitlines()
    assert str(bin_dir.parent) in module and str(ROOT) not in module
    assert {"hopper", "halfcheetah", "ant", "ant-disabled", "pointmaze"} <= set(tasks.split())


def test_the_wheel_trains_records_and_evaluates_a_shipped_task_from_another_directory(installed):
    bin_dir, work, env = installed
    irl_gan = bin_dir / "irl-gan"
    out = _run([irl_gan, "train", "--task", "hopper", "--demos", ROOT / "demos" / "hopper.h5", "--steps", 2048, "--out", "hop", "--no-progress"], work, env)
    assert "hopper gan-gcl K=1: 2048 env steps" in out
    out = _run([irl_gan, "eval-policy", "hop", "--episodes", 1, "--no-progress"], work, env)
    assert out.startswith("hopper: return ")
    assert not list(Path(env["TMPDIR"]).iterdir())  # no SB3 log folders left behind
    _run([irl_gan, "record", "hopper", "--agent", ROOT / "agents" / "hopper", "--episodes", 1, "--out", "hop.h5", "--no-progress"], work, env)
    assert "hopper (Hopper-v5)" in _run([irl_gan, "demos", "info", "hop.h5"], work, env)


def test_the_wheel_trains_on_a_gymnasium_id_then_evaluates_the_run_with_no_task_flag(installed):
    bin_dir, work, env = installed
    irl_gan = bin_dir / "irl-gan"
    out = _run([irl_gan, "train", "--task", "InvertedPendulum-v5", "--demos", ROOT / "demos" / "invertedpendulum.h5", "--steps", 2048,
                "--out", "pend", "--no-progress"], work, env)
    assert "InvertedPendulum-v5 gan-gcl K=1: 2048 env steps" in out
    out = _run([irl_gan, "eval-reward", "pend", "--episodes", 1, "--agent", ROOT / "agents" / "invertedpendulum", "--no-progress"], work, env)
    assert re.search(r"\(expert \d+, expert \+ noise \d+, learned policy \d+, random \d+\)", out) and "Pearson" in out
    assert f"expert: {ROOT / 'agents' / 'invertedpendulum'}" in out
    assert (work / "pend" / "reward-eval-InvertedPendulum-v5" / "reward_eval.yaml").is_file()
    out = _run([irl_gan, "report", "pend", "--no-video", "--no-progress"], work, env)
    assert (work / "pend" / "report.html").is_file() and "report written" in out
