"""The benchmark runner (issue 6): task x method x seed at a common env-step budget per task, with
4 demonstrations, ours next to the `imitation` library and the RL oracle.

Methods:

* ours: ``gan-gcl`` (at its best segment length K per task, from benchmarks/results/segments.md),
  ``gcl``, ``airl``, ``gail`` (each ``irl-gan train``) and ``bc`` (no env steps);
* peers: ``imitation-gail`` and ``imitation-airl`` (imitation 1.0.1, benchmarks/peer_imitation.py,
  in its own overlay: ``make peer-imitation``), the same demos, v5 envs and PPO settings;
* the oracle ``rl``: the same SB3 generator on the true reward (``irl-gan train --algo rl``).

Every method is evaluated the same way: deterministic actions, 5 episodes with seeds from
1,000,000, every budget/10 env steps (or the suite's ``eval_every``). Each finished cell is stored in ``runs/bench/SUITE/cells/`` as
JSON on the machine that runs this script, and is never run again: the runner resumes where it
stopped (an unfinished cell, ours or a peer's, continues from its last checkpoint). The
results, one row per evaluation point, go to benchmarks/results/bench-SUITE.csv, with the summary
(bench-SUITE.md) and learning curves (bench-SUITE-TASK.png) written from it.

Cells run as local processes, ``--jobs`` at a time (one core each). With ``--ray auto`` or
``--ray ADDRESS`` the same cells go to a Ray cluster, one CPU each; every node needs this
repository and its .venv (and .peer for the peers) at the same path.

    .venv/bin/python benchmarks/bench.py --suite quick --jobs 2        # make bench-quick
    .venv/bin/python benchmarks/bench.py --suite full --jobs 2         # make bench (hours)
    .venv/bin/python benchmarks/bench.py --suite full --ray auto       # on a Ray cluster
    .venv/bin/python benchmarks/bench.py --suite quality               # issue 4: gan-gcl vs the oracle
    .venv/bin/python benchmarks/bench.py --summarise-only --suite full # tables and plots from the CSV

A suite spread over several machines or fresh clones goes on from the committed results with
``--adopt-committed`` (their cells count as finished), and ``--no-new-after MINUTES`` starts no
cell after that many minutes, so that a session ends between cells rather than in one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
OURS = ("gan-gcl", "gcl", "airl", "gail", "bc")
PEERS = ("imitation-gail", "imitation-airl")
ORACLE = "rl"
METHODS = (*OURS, *PEERS, ORACLE)
# gan-gcl's segment length per task: the best K of benchmarks/results/segments.md where measured.
BEST_K = {"inverteddoublependulum": 10}
SUITES = {
    # Two tasks, one seed, every method: at most 30 minutes with 2 jobs on 2 cores.
    # (InvertedDoublePendulum at 100k was uninformative: every method, the oracle too, below 0.06.)
    "quick": {"tasks": {"invertedpendulum": 50_000, "reacher": 100_000}, "seeds": [0]},
    # The committed comparison: env-step budget per task, 3 seeds.
    "full": {"tasks": {"inverteddoublependulum": 300_000, "swimmer": 1_000_000, "hopper": 1_000_000,
                       "halfcheetah": 1_000_000, "walker2d": 1_000_000}, "seeds": [0, 1, 2]},
    # Issue 4's quality target: gan-gcl against the oracle, evaluated every 50k steps.
    "quality": {"tasks": {"hopper": 1_000_000, "halfcheetah": 1_000_000}, "seeds": [0], "methods": ["gan-gcl", "rl"], "eval_every": 50_000},
}
MAKE_TARGETS = {"quick": "; `make bench-quick`", "full": "; `make bench`"}
FIELDS = ["suite", "task", "method", "seed", "budget", "env_steps", "wall_s", "eval_return", "eval_normalised", "load", "machine"]
TARGET = 0.9
LAST = 3  # evaluations averaged into a run's final score
PRECISION = 0.0005  # differences of final scores below this do not show in the tables


# ---------------------------------------------------------------------------- one cell


def cell_name(task: str, method: str, seed: int) -> str:
    return f"{task}-{method}-s{seed}"


def run_cell(suite: str, task: str, method: str, seed: int, budget: int, root: str, every: int | None = None) -> list[dict]:
    """Train one cell and return its evaluation curve (one row per evaluation). Runs anywhere the
    repository is at ``root``: in a thread here, or in a Ray worker."""
    root_p = Path(root)
    out = root_p / "runs" / "bench" / suite / cell_name(task, method, seed)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    log = out.with_suffix(".log")
    out.parent.mkdir(parents=True, exist_ok=True)
    every = every or max(1, budget // 10)
    demos = str(root_p / "demos" / f"{task}.h5")
    if out.exists() and method == "bc":
        import shutil

        shutil.rmtree(out)  # no checkpoint needed (bc takes minutes): the cell starts over
    if method in PEERS:
        cmd = [sys.executable, str(root_p / "benchmarks" / "peer_imitation.py"), "--task", task, "--algo", method.split("-", 1)[1],
               "--steps", str(budget), "--seed", str(seed), "--eval-every", str(every), "--out", str(out)]
        from irl_gan.io import latest_dir

        if latest_dir(out / "checkpoint"):
            cmd.append("--resume")
        env["PYTHONPATH"] = os.pathsep.join([str(root_p / ".peer" / "imitation"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        if not (root_p / ".peer" / "imitation" / "imitation").is_dir():
            raise RuntimeError(f"{method}: imitation is not installed in {root_p / '.peer'}; run `make peer-imitation`")
        config = None
    else:
        settings = {"eval_every": every, "eval_episodes": 5}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            json.dump(settings, f)  # JSON is YAML
        config = f.name
        cmd = [sys.executable, "-m", "irl_gan.cli", "train", "--task", task, "--demos", demos, "--algo", method,
               "--demo-episodes", "4", "--steps", str(budget), "--seed", str(seed), "--out", str(out), "--config", config, "--no-progress"]
        if method == "gan-gcl":
            cmd += ["--segment", str(BEST_K.get(task, 1))]
        if (out / "config.yaml").exists():
            cmd.append("--resume")
    try:
        with open(log, "a") as f:
            subprocess.run(cmd, check=True, cwd=root_p, env=env, stdout=f, stderr=subprocess.STDOUT)
    except subprocess.CalledProcessError:
        raise RuntimeError(f"{cell_name(task, method, seed)} failed; see {log}") from None
    finally:
        if config:
            os.unlink(config)
    with open(out / "metrics.csv", newline="") as f:
        evals = [r for r in csv.DictReader(f) if r.get("eval_return")]
    return [{"suite": suite, "task": task, "method": method, "seed": seed, "budget": budget, "env_steps": int(float(r["env_steps"])),
             "wall_s": float(r["wall_s"]), "eval_return": float(r["eval_return"]),
             "eval_normalised": float(r["eval_normalised"]) if r.get("eval_normalised") else ""} for r in evals]


# ---------------------------------------------------------------------------- the grid


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
    d = cells_dir(suite)
    return {p.stem: json.loads(p.read_text()) for p in sorted(d.glob("*.json"))} if d.is_dir() else {}


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
            row = {"suite": r["suite"], "task": r["task"], "method": r["method"], "seed": int(r["seed"]), "budget": int(r["budget"]),
                   "env_steps": int(r["env_steps"]), "wall_s": float(r["wall_s"]), "eval_return": float(r["eval_return"]),
                   "eval_normalised": float(r["eval_normalised"]) if r["eval_normalised"] != "" else "",
                   "load": float(r["load"]) if r.get("load") else "", "machine": r.get("machine") or ""}
            cells.setdefault(cell_name(row["task"], row["method"], row["seed"]), []).append(row)
    have = finished(suite)
    new = {name: rows for name, rows in cells.items() if name not in have}
    if new:
        cells_dir(suite).mkdir(parents=True, exist_ok=True)
    for name, rows in new.items():
        atomic_write_text(cells_dir(suite) / f"{name}.json", json.dumps(rows))
    return len(new)


class NotStarted(Exception):
    """A cell left for the next run: --no-new-after had passed when its turn came."""


def run_grid(suite: str, tasks: dict[str, int], methods: list[str], seeds: list[int], jobs: int, ray_address: str | None,
             every: int | None = None, no_new_after: float | None = None) -> None:
    from irl_gan.io import atomic_write_text

    done = finished(suite)
    for t, b in tasks.items():
        for name, rows in done.items():
            if name.startswith(f"{t}-") and rows and int(rows[-1]["budget"]) != b:
                sys.exit(f"bench.py: {suite} cell {name} was run with a budget of {rows[-1]['budget']}, not {b}; "
                         "give the changed grid a new --name (or delete runs/bench/SUITE to start over)")
    todo = [(t, m, s, b) for t, b in tasks.items() for s in seeds for m in methods if cell_name(t, m, s) not in done]
    print(f"{suite}: {len(done)} cells finished, {len(todo)} to run", flush=True)
    if not todo:
        return
    cells_dir(suite).mkdir(parents=True, exist_ok=True)
    start = time.time()
    failures, left = [], []
    deadline = start + 60 * no_new_after if no_new_after is not None else None
    machine = machine_id()

    def run_local(suite, t, m, s, b, root, every):
        if deadline is not None and time.time() > deadline:
            raise NotStarted
        return run_cell(suite, t, m, s, b, root, every)

    def store(cell, rows):
        t, m, s, _ = cell
        load = os.getloadavg()[0]  # how busy the machine was: wall-clock figures depend on it
        rows = [{**r, "load": round(load, 2), "machine": machine} for r in rows]
        atomic_write_text(cells_dir(suite) / f"{cell_name(t, m, s)}.json", json.dumps(rows))
        last = rows[-1] if rows else {}
        print(f"  {cell_name(t, m, s)}: {last.get('env_steps')} env steps, normalised {last.get('eval_normalised')}  "
              f"({(time.time() - start) / 60:.1f} min)", flush=True)

    if ray_address:
        try:
            import ray
        except ImportError:
            sys.exit("bench.py: --ray needs Ray; install it with `pip install 'ray[default]'`")
        ray.init(address=ray_address)
        remote = ray.remote(num_cpus=1)(run_cell)
        pending = {remote.remote(suite, t, m, s, b, str(ROOT), every): (t, m, s, b) for t, m, s, b in todo}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            cell = pending.pop(ready[0])
            try:
                store(cell, ray.get(ready[0]))
            except Exception as exc:  # noqa: BLE001 - one failed cell must not stop the others
                failures.append(f"{cell_name(*cell[:3])}: {exc}")
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(run_local, suite, t, m, s, b, str(ROOT), every): (t, m, s, b) for t, m, s, b in todo}
            for fut in as_completed(futures):
                try:
                    store(futures[fut], fut.result())
                except NotStarted:
                    left.append(cell_name(*futures[fut][:3]))
                except Exception as exc:  # noqa: BLE001
                    failures.append(f"{cell_name(*futures[fut][:3])}: {exc}")
    if left:
        print(f"{len(left)} cells not started (--no-new-after {no_new_after:g} min had passed); run again to go on", flush=True)
    if failures:
        print("failed cells (run again to retry):\n  " + "\n  ".join(failures), file=sys.stderr)


# ---------------------------------------------------------------------------- summaries


def bootstrap_ci(x: list[float], n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean across seeds (a single seed: the point itself)."""
    a = np.asarray(x, float)
    if len(a) < 2:
        return float(a.mean()), float(a.mean())
    means = np.random.default_rng(seed).choice(a, size=(n, len(a))).mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def iqm(x: list[float]) -> float:
    """Interquartile mean: the mean of the middle half (rliable's aggregate)."""
    a = np.sort(np.asarray(x, float))
    lo, hi = int(np.floor(0.25 * len(a))), int(np.ceil(0.75 * len(a)))
    return float(a[lo:hi].mean()) if hi > lo else float(a.mean())


def final_score(curve: list[dict]) -> float:
    """Mean normalised return of the run's last evaluations (NaN for a task without scores)."""
    return float(np.mean([float(r["eval_normalised"]) if r["eval_normalised"] != "" else np.nan for r in curve[-LAST:]]))


def grid_size(suite: str) -> int | None:
    """Cells in a named suite's whole grid (None for a custom grid)."""
    spec = SUITES.get(suite)
    return len(spec["tasks"]) * len(spec.get("methods", METHODS)) * len(spec["seeds"]) if spec else None


def speed(curve: list[dict]) -> float:
    """Env steps per second of a whole run, evaluations included."""
    return curve[-1]["env_steps"] / max(curve[-1]["wall_s"], 1e-9)


def ran_as(seed: int, curve: list[dict]) -> tuple[int, str]:
    """The seed and the machine of a run: speeds compare only between runs of one machine."""
    return seed, curve[-1].get("machine", "")


def summarise(suite: str, rows: list[dict]) -> str:
    by_cell: dict[tuple, list[dict]] = {}
    for r in rows:
        by_cell.setdefault((r["task"], r["method"], int(r["seed"])), []).append(r)
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    lines = [f"# Benchmark `{suite}`: normalised return with 4 demonstrations", "",
             (f"Command: `.venv/bin/python benchmarks/bench.py --suite {suite}` (resumable{MAKE_TARGETS.get(suite, '')})."
              if suite in SUITES else f"Command: `.venv/bin/python benchmarks/bench.py --name {suite} --tasks ...` (a custom grid)."),
             f"Final: the mean of a run's last {LAST} deterministic evaluations (5 episodes each), then the mean over seeds",
             "[bootstrap 95% interval]; single evaluations of one policy swing widely on tasks that can fall (Hopper).",
             "To 0.9: env steps and wall-clock of the first evaluation at or above 0.9 (mean over the seeds that reach it).",
             "Steps/s: env steps per second of the whole run, evaluations included, as a ratio to the oracle on the same task and seed",
             "where the two ran on the same machine (column `machine` of the CSV; cells without one count as one machine).",
             "bc takes no env steps; its wall-clock is its gradient steps and evaluations."]
    loads = {(r["task"], r["method"], r["seed"]): float(r["load"]) for r in rows if r.get("load") not in (None, "")}
    n_cells = len({(r["task"], r["method"], r["seed"]) for r in rows})
    machines = {r.get("machine", "") for r in rows}
    total = grid_size(suite)
    if total and n_cells < total:
        lines.append(f"**Unfinished: {n_cells} of the suite's {total} cells have run**; the tables show those alone, "
                     "and a task's means cover only its finished seeds. Running the command again goes on with the rest.")
    if loads:
        lines.append(f"Load average (1 min) when cells finished: {min(loads.values()):.1f} to {max(loads.values()):.1f} on {os.cpu_count()} cores "
                     f"(recorded for {len(loads)} of {n_cells} cells); wall-clock and steps/s compare only cells that ran under similar load "
                     f"on one machine ({len(machines)} machine(s) here: one machine ran the same cells several times faster than another).")
    lines.append("")
    lines += ["| task | budget | method | seeds | final normalised | to 0.9: env steps | to 0.9: wall-clock | steps/s vs oracle |",
              "|---|---|---|---|---|---|---|---|"]
    finals: dict[str, list[float]] = {m: [] for m in methods}
    for t in tasks:
        oracle_rate = {ran_as(s, c): speed(c) for (tt, m, s), c in by_cell.items() if tt == t and m == ORACLE}
        for m in methods:
            cells = {s: c for (tt, mm, s), c in sorted(by_cell.items()) if tt == t and mm == m}
            if not cells:
                continue
            final = [final_score(c) for c in cells.values()]
            finals[m] += final
            lo, hi = bootstrap_ci(final)
            reach = [next((r for r in c if r["eval_normalised"] != "" and float(r["eval_normalised"]) >= TARGET), None) for c in cells.values()]
            hit = [r for r in reach if r is not None]
            steps = f"{np.mean([r['env_steps'] for r in hit]):,.0f} ({len(hit)}/{len(cells)})" if hit else f"not reached (0/{len(cells)})"
            wall = f"{np.mean([r['wall_s'] for r in hit]) / 60:.1f} min" if hit else "–"
            ratios = [speed(c) / oracle_rate[ran_as(s, c)] for s, c in cells.items() if ran_as(s, c) in oracle_rate and c[-1]["env_steps"]]
            rate = f"{np.mean(ratios):.2f}×" if ratios and m != ORACLE else ("1" if m == ORACLE else "–")
            budget = int(next(iter(cells.values()))[-1]["budget"])
            lines.append(f"| {t} | {budget:,} | {m} | {len(cells)} | {np.mean(final):.3f} [{lo:.3f}, {hi:.3f}] | {steps} | {wall} | {rate} |")
    lines += ["", "Across tasks: interquartile mean (IQM) of the final normalised return over every task and seed.", "",
              "| method | runs | IQM |", "|---|---|---|"]
    for m in methods:
        if finals[m]:
            lines.append(f"| {m} | {len(finals[m])} | {iqm(finals[m]):.3f} |")
    behind = []
    for t in tasks:
        for ours in OURS:
            for peer in PEERS:
                a = [final_score(c) for (tt, m, s), c in by_cell.items() if tt == t and m == ours]
                b = [final_score(c) for (tt, m, s), c in by_cell.items() if tt == t and m == peer]
                if a and b and np.mean(a) < np.mean(b) - PRECISION:
                    behind.append(f"- {t}: ours `{ours}` {np.mean(a):.3f} is behind `{peer}` {np.mean(b):.3f}")
    lines += ["", f"Where we are behind a peer (by more than {PRECISION}, what the tables' 3 decimals show):", ""] + (behind or ["- nowhere in this suite"])
    return "\n".join(lines) + "\n"


def plot(suite: str, rows: list[dict]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for t in dict.fromkeys(r["task"] for r in rows):
        fig, ax = plt.subplots(figsize=(6.5, 4), dpi=100)
        for m in METHODS:
            cells: dict[int, list[dict]] = {}
            for r in rows:
                if r["task"] == t and r["method"] == m:
                    cells.setdefault(int(r["seed"]), []).append(r)
            if not cells:
                continue
            if m == "bc":
                ax.axhline(np.mean([final_score(c) for c in cells.values()]), ls=":", color="grey", label="bc")
                continue
            n = min(len(c) for c in cells.values())
            x = np.array([r["env_steps"] for r in next(iter(cells.values()))[:n]])
            y = np.mean([[float(r["eval_normalised"]) if r["eval_normalised"] != "" else np.nan for r in c[:n]] for c in cells.values()], axis=0)
            ax.plot(x, y, marker="o", markersize=3, ls="--" if m in PEERS else "-", label=m)
        ax.axhline(TARGET, color="k", lw=0.5)
        ax.set(title=f"{t} ({suite}): mean over seeds", xlabel="env steps", ylabel="normalised return")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = RESULTS / f"bench-{suite}-{t}.png"
        from irl_gan.io import atomic_path

        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        paths.append(path)
    return paths


def write_results(suite: str) -> None:
    from irl_gan.io import atomic_write_csv, atomic_write_text

    rows = [r for cell in finished(suite).values() for r in cell]
    if not rows:
        print(f"{suite}: no finished cells yet")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r["task"], METHODS.index(r["method"]), int(r["seed"]), r["env_steps"]))
    atomic_write_csv(RESULTS / f"bench-{suite}.csv", rows, FIELDS)
    text = summarise(suite, rows)
    atomic_write_text(RESULTS / f"bench-{suite}.md", text)
    plot(suite, rows)
    print(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", choices=sorted(SUITES), default="quick")
    p.add_argument("--tasks", default=None, help="override: task:budget,... (a new suite name is needed with --name)")
    p.add_argument("--only-tasks", default=None, help="run only these of the suite's tasks (comma-separated), at its budgets")
    p.add_argument("--methods", default=None, help="override the suite's methods (default: all)")
    p.add_argument("--seeds", default=None, help="override the suite's seeds, e.g. 0,1,2")
    p.add_argument("--name", default=None, help="store results under this suite name (with --tasks)")
    p.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)), help="local cells at once (one core each)")
    p.add_argument("--ray", default=None, metavar="auto|ADDRESS", help="dispatch cells to a Ray cluster")
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
        tasks = {t.split(":")[0]: int(t.split(":")[1]) for t in a.tasks.split(",")}
    if a.only_tasks:
        unknown = sorted(set(a.only_tasks.split(",")) - set(tasks))
        if unknown:
            sys.exit(f"bench.py: {unknown} not in suite {a.suite}; its tasks: {', '.join(tasks)}")
        tasks = {t: b for t, b in tasks.items() if t in a.only_tasks.split(",")}
    methods = a.methods.split(",") if a.methods else spec.get("methods", list(METHODS))
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        sys.exit(f"bench.py: unknown methods {unknown}; choose from {', '.join(METHODS)}")
    seeds = [int(s) for s in a.seeds.split(",")] if a.seeds else spec["seeds"]
    if a.adopt_committed:
        print(f"{suite}: adopted {adopt_committed(suite)} cells from benchmarks/results/bench-{suite}.csv", flush=True)
    if not a.summarise_only:
        run_grid(suite, tasks, methods, seeds, a.jobs, a.ray, spec.get("eval_every"), a.no_new_after)
    write_results(suite)


if __name__ == "__main__":
    main()
