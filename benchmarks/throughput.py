"""Throughput: env steps per CPU-second of `irl-gan train` with the default recipe, against plain
SB3 on the true reward with the same generator and settings.

One case per generator, each on a task the benchmark runs with it and with that task's settings
(its spec's ``train:`` block, as ``irl-gan train`` and ``make bench-default`` use them):

* ``ppo`` on Hopper (4 envs, SB3's PPO defaults, 64x64 networks), 98,304 env steps;
* ``sac`` on Ant (256x256 networks, 10k random steps first), 30,000 env steps: 20,000 gradient updates.

For each case and repeat two runs of the same length are timed one after the other, plain SB3
then irl_gan (the order alternates between repeats, so drift in the machine's load falls on both
sides):

* plain:   SB3 ``learn`` on ``VecNormalize(make_vec_env(task))`` with the trainer's generator settings;
* irl_gan: ``Trainer.train`` with the default recipe (gan-gcl, K = 1, 4 demos, the ranking in every
  cost update, the demo floor): the same envs wrapped by the recorder, every cost update, log π
  evaluation, relabelling and the final save of outputs included.

The recipe's work before the first env step (cloning the demos and rolling the clone out at the
ranking's noise levels) is done once per case before the clock starts and reported on its own, in
CPU seconds and as a share of a run at the task's benchmark budget. Both sides are built before
the clock starts; one torch thread, envs in the same process, so each side runs on one core and
its CPU time counts its own work alone. The headline is the median over repeats of (irl_gan
steps per CPU-second) / (plain steps per CPU-second); wall-clock rates are reported beside it.
Inside every irl_gan run the trainer's own work (cost updates, relabelling, the recorder, logging
and saving) is timed too.

    .venv/bin/python benchmarks/throughput.py [--repeats 3] [--cases ppo,sac]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))

# generator: (task, env steps per timed run)
CASES = {"ppo": ("hopper", 98_304), "sac": ("ant", 30_000)}
OWN_WORK = ("cost", "relabel", "recorder", "log_and_save")


class Clock:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def rates(self, steps: int) -> dict:
        return {"wall": steps / self.wall, "cpu": steps / self.cpu, "cpu_s": self.cpu}


def plain(spec, config) -> dict:
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    settings, kwargs = config.generator_arguments()  # as the trainer builds its generator
    venv = VecNormalize(make_vec_env(lambda: spec.make_env(), n_envs=config.n_envs, seed=config.seed), norm_obs=True, norm_reward=False, gamma=settings.get("gamma", 0.99))
    cls = PPO if config.generator == "ppo" else SAC
    model = cls("MlpPolicy", venv, seed=config.seed, device="cpu", policy_kwargs=kwargs, verbose=0, **settings)
    with Clock() as clock:
        model.learn(total_timesteps=config.steps)
    return clock.rates(model.num_timesteps)


class OwnWork:
    """CPU seconds spent inside the trainer's own methods while active (see the module docstring)."""

    def __init__(self):
        from stable_baselines3.common.vec_env import DummyVecEnv

        from irl_gan.recorder import Recorder
        from irl_gan.trainer import Trainer

        self.wrapped = {(Trainer, "update_cost"): "cost", (Trainer, "relabel"): "relabel", (Trainer, "replay_reward"): "relabel",
                        (Trainer, "log"): "log_and_save", (Trainer, "save_checkpoint"): "log_and_save",
                        (Recorder, "step_wait"): "recorder", (DummyVecEnv, "step_wait"): "env"}
        self.spent: dict[str, float] = {}

    def __enter__(self):
        self.spent = {name: 0.0 for name in self.wrapped.values()}
        self.originals = {key: getattr(*key) for key in self.wrapped}
        for (cls, attr), name in self.wrapped.items():
            setattr(cls, attr, self._timed(self.originals[(cls, attr)], name))
        return self

    def __exit__(self, *exc):
        for (cls, attr), fn in self.originals.items():
            setattr(cls, attr, fn)
        self.spent["recorder"] -= self.spent.pop("env")  # the recorder's step includes the envs' own

    def _timed(self, fn, name):
        def call(*args, **kwargs):
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] += time.process_time() - t
        return call


def ours(spec, demos, config, ranking) -> dict:
    from irl_gan.trainer import Trainer

    # OwnWork wraps the methods before the trainer is built: SAC's replay buffer keeps the bound relabeller it is given
    with tempfile.TemporaryDirectory() as out, OwnWork() as own:
        trainer = Trainer(spec, config.select_demos(demos), config, Path(out) / "run")
        trainer.ranking = ranking  # built once per case, before any clock (see pre_training)
        with Clock() as clock:
            trainer.train(progress=False)
    return {**clock.rates(trainer.model.num_timesteps), **own.spent}


def pre_training(spec, demos, config):
    """The recipe's ranking (the demos cloned, the clone rolled out at each noise level), timed."""
    from irl_gan.drex import Ranking

    with tempfile.TemporaryDirectory() as out, Clock() as clock:
        ranking = Ranking.prepare(spec, config.select_demos(demos), config, Path(out), progress=False)
    return ranking, clock.cpu


def configure(generator: str, steps: int | None = None):
    """The case's task, demos and TrainConfig: the default recipe with the task's own settings,
    ``steps`` long (default: the case's), no periodic evaluation (plain SB3 does none)."""
    from irl_gan.config import resolve_config
    from irl_gan.data import load_demos
    from irl_gan.tasks import load_spec

    task, case_steps = CASES[generator]
    spec = load_spec(task)
    demos_path = ROOT / "demos" / f"{spec.task}.h5"
    config = resolve_config(spec, [("benchmark", {"demos": str(demos_path), "steps": steps or case_steps, "eval_every": 0})])
    if config.generator != generator:
        raise SystemExit(f"{task}'s train: block names the {config.generator} generator, not {generator}: fix CASES")
    return spec, load_demos(demos_path, spec), config


def budget(task: str) -> int:
    from bench import DEFAULT_TASKS

    return DEFAULT_TASKS[task]


def summary(rows: list[dict], pre: dict, configs: dict, repeats: int, command: str) -> str:
    speed, own, before = [], [], []
    for generator, config in configs.items():
        g = [r for r in rows if r["generator"] == generator]
        med = lambda key: statistics.median(r[key] for r in g)  # noqa: E731
        task, total = g[0]["task"], med("irl_gan_cpu_s")
        speed.append(f"| {generator} | {task} | {g[0]['steps']:,} | {updates(config):,} | {med('plain_steps_per_cpu_s'):.0f} | "
                     f"{med('irl_gan_steps_per_cpu_s'):.0f} | {med('ratio_cpu'):.2f}x | {med('ratio_wall'):.2f}x "
                     f"({min(r['ratio_wall'] for r in g):.2f}-{max(r['ratio_wall'] for r in g):.2f}) |")
        spent = {k: med(f"own_{k}_s") for k in OWN_WORK}
        cells = " | ".join(f"{spent[k]:.2f} s ({spent[k] / total:.1%})" for k in OWN_WORK)
        own.append(f"| {generator} | {total:.1f} s | {cells} | {sum(spent.values()) / total:.1%} |")
        loop = budget(task) / med("irl_gan_steps_per_cpu_s")
        before.append(f"| {generator} | {task} | {pre[generator]:.1f} | {budget(task):,} | {pre[generator] / (pre[generator] + loop):.1%} |")
    return "\n".join([
        "# Throughput: `irl-gan train` with the default recipe against plain SB3 on the true reward",
        "",
        "Each generator on a task the benchmark runs it on, with that task's settings (its `train:` block) and the",
        "default recipe; no periodic evaluation. One torch thread; "
        f"interleaved repeats: {repeats}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        f"Command: `{command}`. Read the medians: single repeats move with the machine's load.",
        "",
        "| generator | task | env steps per run | gradient updates per run | plain SB3 steps per CPU-s | irl_gan steps per CPU-s | ratio, CPU time | ratio, wall clock (range) |",
        "|---|---|---|---|---|---|---|---|",
        *speed,
        "",
        "The trainer's own work inside the irl_gan runs (median CPU seconds, and the share of the run's):",
        "",
        "| generator | run | cost updates | relabelling | recorder | logging and saving | own work in all |",
        "|---|---|---|---|---|---|---|",
        *own,
        "",
        "Before the first env step the recipe clones the demos and rolls the clone out at the ranking's noise levels,",
        "once per run. Its CPU time, and its share of a whole run at the benchmark's budget for the task at the",
        "irl_gan rate above:",
        "",
        "| generator | task | pre-training CPU-s | benchmark budget | share of the run |",
        "|---|---|---|---|---|",
        *before,
    ]) + "\n"


def updates(config) -> int:
    """The generator's gradient updates in a run of ``config.steps`` env steps."""
    settings, _ = config.generator_arguments()
    if config.generator == "sac":
        return max(0, config.steps - settings.get("learning_starts", 100))  # SB3's SAC: one update per env step after its start
    rollout = settings.get("n_steps", 2048) * config.n_envs
    return (config.steps // rollout) * settings.get("n_epochs", 10) * -(-rollout // settings.get("batch_size", 64))


def main() -> int:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cases", default="ppo,sac", help="generators to time, comma-separated (ppo, sac)")
    p.add_argument("--steps", type=int, default=None, help="env steps per timed run (default: each case's; a smaller value is a smoke test)")
    p.add_argument("--out", type=Path, default=RESULTS, help="where throughput.{csv,md} go")
    args = p.parse_args()
    unknown = sorted(set(args.cases.split(",")) - set(CASES))
    if unknown:
        p.error(f"--cases: unknown {unknown}; choose from {', '.join(CASES)}")
    torch.set_num_threads(1)

    rows, pre, configs = [], {}, {}
    for generator in args.cases.split(","):
        spec, demos, config = configure(generator, args.steps)
        configs[generator] = config
        ranking, pre[generator] = pre_training(spec, demos, config)
        print(f"{generator} on {spec.task}: pre-training {pre[generator]:.1f} CPU-s", flush=True)
        for repeat in range(args.repeats):
            order = ("plain", "irl_gan") if repeat % 2 == 0 else ("irl_gan", "plain")
            rates = {side: plain(spec, config) if side == "plain" else ours(spec, demos, config, ranking) for side in order}
            row = {"task": spec.task, "generator": generator, "repeat": repeat, "steps": config.steps, "n_envs": config.n_envs}
            for clock in ("cpu", "wall"):
                row[f"plain_steps_per_{clock}_s"] = round(rates["plain"][clock], 1)
                row[f"irl_gan_steps_per_{clock}_s"] = round(rates["irl_gan"][clock], 1)
                row[f"ratio_{clock}"] = round(rates["irl_gan"][clock] / rates["plain"][clock], 3)
            row["irl_gan_cpu_s"] = round(rates["irl_gan"]["cpu_s"], 2)
            row.update({f"own_{k}_s": round(rates["irl_gan"][k], 3) for k in OWN_WORK})
            row["pre_training_cpu_s"] = round(pre[generator], 2)
            rows.append(row)
            print(row, flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "throughput.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    text = summary(rows, pre, configs, args.repeats, shlex.join([".venv/bin/python", "benchmarks/throughput.py", *sys.argv[1:]]))
    (args.out / "throughput.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
