"""Recording: any policy in, a validated dataset with full metadata out."""

import numpy as np

from irl_gan.data import load_demos


def test_record_a_python_controller_writes_a_valid_dataset(tmp_path, cli):
    out = tmp_path / "pd.h5"
    code, stdout, err = cli("record", "pendulum", "--agent", "controllers:pendulum_swing_up", "--episodes", 3, "--seed", 5, "--out", out)
    assert code == 0, err
    demos = load_demos(out)
    assert [e.seed for e in demos.episodes] == [5, 6, 7]
    assert demos.meta["agent"] == {"callable": "controllers:pendulum_swing_up"}
    assert demos.meta["source"] == "irl-gan record"
    assert "episodes     3" in stdout and "return" in stdout


def test_recording_is_reproducible_from_the_seed(tmp_path, cli):
    for name in ("a.h5", "b.h5"):
        assert cli("record", "pendulum", "--agent", "controllers:pendulum_swing_up", "--episodes", 2, "--out", tmp_path / name)[0] == 0
    a, b = load_demos(tmp_path / "a.h5"), load_demos(tmp_path / "b.h5")
    for ea, eb in zip(a.episodes, b.episodes):
        np.testing.assert_array_equal(ea.observations, eb.observations)
        np.testing.assert_array_equal(ea.actions, eb.actions)


def test_a_better_controller_records_a_higher_return(tmp_path, cli):
    cli("record", "pendulum", "--agent", "controllers:pendulum_swing_up", "--episodes", 3, "--out", tmp_path / "pd.h5")
    cli("record", "pendulum", "--agent", "controllers:zero", "--episodes", 3, "--out", tmp_path / "zero.h5")
    assert load_demos(tmp_path / "pd.h5").returns.mean() > load_demos(tmp_path / "zero.h5").returns.mean()


def test_interrupted_recording_leaves_no_dataset(tmp_path, cli):
    out = tmp_path / "partial.h5"
    code, _, _ = cli("record", "pendulum", "--agent", "controllers:interrupts_after_50_steps", "--episodes", 2, "--out", out)
    assert code == 130
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_not_overwritten_without_force(tmp_path, cli):
    out = tmp_path / "d.h5"
    assert cli("record", "pendulum", "--agent", "controllers:zero", "--episodes", 1, "--out", out)[0] == 0
    before = out.read_bytes()
    code, _, err = cli("record", "pendulum", "--agent", "controllers:pendulum_swing_up", "--episodes", 1, "--out", out)
    assert code == 2 and "already exists" in err
    assert out.read_bytes() == before
    assert cli("record", "pendulum", "--agent", "controllers:pendulum_swing_up", "--episodes", 1, "--out", out, "--force")[0] == 0
    assert out.read_bytes() != before


def test_non_finite_actions_are_refused(tmp_path, cli):
    code, _, err = cli("record", "pendulum", "--agent", "controllers:nan_action", "--episodes", 1, "--out", tmp_path / "x.h5")
    assert code == 2 and "non-finite action" in err
