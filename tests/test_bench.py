"""The benchmark runner: cells, protocols, resumption, env-step accounting and the summary's statistics."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

REPS = 500  # bootstrap replicates in these tests: the intervals' width is not what they check


def fake_row(suite, task, method, protocol, seed, budget, normalised=0.5, env_steps=None, wall=1.0):
    return {"suite": suite, "task": task, "method": method, "protocol": protocol, "seed": seed, "budget": budget,
            "env_steps": budget if env_steps is None else env_steps, "pre_training_env_steps": 0, "wall_s": wall, "eval_return": 1.0,
            "normalised": normalised}


def test_the_fair_suite_is_seven_tasks_with_every_peer_on_a_fixed_horizon_and_default_on_both():
    cells = bench.grid(bench.SUITES["fair"])
    assert {c.task for c in cells} == {"inverteddoublependulum", "reacher", "swimmer", "hopper", "halfcheetah", "walker2d", "ant"}
    per_task = {}
    for c in cells:
        if c.task == "hopper":
            per_task.setdefault((c.method, c.protocol), []).append(c.seed)
    for m in ("default", "bc", "rl", "imitation-gail", "imitation-airl", "imitation-bc"):
        assert per_task[m, "fixed"] == [0, 1, 2]
    assert per_task["default", "native"] == [0, 1, 2]
    assert per_task["gcl", "fixed"] == per_task["airl", "fixed"] == per_task["gail", "fixed"] == [0]
    assert len(cells) == 7 * (6 * 3 + 3 + 3) == bench.grid_size("fair")
    assert not any(c.protocol == "native" and c.method != "default" for c in cells)


def test_the_oracle_runs_the_expert_recipe_for_at_least_its_env_steps():
    from irl_gan.tasks import load_spec

    cells = bench.grid(bench.SUITES["fair"])
    for c in cells:
        if c.method == "rl":
            assert c.budget == max(bench.FAIR_TASKS[c.task], load_spec(c.task).expert.timesteps)
        else:
            assert c.budget == bench.FAIR_TASKS[c.task]
    assert next(c for c in cells if (c.task, c.method) == ("hopper", "rl")).budget == 2_000_000
    cmd, _, settings = bench.command("fair", bench.Cell("hopper", "rl", "fixed", 0, 2_000_000), ROOT, 100_000)
    assert cmd[1].endswith("benchmarks/oracle.py") and cmd[cmd.index("--steps") + 1] == "2000000" and settings is None


def test_default_is_irl_gan_train_with_no_algo_and_no_config_evaluated_where_the_others_are():
    from irl_gan.trainer import TrainConfig

    fixed, _, settings = bench.command("fair", bench.Cell("hopper", "default", "fixed", 1, 1_000_000), ROOT, 100_000)
    native, _, _ = bench.command("fair", bench.Cell("hopper", "default", "native", 1, 1_000_000), ROOT, 100_000)
    assert fixed[1:4] == ["-m", "irl_gan.cli", "train"] and settings is None
    assert not {"--algo", "--config", "--demo-episodes"} & set(fixed)
    assert fixed[fixed.index("--protocol") + 1] == "fixed" and "--protocol" not in native
    # default runs with TrainConfig's own evaluation settings: the fair suite evaluates every method there
    assert bench.SUITES["fair"]["eval_every"] == TrainConfig.__dataclass_fields__["eval_every"].default
    gail, _, settings = bench.command("fair", bench.Cell("hopper", "gail", "fixed", 0, 1_000_000), ROOT, 100_000)
    assert gail[gail.index("--algo") + 1] == "gail" and settings == {"eval_every": 100_000, "eval_episodes": 5}
    bc, _, _ = bench.command("fair", bench.Cell("hopper", "bc", "fixed", 0, 1_000_000), ROOT, 100_000)
    assert "--protocol" not in bc  # no env steps, no training env


def test_the_default_suites_budget_is_what_irl_gan_train_runs_on_each_task_without_steps():
    from irl_gan.config import resolve_config
    from irl_gan.tasks import load_spec

    for task, budget in bench.DEFAULT_TASKS.items():
        assert resolve_config(load_spec(task), [("test", {"demos": "d.h5"})]).steps == budget, task
    assert bench.DEFAULT_TASKS["halfcheetah"] == 2_000_000 and bench.DEFAULT_TASKS["reacher"] == 500_000


def test_peers_get_the_protocol_and_imitations_overlay():
    cmd, extra, _ = bench.command("fair", bench.Cell("ant", "imitation-airl", "fixed", 2, 1_000_000), ROOT, 100_000)
    assert cmd[1].endswith("peer_imitation.py") and cmd[cmd.index("--algo") + 1] == "airl" and cmd[cmd.index("--protocol") + 1] == "fixed"
    assert extra == {"PYTHONPATH": str(ROOT / ".peer" / "imitation")}
    bc, _, _ = bench.command("fair", bench.Cell("ant", "imitation-bc", "fixed", 2, 1_000_000), ROOT, 100_000)
    assert bc[bc.index("--algo") + 1] == "bc" and "--steps" not in bc


def test_a_dry_run_lists_the_cells_to_run_and_their_commands(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    lines = bench.dry_run("fair", bench.grid(bench.SUITES["fair"]), 100_000)
    assert len(lines) == bench.grid_size("fair")
    assert any(line.startswith("hopper-default-fixed-s0: ") and "--protocol fixed" in line for line in lines)
    assert any(line.startswith("hopper-default-s0: ") and "--protocol" not in line for line in lines)  # native keeps the old names
    cells = bench.cells_dir("fair")
    cells.mkdir(parents=True)
    (cells / "hopper-default-fixed-s0.json").write_text(json.dumps([fake_row("fair", "hopper", "default", "fixed", 0, 1_000_000)]))
    assert len(bench.dry_run("fair", bench.grid(bench.SUITES["fair"]), 100_000)) == len(lines) - 1
    # a grid of its own name, so that no finished cell of the real suite hides one
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--suite", "fair", "--name", f"dry-run-{tmp_path.name}",
                          "--tasks", "hopper:1000,ant:2000", "--dry-run", "--methods", "imitation-bc,rl", "--seeds", "0"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith(f"dry-run-{tmp_path.name}: 4 cells") and out.count("peer_imitation.py") == 2
    assert "oracle.py --task hopper --seed 0" in out and "--steps 2000000" in out  # the oracle's budget: its recipe's 2M, not 1000


def test_an_option_naming_what_the_suite_lacks_is_refused():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--suite", "fair", "--dry-run", "--protocols", "seals"],
                         capture_output=True, text=True)
    assert run.returncode != 0 and "protocols ['seals'] not in suite fair" in run.stderr


def test_env_steps_before_training_count_from_the_ranking_record_or_the_trainers_log(tmp_path):
    assert bench.pre_training_env_steps(tmp_path, []) == 0
    (tmp_path / "ranking").mkdir()
    (tmp_path / "ranking" / "levels.yaml").write_text("env_steps: 31250\ntrue_return_per_step: {demos: 1.0}\n")
    assert bench.pre_training_env_steps(tmp_path, [{"env_steps": "100"}]) == 31250
    assert bench.pre_training_env_steps(tmp_path, [{"env_steps": "100", "pre_training_env_steps": "30000"}]) == 30000


def test_a_cell_of_ours_counts_its_ranking_rollouts_in_its_env_steps(tmp_path, monkeypatch):
    def fake_run(cmd, check, cwd, env, stdout, stderr):
        out = Path(cmd[cmd.index("--out") + 1])
        (out / "ranking").mkdir(parents=True)
        (out / "ranking" / "levels.yaml").write_text("env_steps: 30000\n")
        (out / "metrics.csv").write_text("env_steps,wall_s,eval_return,eval_normalised\n50000,1.0,,\n100000,2.0,5.0,0.5\n")

    monkeypatch.setattr(bench.subprocess, "run", fake_run)
    rows = bench.run_cell("t", "halfcheetah", "gan-gcl", "native", 0, 100_000, str(tmp_path))
    assert [(r["env_steps"], r["pre_training_env_steps"], r["normalised"]) for r in rows] == [(130_000, 30_000, 0.5)]


def test_ours_on_a_fixed_horizon_train_on_it_and_irl_gan_train_takes_the_protocol(tmp_path):
    cmd, _, _ = bench.command("t", bench.Cell("hopper", "default", "fixed", 0, 100), str(tmp_path), 50)
    assert cmd[cmd.index("--protocol") + 1] == "fixed" and "--algo" not in cmd and "--config" not in cmd
    from irl_gan.cli.train_commands import train

    assert list([p for p in train.params if p.name == "protocol"][0].type.choices) == ["native", "fixed"]


def test_the_summary_reports_per_protocol_time_to_target_speed_ratio_and_where_we_are_behind():
    def curve(method, seed, values, wall, protocol="fixed"):
        return [fake_row("t", "hopper", method, protocol, seed, 300, v, env_steps=100 * (i + 1), wall=wall * (i + 1)) for i, v in enumerate(values)]

    rows = curve("default", 0, [0.5, 0.95, 0.97], 20) + curve("default", 1, [0.3, 0.6, 0.8], 20) + curve("rl", 0, [0.9, 1.0, 1.0], 10) \
        + curve("rl", 1, [0.7, 0.9, 1.0], 10) + curve("imitation-gail", 0, [0.9, 0.9, 0.95], 10) + curve("imitation-gail", 1, [0.9, 0.9, 0.95], 10) \
        + curve("default", 0, [0.9, 0.9, 0.9], 10, "native")
    text = bench.summarise("t", rows, reps=REPS)
    line = next(row for row in text.splitlines() if row.startswith("| hopper | fixed | 300 | default"))
    # final: mean of each run's last 3 evaluations (0.807 and 0.567), then over the seeds
    assert "| 2 | 0.687 [" in line and "200 (1/2)" in line and "0.50×" in line
    assert "hopper (fixed): ours `default` 0.687 is behind `imitation-gail` 0.917" in text
    assert "(native): ours" not in text  # nothing on native to compare with
    assert "| default > imitation-gail | fixed | 1 | 0.000 [0.000, 0.000] |" in text
    assert "| default | native | 1 | 1 | 0.900 [0.900, 0.900] |" in text


def test_the_summary_says_where_the_oracle_has_not_converged_and_counts_env_steps_before_training():
    rows = [fake_row("t", "hopper", "rl", "fixed", s, 2_000_000, v) for s, v in ((0, 0.95), (1, 0.8))] + \
        [fake_row("t", "swimmer", "rl", "fixed", 0, 1_000_000, 0.99), {**fake_row("t", "swimmer", "default", "fixed", 0, 100, 0.3), "pre_training_env_steps": 31_000}]
    text = bench.summarise("t", rows, reps=REPS)
    section = text.split("Where the oracle has not converged")[1].split("\n\n")[1]
    assert section.strip() == "- hopper (fixed): 0.875 after 2,000,000 env steps"
    assert "- swimmer default (fixed, seed 0): 31,000" in text


def test_the_aggregates_are_rliables_over_tasks_and_seeds():
    rows = [fake_row("t", t, m, "fixed", s, 100, v + 0.1 * s) for t, v in (("a", 0.2), ("b", 0.6)) for s in (0, 1, 2)
            for m in ("default", "imitation-airl")]
    rows = [{**r, "normalised": r["normalised"] - (0.5 if r["method"] == "imitation-airl" else 0)} for r in rows]
    text = bench.summarise("t", rows, reps=REPS)
    iqm = bench.aggregate.iqm(np.array([[0.2, 0.6], [0.3, 0.7], [0.4, 0.8]]))
    assert f"| default | fixed | 6 | 2 | {iqm:.3f} [" in text
    assert "| default > imitation-airl | fixed | 2 | 1.000 [1.000, 1.000] |" in text  # every run better: dominance


def test_runner_runs_a_cell_once_and_resumes_the_grid(tmp_path, monkeypatch):
    calls = []

    def fake_run_cell(suite, task, method, protocol, seed, budget, root, every=None):
        calls.append((task, method, protocol, seed))
        return [fake_row(suite, task, method, protocol, seed, budget)]

    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(bench, "run_cell", fake_run_cell)
    suite = {"tasks": {"pendulum": 64}, "groups": [{"methods": ["rl", "bc"], "protocols": ["fixed", "native"], "seeds": [0, 1]}]}
    bench.run_grid("t", bench.grid(suite), jobs=2, ray_address=None)
    assert sorted(calls) == [("pendulum", m, p, s) for m in ("bc", "rl") for p in ("fixed", "native") for s in (0, 1)]
    suite["groups"][0]["methods"].append("gail")
    bench.run_grid("t", bench.grid(suite), jobs=2, ray_address=None)
    assert sorted(calls[8:]) == [("pendulum", "gail", p, s) for p in ("fixed", "native") for s in (0, 1)]  # finished cells are not run again
    bench.write_results("t")
    csv_text = (tmp_path / "results" / "bench-t.csv").read_text()
    assert csv_text.splitlines()[0].startswith("suite,task,method,protocol,seed,budget,env_steps,pre_training_env_steps,wall_s,eval_return,normalised")
    assert csv_text.count("\n") == 13
    assert (tmp_path / "results" / "bench-t-pendulum.png").exists() and (tmp_path / "results" / "bench-t-profiles.png").exists()


def test_a_fresh_clone_goes_on_from_the_committed_cells_and_stops_starting_cells_at_a_deadline(tmp_path, monkeypatch):
    calls = []

    def fake_run_cell(suite, task, method, protocol, seed, budget, root, every=None):
        calls.append((task, method, seed))
        return [{**fake_row(suite, task, method, protocol, seed, budget, 0.25 if method == "rl" else ""), "wall_s": 1.5, "eval_return": 2.0}]

    monkeypatch.setattr(bench, "ROOT", tmp_path / "a")
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(bench, "run_cell", fake_run_cell)
    grid = lambda methods: bench.grid({"tasks": {"pendulum": 64}, "groups": [{"methods": methods, "protocols": ["fixed"], "seeds": [0]}]})  # noqa: E731
    bench.run_grid("t", grid(["rl", "bc"]), jobs=1, ray_address=None)
    bench.write_results("t")
    committed = (tmp_path / "results" / "bench-t.csv").read_text()
    # another clone: no runs/ of its own, the same committed results
    monkeypatch.setattr(bench, "ROOT", tmp_path / "b")
    assert bench.adopt_committed("t") == 2 and bench.adopt_committed("t") == 0
    bench.run_grid("t", grid(["rl", "bc", "gail"]), jobs=1, ray_address=None, no_new_after=0)
    assert len(calls) == 2  # the adopted cells are not run again, and gail was not started after the deadline
    bench.write_results("t")
    assert (tmp_path / "results" / "bench-t.csv").read_text() == committed  # the round trip loses nothing
    bench.run_grid("t", grid(["rl", "bc", "gail"]), jobs=1, ray_address=None)
    assert calls[2:] == [("pendulum", "gail", 0)]


def test_cells_and_results_from_before_protocols_still_count_as_native(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results")
    old = {"suite": "t", "task": "hopper", "method": "gail", "seed": 0, "budget": 64, "env_steps": 64, "wall_s": 1.0, "eval_return": 3.0,
           "eval_normalised": 0.4, "load": 1.0, "machine": "m"}
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "bench-t.csv").write_text(",".join(old) + "\n" + ",".join(str(v) for v in old.values()) + "\n")
    assert bench.adopt_committed("t") == 1
    rows = bench.finished("t")["hopper-gail-s0"]
    assert rows[0]["protocol"] == "native" and rows[0]["normalised"] == 0.4 and rows[0]["pre_training_env_steps"] == ""
    text = bench.summarise("t", rows, reps=REPS)
    assert "not recorded for 1 task/method pairs run before the count was kept: hopper gail" in text


def test_a_real_oracle_cell_returns_its_evaluation_curve(tmp_path):
    """One oracle cell (pendulum's SAC recipe) through benchmarks/oracle.py: an evaluation every budget/10 steps."""
    (tmp_path / "benchmarks").symlink_to(ROOT / "benchmarks")  # the repository at the root the cell is given
    rows = bench.run_cell("t", "pendulum", "rl", "native", 0, 1200, str(tmp_path), every=600)
    assert [r["env_steps"] for r in rows] == [600, 1200]
    assert all(np.isfinite(r["normalised"]) and r["pre_training_env_steps"] == 0 for r in rows)
    assert json.dumps(rows)  # storable as a finished cell


def test_a_changed_budget_is_refused_rather_than_mixed(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "run_cell", lambda suite, task, method, protocol, seed, budget, root, every=None: [
        fake_row(suite, task, method, protocol, seed, budget)])
    bench.run_grid("t", [bench.Cell("pendulum", "gail", "native", 0, 64)], jobs=1, ray_address=None)
    with pytest.raises(SystemExit, match="budget of 64, not 128"):
        bench.run_grid("t", [bench.Cell("pendulum", "gail", "native", 0, 128)], jobs=1, ray_address=None)


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


def test_a_stopped_oracle_cell_resumes_from_its_checkpoint(tmp_path):
    import os

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "cell"

    def oracle(steps, *extra):
        return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "oracle.py"), "--task", "invertedpendulum", "--protocol", "fixed",
                               "--steps", str(steps), "--eval-every", "2048", "--out", str(out), *extra], env=env, capture_output=True, text=True)

    assert oracle(2048).returncode == 0
    assert "pass --resume" in oracle(4096).stderr
    resumed = oracle(4096, "--resume")
    assert resumed.returncode == 0 and "resumed at 2048 env steps" in resumed.stdout
    assert [int(r.split(",")[0]) for r in (out / "metrics.csv").read_text().splitlines()[1:]] == [2048, 4096]
    assert (out / "checkpoint" / "vecnormalize.pkl").exists()  # the recipe normalises: the normaliser goes on too


def test_a_summary_of_an_unfinished_suite_says_how_much_has_run():
    rows = [fake_row("quick", "reacher", "rl", "native", 0, 100)]
    assert "Unfinished: 1 of the suite's 16 cells have run" in bench.summarise("quick", rows, reps=REPS)
    assert "Unfinished" not in bench.summarise("custom-grid", [{**rows[0], "suite": "custom-grid"}], reps=REPS)


def test_the_aggregates_of_an_unfinished_suite_take_the_tasks_with_every_seed_and_name_the_rest():
    rows = [fake_row("t", "a", "default", "native", s, 100, v) for s, v in enumerate((0.2, 0.4, 0.6))]
    rows.append(fake_row("t", "b", "default", "native", 0, 100, 1.0))
    text = bench.summarise("t", rows, reps=REPS)
    assert "| default | native | 3 | 1 | 0.400 " in text  # task a's three seeds, not a's first beside b's only
    assert "default (native) on b: 1 of 3 seeds" in text


def test_a_difference_the_tables_cannot_show_is_not_called_behind():
    def cell(method, value):
        return fake_row("t", "idp", method, "fixed", 0, 100, value)

    text = bench.summarise("t", [cell("gcl", 1.0000), cell("gail", 0.9990), cell("imitation-gail", 1.0002)], reps=REPS)
    assert "`gcl`" not in text.split("Where we are behind")[1]
    assert "ours `gail` 0.999 is behind `imitation-gail` 1.000" in text


def test_speed_is_compared_with_the_oracle_only_on_the_same_machine():
    def cell(method, machine, wall):
        return [{**fake_row("t", "hopper", method, "fixed", 0, 100, 1.0, wall=wall), "load": 2.0, "machine": machine}]

    same = bench.summarise("t", cell("gail", "m1", 20) + cell("rl", "m1", 10), reps=REPS)
    assert "| hopper | fixed | 100 | gail | 1 | 1.000 [1.000, 1.000] | 100 (1/1) | 0.3 min | 0.50× |" in same
    apart = bench.summarise("t", cell("gail", "m1", 20) + cell("rl", "m2", 10), reps=REPS)
    assert "| hopper | fixed | 100 | gail | 1 | 1.000 [1.000, 1.000] | 100 (1/1) | 0.3 min | – |" in apart and "2 machine(s)" in apart
