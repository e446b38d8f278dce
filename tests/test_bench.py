"""The benchmark runner: cells, resumption and the summary's statistics."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_iqm_and_bootstrap_interval():
    assert bench.iqm([0, 1, 2, 3, 4, 5, 6, 100]) == pytest.approx(np.mean([2, 3, 4, 5]))
    lo, hi = bench.bootstrap_ci([0.2, 0.4, 0.6])
    assert 0.2 <= lo < 0.4 < hi <= 0.6
    assert bench.bootstrap_ci([0.5]) == (0.5, 0.5)


def test_summary_reports_time_to_target_speed_ratio_and_where_we_are_behind():
    def curve(method, seed, values, wall):
        return [{"suite": "t", "task": "hopper", "method": method, "seed": seed, "budget": 300, "env_steps": 100 * (i + 1),
                 "wall_s": wall * (i + 1), "eval_return": 0.0, "eval_normalised": v} for i, v in enumerate(values)]

    rows = curve("gan-gcl", 0, [0.5, 0.95, 0.97], 20) + curve("gan-gcl", 1, [0.3, 0.6, 0.8], 20) + curve("rl", 0, [0.9, 1.0, 1.0], 10) \
        + curve("rl", 1, [0.7, 0.9, 1.0], 10) + curve("imitation-gail", 0, [0.9, 0.9, 0.95], 10) + curve("imitation-gail", 1, [0.9, 0.9, 0.95], 10)
    text = bench.summarise("t", rows)
    gan = next(line for line in text.splitlines() if line.startswith("| hopper | 300 | gan-gcl"))
    # final: mean of each run's last 3 evaluations (0.807 and 0.567), then over the seeds
    assert "0.687" in gan and "200 (1/2)" in gan and "0.50×" in gan
    assert "ours `gan-gcl` 0.687 is behind `imitation-gail` 0.917" in text


def test_runner_runs_a_cell_once_and_resumes_the_grid(tmp_path, monkeypatch):
    calls = []

    def fake_run_cell(suite, task, method, seed, budget, root, every=None):
        calls.append((task, method, seed))
        return [{"suite": suite, "task": task, "method": method, "seed": seed, "budget": budget, "env_steps": budget, "wall_s": 1.0,
                 "eval_return": 1.0, "eval_normalised": 0.5}]

    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(bench, "run_cell", fake_run_cell)
    bench.run_grid("t", {"pendulum": 64}, ["rl", "bc"], [0, 1], jobs=2, ray_address=None)
    assert sorted(calls) == [("pendulum", m, s) for m in ("bc", "rl") for s in (0, 1)]
    bench.run_grid("t", {"pendulum": 64}, ["rl", "bc", "gail"], [0, 1], jobs=2, ray_address=None)
    assert sorted(calls[4:]) == [("pendulum", "gail", 0), ("pendulum", "gail", 1)]  # finished cells are not run again
    bench.write_results("t")
    assert (tmp_path / "results" / "bench-t.csv").read_text().count("\n") == 7
    assert (tmp_path / "results" / "bench-t-pendulum.png").exists()


def test_a_fresh_clone_goes_on_from_the_committed_cells_and_stops_starting_cells_at_a_deadline(tmp_path, monkeypatch):
    calls = []

    def fake_run_cell(suite, task, method, seed, budget, root, every=None):
        calls.append((task, method, seed))
        return [{"suite": suite, "task": task, "method": method, "seed": seed, "budget": budget, "env_steps": budget, "wall_s": 1.5,
                 "eval_return": 2.0, "eval_normalised": 0.25 if method == "rl" else ""}]

    monkeypatch.setattr(bench, "ROOT", tmp_path / "a")
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(bench, "run_cell", fake_run_cell)
    bench.run_grid("t", {"pendulum": 64}, ["rl", "bc"], [0], jobs=1, ray_address=None)
    bench.write_results("t")
    committed = (tmp_path / "results" / "bench-t.csv").read_text()
    # another clone: no runs/ of its own, the same committed results
    monkeypatch.setattr(bench, "ROOT", tmp_path / "b")
    assert bench.adopt_committed("t") == 2 and bench.adopt_committed("t") == 0
    bench.run_grid("t", {"pendulum": 64}, ["rl", "bc", "gail"], [0], jobs=1, ray_address=None, no_new_after=0)
    assert len(calls) == 2  # the adopted cells are not run again, and gail was not started after the deadline
    bench.write_results("t")
    assert (tmp_path / "results" / "bench-t.csv").read_text() == committed  # the round trip loses nothing
    bench.run_grid("t", {"pendulum": 64}, ["rl", "bc", "gail"], [0], jobs=1, ray_address=None)
    assert calls[2:] == [("pendulum", "gail", 0)]


def test_a_real_cell_returns_its_evaluation_curve(tmp_path):
    """One oracle cell through irl-gan train: an evaluation every budget/10 steps."""
    (tmp_path / "demos").mkdir()
    (tmp_path / "demos" / "pendulum.h5").symlink_to(ROOT / "demos" / "pendulum.h5")
    rows = bench.run_cell("t", "pendulum", "rl", 0, 4096, str(tmp_path))
    assert [r["env_steps"] for r in rows][-1] == 4096 and len(rows) >= 2
    assert all(np.isfinite(r["eval_normalised"]) for r in rows)
    assert json.dumps(rows)  # storable as a finished cell


def test_a_changed_budget_is_refused_rather_than_mixed(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "run_cell", lambda suite, task, method, seed, budget, root, every=None: [
        {"suite": suite, "task": task, "method": method, "seed": seed, "budget": budget, "env_steps": budget, "wall_s": 1.0,
         "eval_return": 1.0, "eval_normalised": 0.5}])
    bench.run_grid("t", {"pendulum": 64}, ["rl"], [0], jobs=1, ray_address=None)
    with pytest.raises(SystemExit, match="budget of 64, not 128"):
        bench.run_grid("t", {"pendulum": 128}, ["rl"], [0], jobs=1, ray_address=None)


def _curve_row(tmp_path, label, config, metrics):
    """run_curves' table row for a run directory holding ``config`` and ``metrics`` (CSV text)."""
    import yaml

    spec_ = importlib.util.spec_from_file_location("run_curves", ROOT / "benchmarks" / "run_curves.py")
    run_curves = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(run_curves)
    run = tmp_path / label
    run.mkdir()
    base = {"algo": "gan-gcl", "generator": "ppo", "n_envs": 1, "ppo": {"learning_rate": 1e-4}, "disc_updates": 4, "cost_lr": 3e-4}
    (run / "config.yaml").write_text(yaml.safe_dump({**base, **config}))
    (run / "metrics.csv").write_text(metrics)
    return run_curves.row(label, run)


def test_run_curves_reports_the_first_evaluation_at_target_and_a_stopped_run(tmp_path):
    line = _curve_row(tmp_path, "mine", {"steps": 400, "grad_penalty": 10.0},
                      "env_steps,wall_s,eval_normalised\n100,60,0.5\n150,80,\n200,120,0.93\n300,180,0.85\n")
    assert "200 steps, 2 min" in line and "| 0.930 |" in line and "stopped at 300 of 400" in line and "gradient penalty 10.0" in line


def test_run_curves_does_not_credit_a_cloned_start_to_training(tmp_path):
    line = _curve_row(tmp_path, "cloned", {"steps": 200, "bc_init": 500, "entropy_reward": False},
                      "env_steps,wall_s,eval_normalised\n0,30,0.95\n100,60,0.4\n200,120,0.6\n")
    assert "not reached" in line and "| 0.600 |" in line and "0k: 0.95" in line
    assert "cloned first (500 BC steps" in line and "no -log π in the reward" in line


def test_cost_rounds_counts_only_rounds_from_the_start_and_the_demo_lapses(tmp_path):
    spec_ = importlib.util.spec_from_file_location("cost_rounds", ROOT / "experiments" / "sac-generator" / "cost_rounds.py")
    cost_rounds = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(cost_rounds)
    run = tmp_path / "run"
    run.mkdir()
    # Rows without a cost round (no disc_acc_demo) and rounds before the start are left out.
    (run / "metrics.csv").write_text(
        "env_steps,disc_acc_demo,disc_acc_gen,energy_demo,energy_gen,ent_coef\n"
        "50,0.0,0.0,0.0,100.0,9.0\n100,0.9,0.7,-3.0,-2.0,0.03\n150,,,,,\n200,0.1,0.7,-3.0,-2.0,0.03\n"
        "300,0.9,0.7,-3.0,-2.0,0.03\n400,0.9,0.7,-3.0,-2.0,0.03\n")
    line = cost_rounds.row("mine", run, 100)
    assert line.startswith("| mine (0k–0k) |") and "| 1.00, 1.00, 1.00 |" in line and "| 0.03, 0.03, 0.03 |" in line
    assert line.endswith("| 25.0% |")
    with pytest.raises(SystemExit, match="no cost rounds from env step 500"):
        cost_rounds.row("mine", run, 500)


@pytest.mark.skipif(not (ROOT / ".peer" / "imitation" / "imitation").is_dir(), reason="the peer is installed by `make peer-imitation`")
def test_a_stopped_peer_cell_resumes_from_its_checkpoint(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT / ".peer" / "imitation"), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "cell"

    def peer(steps, *extra):
        return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "peer_imitation.py"), "--task", "invertedpendulum", "--algo", "gail",
                               "--steps", str(steps), "--eval-every", "2048", "--out", str(out), *extra], env=env, capture_output=True, text=True)

    assert peer(2048).returncode == 0
    first = (out / "checkpoint" / "ppo.zip").read_bytes()
    refused = peer(4096)  # a checkpoint is there: starting over would lose it
    assert refused.returncode != 0 and "pass --resume" in refused.stderr
    resumed = peer(4096, "--resume")
    assert resumed.returncode == 0 and "resumed at 2048 env steps" in resumed.stdout
    rows = (out / "metrics.csv").read_text().splitlines()[1:]
    assert [int(r.split(",")[0]) for r in rows] == [2048, 4096]
    assert float(rows[1].split(",")[1]) > float(rows[0].split(",")[1])  # wall-clock goes on from the first session's
    assert (out / "checkpoint" / "ppo.zip").read_bytes() != first


def test_a_summary_of_an_unfinished_suite_says_how_much_has_run():
    rows = [{"suite": "quick", "task": "reacher", "method": "rl", "seed": 0, "budget": 100, "env_steps": 100, "wall_s": 1.0,
             "eval_return": 0.0, "eval_normalised": 0.5}]
    assert "Unfinished: 1 of the suite's 16 cells have run" in bench.summarise("quick", rows)
    assert "Unfinished" not in bench.summarise("custom-grid", [{**rows[0], "suite": "custom-grid"}])


def test_a_difference_the_tables_cannot_show_is_not_called_behind():
    def cell(method, value):
        return {"suite": "t", "task": "idp", "method": method, "seed": 0, "budget": 100, "env_steps": 100, "wall_s": 1.0,
                "eval_return": 0.0, "eval_normalised": value}

    text = bench.summarise("t", [cell("gcl", 1.0000), cell("gail", 0.9990), cell("imitation-gail", 1.0002)])
    assert "`gcl`" not in text.split("Where we are behind")[1]
    assert "ours `gail` 0.999 is behind `imitation-gail` 1.000" in text


def test_speed_is_compared_with_the_oracle_only_on_the_same_machine():
    def cell(method, machine, wall):
        return [{"suite": "t", "task": "hopper", "method": method, "seed": 0, "budget": 100, "env_steps": 100, "wall_s": wall,
                 "eval_return": 0.0, "eval_normalised": 1.0, "load": 2.0, "machine": machine}]

    same = bench.summarise("t", cell("gail", "m1", 20) + cell("rl", "m1", 10))
    assert "| hopper | 100 | gail | 1 | 1.000 [1.000, 1.000] | 100 (1/1) | 0.3 min | 0.50× |" in same
    apart = bench.summarise("t", cell("gail", "m1", 20) + cell("rl", "m2", 10))
    assert "| hopper | 100 | gail | 1 | 1.000 [1.000, 1.000] | 100 (1/1) | 0.3 min | – |" in apart and "2 machine(s)" in apart
