"""`irl-gan verify`: the identities printed with their discrepancies, on random data and demos."""

import re

from helpers import record_pendulum


def test_verify_on_random_data_passes_and_prints_each_identity(cli):
    code, out, err = cli("verify", "--segment", "1", "--segment", "7")
    assert code == 0, err
    for n in ("1. log Z*", "2. grad_theta", "3. L_gen"):
        assert out.count(n) == 4  # two K values x two log-density scales
    worst = float(re.search(r"largest discrepancy ([0-9.e+-]+)", out).group(1))
    assert worst < 1e-8


def test_verify_on_a_demo_file_against_a_fresh_policy(tmp_path, cli):
    demos = record_pendulum(tmp_path / "d.h5", episodes=3)
    code, out, err = cli("verify", "--demos", demos, "--segment", "1", "--segment", "full")
    assert code == 0, err
    assert "fresh PPO on Pendulum-v1: K=1," in out and "K=200," in out
    assert "all identities hold" in out


def test_an_impossible_tolerance_fails_with_exit_1(cli):
    code, out, _ = cli("verify", "--segment", "1", "--tol", "0")
    assert code == 1 and "IDENTITY VIOLATED" in out


def test_bad_segment_length_is_a_one_line_error(cli):
    code, _, err = cli("verify", "--segment", "zero")
    assert code == 2 and err.count("\n") == 1 and "--segment 'zero'" in err
