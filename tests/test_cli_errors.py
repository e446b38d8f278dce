"""The ten kinds of malformed input of issue 2: each is one line on stderr and exit code 2."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from helpers import record_pendulum


@pytest.fixture
def dataset(tmp_path):
    return record_pendulum(tmp_path / "pendulum.h5", episodes=2)


def _truncated(tmp_path, dataset):
    data = dataset.read_bytes()
    dataset.write_bytes(data[: len(data) // 2])
    return ["demos", "info", dataset]


def _wrong_task(tmp_path, dataset):
    return ["demos", "info", dataset, "--task", "hopper"]


def _nan_observation(tmp_path, dataset):
    with h5py.File(dataset, "r+") as f:
        f["observations"][10, 1] = np.nan
    return ["demos", "info", dataset]


def _empty(tmp_path, dataset):
    with h5py.File(dataset, "r+") as f:
        for name in list(f):
            data = f[name][()][:0]
            del f[name]
            f.create_dataset(name, data=data)
    return ["demos", "info", dataset]


def _wrong_action_dimension(tmp_path, dataset):
    return ["record", "pendulum", "--agent", "controllers:wrong_dimension", "--episodes", 1, "--out", tmp_path / "x.h5"]


def _missing_file(tmp_path, dataset):
    return ["demos", "info", tmp_path / "nope.h5"]


def _unknown_task(tmp_path, dataset):
    return ["record", "no-such-task", "--agent", "controllers:zero", "--episodes", 1, "--out", tmp_path / "x.h5"]


def _bad_yaml(tmp_path, dataset):
    spec = tmp_path / "broken.yaml"
    spec.write_text("task: pendulum\nenv_id: [Pendulum-v1\nhorizon: 200\n")
    return ["record", spec, "--agent", "controllers:zero", "--episodes", 1, "--out", tmp_path / "x.h5"]


def _action_out_of_bounds(tmp_path, dataset):
    with h5py.File(dataset, "r+") as f:
        f["actions"][7, 0] = 3.5
    return ["demos", "info", dataset]


def _wrong_file_type(tmp_path, dataset):
    path = tmp_path / "notes.txt"
    path.write_text("not a dataset\n")
    return ["demos", "info", path]


CASES = {
    "truncated file": (_truncated, "truncated or corrupt"),
    "wrong task": (_wrong_task, "recorded on Pendulum-v1 but task 'hopper' is Hopper-v5"),
    "NaN observation": (_nan_observation, "non-finite value (NaN or Inf) in observations"),
    "empty dataset": (_empty, "empty dataset"),
    "wrong action dimension": (_wrong_action_dimension, "action of shape (3,)"),
    "missing file": (_missing_file, "no such file"),
    "unknown task": (_unknown_task, "unknown task 'no-such-task'"),
    "bad YAML": (_bad_yaml, "not valid YAML at line"),
    "action out of bounds": (_action_out_of_bounds, "outside the action space"),
    "wrong file type": (_wrong_file_type, "wrong file type '.txt'"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_malformed_input_gives_one_line_and_exit_2(kind, tmp_path, dataset, cli):
    make_args, expected = CASES[kind]
    code, out, err = cli(*make_args(tmp_path, dataset))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("irl-gan: error: ")
    assert expected in err
    assert "Traceback" not in out + err
    assert not (tmp_path / "x.h5").exists()


def test_console_script_exits_2_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "irl_gan.cli", "demos", "info", str(tmp_path / "missing.h5")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"irl-gan: error: {tmp_path / 'missing.h5'}: no such file"]


def test_unknown_option_is_one_line_with_a_hint(cli):
    code, _, err = cli("demos", "info", "--bogus")
    assert code == 2 and err.count("\n") == 1
    assert "--bogus" in err and "--help" in err
