"""The benchmark runner: task x method x protocol x seed at a common env-step budget per task, with
4 demonstrations, ours next to the `imitation` library and the RL oracle.

Methods:

* ours, each ``irl-gan train``: ``default`` (no --algo and no --config: the default recipe),
  ``gan-gcl`` (at its best segment length K per task, from benchmarks/results/segments.md),
  ``gcl``, ``airl``, ``gail`` and ``bc`` (no env steps);
* peers: ``imitation-gail``, ``imitation-airl`` and ``imitation-bc`` (imitation 1.0.1 as its authors
  run it on MuJoCo: benchmarks/peer_imitation.py, settings in benchmarks/peer_settings.yaml, in its
  own overlay: ``make peer-imitation``), on the same demo episodes as ``default``;
* the oracle ``rl``: RL on the true reward with the task's expert recipe (benchmarks/oracle.py),
  for at least the recipe's env steps.

Protocols (irl_gan.protocols) say how the training envs end episodes: ``fixed``, every episode
lasting the horizon (as imitation runs its own benchmark), or ``native``, the standard task.
Evaluation is always on the standard task: deterministic actions, 5 episodes with seeds from
1,000,000, every budget/10 env steps (or the suite's ``eval_every``). Env steps count every
rollout a method makes, those before training too (gan-gcl's ranking with ``rank_weight``).

Each finished cell is stored in ``runs/bench/SUITE/cells/`` as JSON on the machine that runs this
script, and is never run again: the runner resumes where it stopped (an unfinished cell continues
from its last checkpoint). The results, one row per evaluation, go to
benchmarks/results/bench-SUITE.csv, with the summary (bench-SUITE.md: rliable's aggregates from
benchmarks/aggregate.py), learning curves (bench-SUITE-TASK.png) and performance profiles
(bench-SUITE-profiles.png) written from it.

Cells run as local processes, ``--jobs`` at a time (one core each). With ``--ray auto`` or
``--ray ADDRESS`` the same cells go to a Ray cluster, one CPU each; every node needs this
repository and its .venv (and .peer for the peers) at the same path.

    .venv/bin/python benchmarks/bench.py --suite default --jobs 2     # make bench-default (the recipe, 7 tasks)
    .venv/bin/python benchmarks/bench.py --suite fair --dry-run       # the cells and their commands
    .venv/bin/python benchmarks/bench.py --suite fair --jobs 2        # make bench-fair (days)
    .venv/bin/python benchmarks/bench.py --suite quick --jobs 2       # make bench-quick
    .venv/bin/python benchmarks/bench.py --suite full --ray auto      # on a Ray cluster
    .venv/bin/python benchmarks/bench.py --summarise-only --suite fair # tables and plots from the cells

A suite spread over several machines or fresh clones goes on from the committed results with
``--adopt-committed`` (their cells count as finished), and ``--no-new-after MINUTES`` starts no
cell after that many minutes, so that a session ends between cells rather than in one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))
import aggregate  # noqa: E402

OURS = ("default", "gan-gcl", "gcl", "airl", "gail", "bc")
PEERS = ("imitation-gail", "imitation-airl", "imitation-bc")
ORACLE = "rl"
METHODS = (*OURS, *PEERS, ORACLE)
NO_ENV_STEPS = ("bc", "imitation-bc")
PROTOCOLS = ("fixed", "native")
# gan-gcl's segment length per task: the best K of benchmarks/results/segments.md where measured.
BEST_K = {"inverteddoublependulum": 10}
# The methods of the suites measured before `default`, imitation's BC and the protocols existed.
FIRST_METHODS = ["gan-gcl", "gcl", "airl", "gail", "bc", "imitation-gail", "imitation-airl", "rl"]


def task_budgets(tasks) -> dict[str, int]:
    """Each task's budget: its spec's ``train: steps``, what ``irl-gan train --task T`` runs without --steps."""
    from irl_gan.tasks import load_spec

    return {task: int(load_spec(task).train["steps"]) for task in tasks}


# The default recipe's tasks and budgets; the fair suite uses the same, so its `default` cells may be
# adopted from bench-default where the protocol is the same.
DEFAULT_TASKS = task_budgets(("inverteddoublependulum", "reacher", "swimmer", "hopper", "halfcheetah", "walker2d", "ant"))
FAIR_TASKS = DEFAULT_TASKS
SUITES = {
    # Two tasks, one seed, the first methods; the oracle runs to its recipe's length (200k, 500k).
    "quick": {"tasks": {"invertedpendulum": 50_000, "reacher": 100_000}, "groups": [{"methods": FIRST_METHODS, "seeds": [0]}]},
    # The first committed comparison: env-step budget per task, 3 seeds.
    "full": {"tasks": {"inverteddoublependulum": 300_000, "swimmer": 1_000_000, "hopper": 1_000_000, "halfcheetah": 1_000_000,
                       "walker2d": 1_000_000}, "groups": [{"methods": FIRST_METHODS, "seeds": [0, 1, 2]}]},
    # Issue 4's quality target: gan-gcl against the oracle, evaluated every 50k steps.
    "quality": {"tasks": {"hopper": 1_000_000, "halfcheetah": 1_000_000}, "groups": [{"methods": ["gan-gcl", "rl"], "seeds": [0]}],
                "eval_every": 50_000},
    # The default recipe (no --config) on every task, 3 seeds, beside the oracle for env steps to 0.9.
    "default": {"tasks": DEFAULT_TASKS, "eval_every": 100_000, "groups": [{"methods": ["default", "rl"], "protocols": ["native"], "seeds": [0, 1, 2]}]},
    # A benchmark the peer's authors would accept: imitation as they run it, on a fixed horizon as
    # they benchmark, ours beside it on both protocols. eval_every is TrainConfig's own, so that
    # `default` (run with no --config) is evaluated where every other method is.
    "fair": {"tasks": FAIR_TASKS, "eval_every": 100_000, "groups": [
        {"methods": ["default", "bc", "rl", "imitation-gail", "imitation-airl", "imitation-bc"], "protocols": ["fixed"], "seeds": [0, 1, 2]},
        {"methods": ["default"], "protocols": ["native"], "seeds": [0, 1, 2]},
        {"methods": ["gcl", "airl", "gail"], "protocols": ["fixed"], "seeds": [0]}]},
}
MAKE_TARGETS = {"quick": "; `make bench-quick`", "full": "; `make bench`", "fair": "; `make bench-fair`", "default": "; `make bench-default`"}
FIELDS = ["suite", "task", "method", "protocol", "seed", "budget", "env_steps", "pre_training_env_steps", "wall_s", "eval_return", "normalised",
          "load", "machine"]
TARGET = 0.9
LAST = 3  # evaluations averaged into a run's final score
PRECISION = 0.0005  # differences of final scores below this do not show in the tables


class Cell(NamedTuple):
    task: str
    method: str
    protocol: str
    seed: int
    budget: int


# ---------------------------------------------------------------------------- one cell


def cell_name(task: str, method: str, protocol: str, seed: int) -> str:
    """A cell's file name. Native cells keep the names they had before protocols existed, so that
    their finished cells still count."""
    return f"{task}-{method}-s{seed}" if protocol == "native" else f"{task}-{method}-{protocol}-s{seed}"


def oracle_budget(task: str, budget: int) -> int:
    """The oracle's env steps: at least its expert recipe's, so that it is a reference."""
    from irl_gan.tasks import load_spec

    recipe = load_spec(task).expert
    return max(budget, recipe.timesteps) if recipe is not None else budget


def cell_dir(root: str | Path, suite: str, cell: Cell) -> Path:
    return Path(root) / "runs" / "bench" / suite / cell_name(cell.task, cell.method, cell.protocol, cell.seed)


def command(suite: str, cell: Cell, root: str | Path, every: int) -> tuple[list[str], dict, dict | None]:
    """How a cell runs: the command, extra environment variables and, for ours, the evaluation
    settings of its ``--config`` file (None: no --config). The command goes on from a checkpoint
    where the cell's directory holds one."""
    from irl_gan.io import latest_dir

    root = Path(root)
    out = cell_dir(root, suite, cell)
    task, method, protocol, seed, budget = cell
    common = ["--task", task, "--seed", str(seed), "--out", str(out)]
    if method in PEERS:
        algo = method.split("-", 1)[1]
        cmd = [sys.executable, str(root / "benchmarks" / "peer_imitation.py"), *common, "--algo", algo, "--protocol", protocol]
        if algo != "bc":
            cmd += ["--steps", str(budget), "--eval-every", str(every)] + (["--resume"] if latest_dir(out / "checkpoint") else [])
        return cmd, {"PYTHONPATH": str(root / ".peer" / "imitation")}, None
    if method == ORACLE:
        cmd = [sys.executable, str(root / "benchmarks" / "oracle.py"), *common, "--protocol", protocol, "--steps", str(budget), "--eval-every", str(every)]
        return cmd + (["--resume"] if latest_dir(out / "checkpoint") else []), {}, None
    cmd = [sys.executable, "-m", "irl_gan.cli", "train", *common, "--demos", str(root / "demos" / f"{task}.h5"), "--steps", str(budget), "--no-progress"]
    settings = None
    if method != "default":
        settings = {"eval_every": every, "eval_episodes": 5}
        cmd += ["--algo", method, "--demo-episodes", "4", "--config", str(out.with_suffix(".eval.yaml"))]
    if method == "gan-gcl":
        cmd += ["--segment", str(BEST_K.get(task, 1))]
    if protocol != "native" and method not in NO_ENV_STEPS:
        cmd += ["--protocol", protocol]  # bc takes no env steps: there is no training env to change
    if (out / "config.yaml").exists() and method != "bc":
        cmd.append("--resume")
    return cmd, {}, settings


def pre_training_env_steps(out: Path, metrics: list[dict]) -> int | None:
    """Env steps a run of ours made before its first training step: the trainer's
    ``pre_training_env_steps`` in metrics.csv where it logs one, else the drex ranking's rollouts
    (``rank_weight``) that RUN/ranking/levels.yaml records; 0 without a ranking."""
    import yaml

    logged = [r["pre_training_env_steps"] for r in metrics if r.get("pre_training_env_steps") not in (None, "")]
    if logged:
        return int(float(logged[-1]))
    levels = out / "ranking" / "levels.yaml"
    if levels.exists():
        return int(yaml.safe_load(levels.read_text())["env_steps"])
    return 0


def run_cell(suite: str, task: str, method: str, protocol: str, seed: int, budget: int, root: str, every: int | None = None) -> list[dict]:
    """Train one cell and return its evaluation curve (one row per evaluation). Runs anywhere the
    repository is at ``root``: in a thread here, or in a Ray worker."""
    import shutil

    from irl_gan.io import atomic_write_text

    cell = Cell(task, method, protocol, seed, budget)
    out = cell_dir(root, suite, cell)
    every = every or max(1, budget // 10)
    if method in PEERS and not (Path(root) / ".peer" / "imitation" / "imitation").is_dir():
        raise RuntimeError(f"{method}: imitation is not installed in {Path(root) / '.peer'}; run `make peer-imitation`")
    if out.exists() and method in NO_ENV_STEPS:
        shutil.rmtree(out)  # no checkpoint needed (bc takes minutes): the cell starts over
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd, extra, settings = command(suite, cell, root, every)
    if settings is not None:
        atomic_write_text(out.with_suffix(".eval.yaml"), json.dumps(settings))  # JSON is YAML
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for key, value in extra.items():
        env[key] = os.pathsep.join([value, env.get(key, "")]).rstrip(os.pathsep)
    log = out.with_suffix(".log")
    try:
        with open(log, "a") as f:
            subprocess.run(cmd, check=True, cwd=root, env=env, stdout=f, stderr=subprocess.STDOUT)
    except subprocess.CalledProcessError:
        raise RuntimeError(f"{out.name} failed; see {log}") from None
    with open(out / "metrics.csv", newline="") as f:
        metrics = list(csv.DictReader(f))
    pre = pre_training_env_steps(out, metrics) if method in OURS else 0
    return [{"suite": suite, "task": task, "method": method, "protocol": protocol, "seed": seed, "budget": budget,
             "env_steps": int(float(r["env_steps"])) + pre, "pre_training_env_steps": pre, "wall_s": float(r["wall_s"]),
             "eval_return": float(r["eval_return"]), "normalised": float(r["eval_normalised"]) if r.get("eval_normalised") else ""}
            for r in metrics if r.get("eval_return")]


# ---------------------------------------------------------------------------- the grid


def grid(spec: dict, tasks: dict[str, int] | None = None, methods: list[str] | None = None, seeds: list[int] | None = None,
         protocols: list[str] | None = None) -> list[Cell]:
    """The cells of a suite (its groups: methods x protocols x seeds on every task), those of
    ``methods``, ``seeds`` and ``protocols`` alone where given; the oracle at its own budget."""
    cells = {}
    for t, b in (tasks or spec["tasks"]).items():
        for g in spec["groups"]:
            for s in g["seeds"]:
                for m in g["methods"]:
                    for p in g.get("protocols", ["native"]):
                        if (methods is None or m in methods) and (seeds is None or s in seeds) and (protocols is None or p in protocols):
                            cells[(t, m, p, s)] = Cell(t, m, p, s, oracle_budget(t, b) if m == ORACLE else b)
    return list(cells.values())


def machine_id() -> str:
    """Which machine (and boot of it) a cell ran on: wall-clock compares only cells of one machine.
    Two machines of the same kind ran the same cells 4-9x apart, at similar loads."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        import platform

        return platform.node()[:16]


def cells_dir(suite: str) -> Path:
    return ROOT / "runs" / "bench" / suite / "cells"


def finished(suite: str) -> dict[str, list[dict]]:
    """The suite's finished cells by name: their rows, in this runner's form whatever runner stored them."""
    d = cells_dir(suite)
    return {p.stem: [read_row(r) for r in json.loads(p.read_text())] for p in sorted(d.glob("*.json"))} if d.is_dir() else {}


def read_row(r: dict) -> dict:
    """A row of a results CSV, written by this runner or by one before protocols (no protocol:
    native; ``eval_normalised`` for ``normalised``; no count of pre-training env steps: unknown)."""
    norm = r.get("normalised", r.get("eval_normalised", ""))
    pre = r.get("pre_training_env_steps", "")
    load = r.get("load", "")
    return {"suite": r["suite"], "task": r["task"], "method": r["method"], "protocol": r.get("protocol") or "native", "seed": int(r["seed"]),
            "budget": int(r["budget"]), "env_steps": int(r["env_steps"]), "pre_training_env_steps": int(pre) if pre not in ("", None) else "",
            "wall_s": float(r["wall_s"]), "eval_return": float(r["eval_return"]), "normalised": float(norm) if norm not in ("", None) else "",
            "load": float(load) if load not in ("", None) else "", "machine": r.get("machine") or ""}


def adopt_committed(suite: str) -> int:
    """Take the cells of the committed benchmarks/results/bench-SUITE.csv as finished here, so that a
    suite spread over several machines (or fresh clones) goes on where the committed results end
    instead of measuring those cells again. Cells already finished here are kept as they are.
    Returns how many cells were adopted."""
    from irl_gan.io import atomic_write_text

    path = RESULTS / f"bench-{suite}.csv"
    if not path.exists():
        return 0
    cells: dict[str, list[dict]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            row = read_row(r)
            cells.setdefault(cell_name(row["task"], row["method"], row["protocol"], row["seed"]), []).append(row)
    have = finished(suite)
    new = {name: rows for name, rows in cells.items() if name not in have}
    if new:
        cells_dir(suite).mkdir(parents=True, exist_ok=True)
    for name, rows in new.items():
        atomic_write_text(cells_dir(suite) / f"{name}.json", json.dumps(rows))
    return len(new)


class NotStarted(Exception):
    """A cell left for the next run: --no-new-after had passed when its turn came."""


def dry_run(suite: str, cells: list[Cell], every: int | None) -> list[str]:
    """One line per cell still to run: its name and its command."""
    done = finished(suite)
    lines = []
    for c in cells:
        if cell_name(c.task, c.method, c.protocol, c.seed) in done:
            continue
        cmd, extra, settings = command(suite, c, ROOT, every or max(1, c.budget // 10))
        env = "".join(f"{k}={v} " for k, v in extra.items())
        note = f"  # --config: {json.dumps(settings)}" if settings else ""
        lines.append(f"{cell_name(c.task, c.method, c.protocol, c.seed)}: {env}{' '.join(cmd)}{note}")
    return lines


def run_grid(suite: str, cells: list[Cell], jobs: int, ray_address: str | None, every: int | None = None, no_new_after: float | None = None) -> None:
    from irl_gan.io import atomic_write_text

    done = finished(suite)
    for c in cells:
        rows = done.get(cell_name(c.task, c.method, c.protocol, c.seed))
        if rows and int(rows[-1]["budget"]) != c.budget:
            sys.exit(f"bench.py: {suite} cell {cell_name(c.task, c.method, c.protocol, c.seed)} was run with a budget of {rows[-1]['budget']}, "
                     f"not {c.budget}; give the changed grid a new --name (or delete runs/bench/SUITE to start over)")
    todo = [c for c in cells if cell_name(c.task, c.method, c.protocol, c.seed) not in done]
    print(f"{suite}: {len(cells) - len(todo)} cells finished, {len(todo)} to run", flush=True)
    if not todo:
        return
    cells_dir(suite).mkdir(parents=True, exist_ok=True)
    start = time.time()
    failures, left = [], []
    deadline = start + 60 * no_new_after if no_new_after is not None else None
    machine = machine_id()

    def run_local(suite, c, root, every):
        if deadline is not None and time.time() > deadline:
            raise NotStarted
        return run_cell(suite, *c, root, every)

    def store(c, rows):
        load = os.getloadavg()[0]  # how busy the machine was: wall-clock figures depend on it
        rows = [{**r, "load": round(load, 2), "machine": machine} for r in rows]
        name = cell_name(c.task, c.method, c.protocol, c.seed)
        atomic_write_text(cells_dir(suite) / f"{name}.json", json.dumps(rows))
        last = rows[-1] if rows else {}
        print(f"  {name}: {last.get('env_steps')} env steps, normalised {last.get('normalised')}  ({(time.time() - start) / 60:.1f} min)", flush=True)

    if ray_address:
        try:
            import ray
        except ImportError:
            sys.exit("bench.py: --ray needs Ray; install it with `pip install 'ray[default]'`")
        ray.init(address=ray_address)
        remote = ray.remote(num_cpus=1)(run_cell)
        pending = {remote.remote(suite, *c, str(ROOT), every): c for c in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            c = pending.pop(ready[0])
            try:
                store(c, ray.get(ready[0]))
            except Exception as exc:  # noqa: BLE001 - one failed cell must not stop the others
                failures.append(f"{cell_name(c.task, c.method, c.protocol, c.seed)}: {exc}")
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_local, suite, c, str(ROOT), every): c for c in todo}
            for fut in as_completed(futures):
                c = futures[fut]
                try:
                    store(c, fut.result())
                except NotStarted:
                    left.append(cell_name(c.task, c.method, c.protocol, c.seed))
                except Exception as exc:  # noqa: BLE001
                    failures.append(f"{cell_name(c.task, c.method, c.protocol, c.seed)}: {exc}")
    if left:
        print(f"{len(left)} cells not started (--no-new-after {no_new_after:g} min had passed); run again to go on", flush=True)
    if failures:
        print("failed cells (run again to retry):\n  " + "\n  ".join(failures), file=sys.stderr)


# ---------------------------------------------------------------------------- summaries


def score(r: dict) -> float:
    return float(r["normalised"]) if r["normalised"] != "" else np.nan


def final_score(curve: list[dict]) -> float:
    """Mean normalised return of the run's last evaluations (NaN for a task without scores)."""
    return float(np.mean([score(r) for r in curve[-LAST:]]))


def grid_size(suite: str) -> int | None:
    """Cells in a named suite's whole grid (None for a custom grid)."""
    return len(grid(SUITES[suite])) if suite in SUITES else None


def speed(curve: list[dict]) -> float:
    """Env steps per second of a whole run, evaluations included."""
    return curve[-1]["env_steps"] / max(curve[-1]["wall_s"], 1e-9)


def ran_as(seed: int, curve: list[dict]) -> tuple[int, str]:
    """The seed and the machine of a run: speeds compare only between runs of one machine."""
    return seed, curve[-1].get("machine", "")


def label(method: str, protocol: str, protocols: list[str]) -> str:
    return method if len(protocols) < 2 else f"{method} ({protocol})"


def score_matrix(finals: dict[str, list[float]], tasks: list[str]) -> np.ndarray:
    """(runs, tasks) of final scores, as rliable takes them: a task with more seeds than another
    gives its first ones."""
    runs = min(len(finals[t]) for t in tasks)
    return np.array([finals[t][:runs] for t in tasks]).T


def by_cell(rows: list[dict]) -> dict[tuple, list[dict]]:
    cells: dict[tuple, list[dict]] = {}
    for r in rows:
        cells.setdefault((r["task"], r["method"], r.get("protocol") or "native", int(r["seed"])), []).append(r)
    return cells


def finals_of(cells: dict[tuple, list[dict]]) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Final scores by (method, protocol), then task, in seed order; tasks without scores left out."""
    out: dict[tuple[str, str], dict[str, list[float]]] = {}
    for (t, m, p, _), c in sorted(cells.items()):
        f = final_score(c)
        if np.isfinite(f):
            out.setdefault((m, p), {}).setdefault(t, []).append(f)
    return out


def summarise(suite: str, rows: list[dict], reps: int = aggregate.REPS) -> str:
    cells = by_cell(rows)
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    protocols = [p for p in PROTOCOLS if any(k[2] == p for k in cells)]
    methods = [m for m in METHODS if any(k[1] == m for k in cells)]
    lines = [f"# Benchmark `{suite}`: normalised return with 4 demonstrations", "",
             (f"Command: `.venv/bin/python benchmarks/bench.py --suite {suite}` (resumable{MAKE_TARGETS.get(suite, '')})."
              if suite in SUITES else f"Command: `.venv/bin/python benchmarks/bench.py --name {suite} --tasks ...` (a custom grid)."),
             "Protocol: how the training envs end episodes (`fixed`: every episode lasts the horizon; `native`: the standard task);",
             "evaluation is on the standard task. The oracle (`rl`) is RL on the true reward with the task's expert recipe, for at least its env steps.",
             f"Final: the mean of a run's last {LAST} deterministic evaluations (5 episodes each), then the mean over seeds",
             "[95% stratified bootstrap interval]; single evaluations of one policy swing widely on tasks that can fall (Hopper).",
             "Env steps count every rollout a method made, those before training too (pre-training, listed below).",
             "To 0.9: env steps and wall-clock of the first evaluation at or above 0.9 (mean over the seeds that reach it).",
             "Steps/s: env steps per second of the whole run, evaluations included, as a ratio to the oracle on the same task, protocol",
             "and seed where the two ran on the same machine (column `machine` of the CSV; cells without one count as one machine).",
             "bc and imitation-bc take no env steps; their wall-clock is their gradient steps and evaluations."]
    loads = {k: float(c[-1]["load"]) for k, c in cells.items() if c[-1].get("load") not in (None, "")}
    machines = {r.get("machine", "") for r in rows}
    total = grid_size(suite)
    if total and len(cells) < total:
        lines.append(f"**Unfinished: {len(cells)} of the suite's {total} cells have run**; the tables show those alone, "
                     "and a task's means cover only its finished seeds. Running the command again goes on with the rest.")
    if loads:
        lines.append(f"Load average (1 min) when cells finished: {min(loads.values()):.1f} to {max(loads.values()):.1f} on {os.cpu_count()} cores "
                     f"(recorded for {len(loads)} of {len(cells)} cells); wall-clock and steps/s compare only cells that ran under similar load "
                     f"on one machine ({len(machines)} machine(s) here).")
    lines += ["", "| task | protocol | budget | method | seeds | final normalised | to 0.9: env steps | to 0.9: wall-clock | steps/s vs oracle |",
              "|---|---|---|---|---|---|---|---|---|"]
    for t in tasks:
        for p in protocols:
            oracle_rate = {ran_as(s, c): speed(c) for (tt, m, pp, s), c in cells.items() if tt == t and m == ORACLE and pp == p}
            for m in methods:
                runs = {s: c for (tt, mm, pp, s), c in sorted(cells.items()) if tt == t and mm == m and pp == p}
                if not runs:
                    continue
                final = np.array([final_score(c) for c in runs.values()])
                point, lo, hi = aggregate.interval(aggregate.mean, final[:, None], reps=reps)
                reach = [next((r for r in c if r["normalised"] != "" and float(r["normalised"]) >= TARGET), None) for c in runs.values()]
                hit = [r for r in reach if r is not None]
                steps = f"{np.mean([r['env_steps'] for r in hit]):,.0f} ({len(hit)}/{len(runs)})" if hit else f"not reached (0/{len(runs)})"
                wall = f"{np.mean([r['wall_s'] for r in hit]) / 60:.1f} min" if hit else "–"
                ratios = [speed(c) / oracle_rate[ran_as(s, c)] for s, c in runs.items() if ran_as(s, c) in oracle_rate and c[-1]["env_steps"]]
                rate = "1" if m == ORACLE else (f"{np.mean(ratios):.2f}×" if ratios else "–")
                budget = int(next(iter(runs.values()))[-1]["budget"])
                lines.append(f"| {t} | {p} | {budget:,} | {m} | {len(runs)} | {point:.3f} [{lo:.3f}, {hi:.3f}] | {steps} | {wall} | {rate} |")
    lines += aggregates(cells, methods, protocols, reps)
    lines += oracle_not_converged(cells)
    lines += pre_training(cells)
    lines += behind_a_peer(cells, tasks, protocols)
    return "\n".join(lines) + "\n"


def aggregates(cells, methods: list[str], protocols: list[str], reps: int) -> list[str]:
    """rliable's aggregates of the final scores: IQM and mean per method and protocol, and the
    probability that `default` improves on each peer."""
    finals = finals_of(cells)
    lines = ["", "Across tasks (rliable's definitions, benchmarks/aggregate.py): interquartile mean (IQM) and mean of the final normalised",
             "return over every task and seed a method has run (see below for tasks with fewer seeds so far), [95% stratified bootstrap interval]; runs: seeds x tasks.", "",
             "| method | protocol | runs | tasks | IQM | mean |", "|---|---|---|---|---|---|"]
    partial = []
    for p in protocols:
        for m in methods:
            by_task = finals.get((m, p))
            if not by_task:
                continue
            # rliable's matrix has as many runs per task: the tasks with the most seeds so far
            most = max(len(v) for v in by_task.values())
            tasks = [t for t in by_task if len(by_task[t]) == most]
            partial += [f"{m} ({p}) on {t}: {len(v)} of {most} seeds" for t, v in by_task.items() if len(v) < most]
            x = score_matrix(by_task, tasks)
            i, ilo, ihi = aggregate.interval(aggregate.iqm, x, reps=reps)
            a, alo, ahi = aggregate.interval(aggregate.mean, x, reps=reps)
            lines.append(f"| {m} | {p} | {x.size} | {x.shape[1]} | {i:.3f} [{ilo:.3f}, {ihi:.3f}] | {a:.3f} [{alo:.3f}, {ahi:.3f}] |")
    if partial:
        lines += ["", "Left out of these aggregates until they have as many seeds as the method's other tasks: " + "; ".join(partial) + "."]
    pairs = []
    for p in protocols:
        ours = finals.get(("default", p))
        for peer in PEERS:
            theirs = finals.get((peer, p))
            common = [t for t in (ours or {}) if t in (theirs or {})]
            if common:
                x, y = score_matrix(ours, common), score_matrix(theirs, common)
                point, lo, hi = aggregate.interval(aggregate.probability_of_improvement, x, y, reps=reps)
                pairs.append(f"| default > {peer} | {p} | {len(common)} | {point:.3f} [{lo:.3f}, {hi:.3f}] |")
    if pairs:
        lines += ["", "Probability of improvement: the chance that a run of `default` scores above a run of the peer on a task, averaged over",
                  "the tasks both have run (0.5: neither better), [95% stratified bootstrap interval].", "",
                  "| comparison | protocol | tasks | P(improvement) |", "|---|---|---|---|", *pairs]
    return lines


def oracle_not_converged(cells) -> list[str]:
    """Where the oracle's final score is below the target: there it is no reference for 1.0."""
    finals = finals_of(cells)
    lines = []
    for (m, p), by_task in sorted(finals.items()):
        if m != ORACLE:
            continue
        for t, f in by_task.items():
            if np.mean(f) < TARGET:
                budget = next(c for (tt, mm, pp, _), c in cells.items() if (tt, mm, pp) == (t, m, p))[-1]["budget"]
                lines.append(f"- {t} ({p}): {np.mean(f):.3f} after {int(budget):,} env steps")
    if not any(m == ORACLE for m, _ in finals):
        return []
    return ["", f"Where the oracle has not converged (final below {TARGET}):", ""] + (lines or ["- nowhere in this suite"])


def pre_training(cells) -> list[str]:
    """The env steps methods made before training (counted in their env steps)."""
    lines = []
    for (t, m, p, s), c in sorted(cells.items()):
        pre = c[-1].get("pre_training_env_steps")
        if pre not in (None, "") and int(pre) > 0:
            lines.append(f"- {t} {m} ({p}, seed {s}): {int(pre):,}")
    unknown = sorted({(t, m) for (t, m, _, _), c in cells.items() if m in OURS and m not in NO_ENV_STEPS
                      and c[-1].get("pre_training_env_steps") in (None, "")})
    out = ["", "Env steps before training (rollouts made before the first training step, in the env steps above):", ""] + (lines or ([] if unknown else ["- none"]))
    if unknown:
        out.append(f"- not recorded for {len(unknown)} task/method pairs run before the count was kept: "
                   + ", ".join(f"{t} {m}" for t, m in unknown))
    return out


def behind_a_peer(cells, tasks: list[str], protocols: list[str]) -> list[str]:
    behind = []
    for p in protocols:
        for t in tasks:
            for ours in OURS:
                for peer in PEERS:
                    a = [final_score(c) for (tt, m, pp, _), c in cells.items() if (tt, m, pp) == (t, ours, p)]
                    b = [final_score(c) for (tt, m, pp, _), c in cells.items() if (tt, m, pp) == (t, peer, p)]
                    if a and b and np.mean(a) < np.mean(b) - PRECISION:
                        behind.append(f"- {t} ({p}): ours `{ours}` {np.mean(a):.3f} is behind `{peer}` {np.mean(b):.3f}")
    return ["", f"Where we are behind a peer on the same protocol (by more than {PRECISION}, what the tables' 3 decimals show):", ""] + \
        (behind or ["- nowhere in this suite"])


def save_figure(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from irl_gan.io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def plot(suite: str, rows: list[dict]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = by_cell(rows)
    protocols = [p for p in PROTOCOLS if any(k[2] == p for k in cells)]
    paths = []
    for t in dict.fromkeys(r["task"] for r in rows):
        fig, ax = plt.subplots(figsize=(6.5, 4), dpi=100)
        for p in protocols:
            for m in METHODS:
                runs = [c for (tt, mm, pp, _), c in sorted(cells.items()) if (tt, mm, pp) == (t, m, p)]
                if not runs:
                    continue
                name = label(m, p, protocols)
                if m in NO_ENV_STEPS:
                    ax.axhline(np.mean([final_score(c) for c in runs]), ls=":", color="grey" if m == "bc" else "tan", label=name)
                    continue
                n = min(len(c) for c in runs)
                x = np.array([r["env_steps"] for r in runs[0][:n]])
                y = np.mean([[score(r) for r in c[:n]] for c in runs], axis=0)
                ax.plot(x, y, marker="o", markersize=3, ls="--" if m in PEERS else ("-." if p == "native" and len(protocols) > 1 else "-"), label=name)
        ax.axhline(TARGET, color="k", lw=0.5)
        ax.set(title=f"{t} ({suite}): mean over seeds", xlabel="env steps", ylabel="normalised return")
        ax.legend(fontsize=7)
        fig.tight_layout()
        paths.append(save_figure(fig, RESULTS / f"bench-{suite}-{t}.png"))
    return paths


def plot_profiles(suite: str, rows: list[dict], reps: int = aggregate.PROFILE_REPS) -> Path | None:
    """Performance profiles (rliable's score distributions): for each threshold, the share of a
    method's runs, over all its tasks, whose final score is above it; a panel per protocol."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    finals = finals_of(by_cell(rows))
    protocols = [p for p in PROTOCOLS if any(pp == p for _, pp in finals)]
    if not protocols:
        return None
    taus = np.linspace(-0.1, 1.2, 66)
    fig, axes = plt.subplots(1, len(protocols), figsize=(6.5 * len(protocols), 4), dpi=100, squeeze=False)
    for ax, p in zip(axes[0], protocols):
        for m in METHODS:
            by_task = finals.get((m, p))
            if not by_task:
                continue
            x = score_matrix(by_task, list(by_task))
            point, lo, hi = aggregate.interval(lambda s: aggregate.score_distribution(s, taus), x, reps=reps)
            line, = ax.plot(taus, point, ls="--" if m in PEERS else "-", label=f"{m} ({x.shape[1]} tasks)")
            ax.fill_between(taus, lo, hi, color=line.get_color(), alpha=0.15)
        ax.axvline(TARGET, color="k", lw=0.5)
        ax.set(title=f"{suite}, {p}: performance profiles", xlabel="normalised final return τ", ylabel="share of runs above τ", ylim=(0, 1.02))
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, RESULTS / f"bench-{suite}-profiles.png")


def write_results(suite: str) -> None:
    from irl_gan.io import atomic_write_csv, atomic_write_text

    rows = [r for cell in finished(suite).values() for r in cell]
    if not rows:
        print(f"{suite}: no finished cells yet")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r["task"], METHODS.index(r["method"]), PROTOCOLS.index(r["protocol"]), int(r["seed"]), r["env_steps"]))
    atomic_write_csv(RESULTS / f"bench-{suite}.csv", rows, FIELDS)
    text = summarise(suite, rows)
    atomic_write_text(RESULTS / f"bench-{suite}.md", text)
    plot(suite, rows)
    plot_profiles(suite, rows)
    print(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", choices=sorted(SUITES), default="quick")
    p.add_argument("--tasks", default=None, help="override: task:budget,... (a new suite name is needed with --name)")
    p.add_argument("--only-tasks", default=None, help="run only these of the suite's tasks (comma-separated), at its budgets")
    p.add_argument("--methods", default=None, help="run only these of the suite's methods (comma-separated)")
    p.add_argument("--seeds", default=None, help="run only these of the suite's seeds, e.g. 0,1")
    p.add_argument("--protocols", default=None, help="run only these of the suite's protocols (fixed, native)")
    p.add_argument("--name", default=None, help="store results under this suite name (with --tasks)")
    p.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)), help="local cells at once (one core each)")
    p.add_argument("--ray", default=None, metavar="auto|ADDRESS", help="dispatch cells to a Ray cluster")
    p.add_argument("--dry-run", action="store_true", help="list the cells still to run and their commands; run nothing")
    p.add_argument("--summarise-only", action="store_true")
    p.add_argument("--adopt-committed", action="store_true",
                   help="count the cells in the committed benchmarks/results/bench-SUITE.csv as finished (to go on "
                        "with a suite begun on another machine or clone) instead of measuring them again")
    p.add_argument("--no-new-after", type=float, default=None, metavar="MINUTES",
                   help="local cells: start none after this many minutes (running cells finish); run again later to go on")
    a = p.parse_args()
    if a.no_new_after is not None and a.no_new_after < 0:
        sys.exit("bench.py: --no-new-after takes minutes >= 0")
    suite = a.name or a.suite
    spec = SUITES[a.suite]
    tasks = dict(spec["tasks"])
    if a.tasks:
        if not a.name:
            sys.exit("bench.py: --tasks changes the grid; give it a --name so it does not mix with the suite's results")
        bad = [t for t in a.tasks.split(",") if not re.fullmatch(r"[\w.-]+:\d+", t)]
        if bad:
            sys.exit(f"bench.py: --tasks {', '.join(bad)}: write each as TASK:BUDGET, e.g. hopper:1000000")
        tasks = {t.split(":")[0]: int(t.split(":")[1]) for t in a.tasks.split(",")}
    if a.only_tasks:
        unknown = sorted(set(a.only_tasks.split(",")) - set(tasks))
        if unknown:
            sys.exit(f"bench.py: {unknown} not in suite {a.suite}; its tasks: {', '.join(tasks)}")
        tasks = {t: b for t, b in tasks.items() if t in a.only_tasks.split(",")}
    full = grid(spec, tasks)
    chosen = {"methods": a.methods.split(",") if a.methods else None, "seeds": [int(s) for s in a.seeds.split(",")] if a.seeds else None,
              "protocols": a.protocols.split(",") if a.protocols else None}
    for key, values in chosen.items():
        have = {getattr(c, key[:-1]) for c in full}
        if values is not None and set(values) - have:
            sys.exit(f"bench.py: {key} {sorted(set(values) - have, key=str)} not in suite {a.suite}; its {key}: {', '.join(map(str, sorted(have, key=str)))}")
    cells = grid(spec, tasks, **chosen)
    if a.dry_run:
        lines = dry_run(suite, cells, spec.get("eval_every"))
        print(f"{suite}: {len(cells)} cells, {len(cells) - len(lines)} finished, {len(lines)} to run")
        print("\n".join(lines))
        return
    if a.adopt_committed:
        print(f"{suite}: adopted {adopt_committed(suite)} cells from benchmarks/results/bench-{suite}.csv", flush=True)
    if not a.summarise_only:
        run_grid(suite, cells, a.jobs, a.ray, spec.get("eval_every"), a.no_new_after)
    write_results(suite)


if __name__ == "__main__":
    main()
