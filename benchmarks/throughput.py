"""Throughput: env steps/s of `irl-gan train` against the same generator trained by plain SB3
on the true reward, same envs and settings, measured side by side in one process (issue 4).

For each generator (PPO, SAC) and each repeat, two runs of the same length are timed one after
the other, plain SB3 then irl_gan (the order alternates between repeats, so drift in the
machine's load falls on both sides):

* plain:   SB3 ``learn`` on ``VecNormalize(make_vec_env(task))`` with the trainer's settings;
* irl_gan: ``Trainer.train`` (gan-gcl, K = 1, 4 demos): the same envs, wrapped by the recorder;
  every cost update, log π evaluation, relabelling and the final save of outputs included.

Both sides are built before the clock starts. One torch thread, envs in the same process, so each
side runs on one core and its CPU time counts its own work alone: steps per CPU-second is the
headline ratio, steady when other jobs share the machine; steps per wall-clock second is
reported beside it. Each ratio is the median over repeats of (irl_gan rate) / (plain rate).

    .venv/bin/python benchmarks/throughput.py [--task halfcheetah] [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
STEPS = {"ppo": 49_152, "sac": 5_000}
# SAC trains from its first thousand steps, so most of the timed steps include gradient updates.
SAC_SETTINGS = {"learning_starts": 1000, "buffer_size": 100_000}


class Clock:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def rates(self, steps: int) -> dict:
        return {"wall": steps / self.wall, "cpu": steps / self.cpu, "cpu_s": self.cpu}


def plain(spec, config):
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


def ours(spec, demos, config):
    from irl_gan.trainer import Trainer

    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(spec, config.select_demos(demos), config, Path(out) / "run")
        with Clock() as clock:
            trainer.train(progress=False)
        return clock.rates(trainer.model.num_timesteps)


def own_share(spec, demos, config) -> dict:
    """CPU seconds of the trainer's own work in one run, timed around the methods that do it: the
    cost's updates, the relabelling of PPO's rollouts or SAC's replayed samples, the recorder's
    bookkeeping (its step minus the env's), logging and saving. A steadier figure than the
    ratio of two runs: it does not depend on how fast the machine was during either."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    from irl_gan.recorder import Recorder
    from irl_gan.trainer import Trainer

    spent = {"cost": 0.0, "relabel": 0.0, "recorder": 0.0, "env": 0.0, "log_and_save": 0.0}
    wrapped = {(Trainer, "update_cost"): "cost", (Trainer, "relabel"): "relabel", (Trainer, "replay_reward"): "relabel",
               (Trainer, "log"): "log_and_save", (Trainer, "save_checkpoint"): "log_and_save",
               (Recorder, "step_wait"): "recorder", (DummyVecEnv, "step_wait"): "env"}
    originals = {key: getattr(*key) for key in wrapped}

    def timed(fn, name):
        def call(*args, **kwargs):
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.process_time() - t
        return call

    for (cls, attr), name in wrapped.items():
        setattr(cls, attr, timed(originals[(cls, attr)], name))
    try:
        total = ours(spec, demos, config)["cpu_s"]
    finally:
        for (cls, attr), fn in originals.items():
            setattr(cls, attr, fn)
    spent["recorder"] -= spent.pop("env")  # the recorder's step includes the envs' own
    return {"total": total, **spent}


def main() -> int:
    import torch

    from irl_gan.config import resolve_config
    from irl_gan.data import load_demos
    from irl_gan.tasks import load_spec

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", default="halfcheetah")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--generators", default="ppo,sac")
    args = p.parse_args()
    torch.set_num_threads(1)
    # TrainConfig's generic generator settings (4 envs, 64x64 networks), not the task's tuned `train:`
    # block: a light generator, so the trainer's own work is the largest share it can be.
    spec = dataclasses.replace(load_spec(args.task), train={})
    demos_path = ROOT / "demos" / f"{spec.task}.h5"
    demos = load_demos(demos_path, spec)

    configs = {}
    for generator in args.generators.split(","):
        # No periodic evaluation: plain SB3 does none, and it is a diagnostic that costs env steps
        # (5 episodes per eval_every steps), not training work.
        layer = {"demos": str(demos_path), "generator": generator, "steps": STEPS[generator], "algo": "gan-gcl", "segment": 1, "eval_every": 0}
        if generator == "sac":
            layer["sac"] = SAC_SETTINGS
        configs[generator] = resolve_config(spec, [("benchmark", layer)])

    rows = []
    for generator, config in configs.items():
        for repeat in range(args.repeats):
            order = ("plain", "irl_gan") if repeat % 2 == 0 else ("irl_gan", "plain")
            rates = {}
            for side in order:
                rates[side] = plain(spec, config) if side == "plain" else ours(spec, demos, config)
            row = {"task": spec.task, "generator": generator, "repeat": repeat, "steps": config.steps, "n_envs": config.n_envs}
            for clock in ("cpu", "wall"):
                row[f"plain_steps_per_{clock}_s"] = round(rates["plain"][clock], 1)
                row[f"irl_gan_steps_per_{clock}_s"] = round(rates["irl_gan"][clock], 1)
                row[f"ratio_{clock}"] = round(rates["irl_gan"][clock] / rates["plain"][clock], 3)
            rows.append(row)
            print(row, flush=True)

    shares = {}
    for generator, config in configs.items():
        shares[generator] = own_share(spec, demos, config)
        print(generator, shares[generator], flush=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "throughput.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    lines = [
        "# Throughput: `irl-gan train` against plain SB3 on the true reward",
        "",
        f"Task {spec.task} ({spec.env_id}), gan-gcl with K = 1 and 4 demos, TrainConfig's generic settings (not the task's",
        f"`train:` block; {config.n_envs} envs, policy {config.policy_kwargs}, {config.disc_updates} cost updates per round,",
        "no periodic evaluation);",
        f"one torch thread; {args.repeats} interleaved repeats; {platform.processor() or platform.machine()}, {os.cpu_count()} cores,",
        f"load average {os.getloadavg()[0]:.1f} at the end. Command: `.venv/bin/python benchmarks/throughput.py`.",
        "With another job on the second core, single repeats varied by about 15% either way, in CPU time",
        "as in wall time: read the medians.",
        "",
        "| generator | env steps per run | plain SB3 steps per CPU-s | irl_gan steps per CPU-s | ratio, CPU time | ratio, wall clock (range) | target >= 0.9x |",
        "|---|---|---|---|---|---|---|",
    ]
    for generator in configs:
        g = [r for r in rows if r["generator"] == generator]
        cpu, wall = statistics.median(r["ratio_cpu"] for r in g), statistics.median(r["ratio_wall"] for r in g)
        lines.append(
            f"| {generator} | {g[0]['steps']:,} | {statistics.median(r['plain_steps_per_cpu_s'] for r in g):.0f} | "
            f"{statistics.median(r['irl_gan_steps_per_cpu_s'] for r in g):.0f} | {cpu:.2f}x | {wall:.2f}x "
            f"({min(r['ratio_wall'] for r in g):.2f}-{max(r['ratio_wall'] for r in g):.2f}) | {'met' if cpu >= 0.9 else 'NOT met'} |"
        )
    lines += [
        "",
        "The trainer's own work, timed inside one more run of each (CPU seconds, and the share of the run's):",
        "",
        "| generator | run | cost updates | relabelling | recorder | logging and saving | own work in all |",
        "|---|---|---|---|---|---|---|",
    ]
    for generator, sh in shares.items():
        own = sum(v for k, v in sh.items() if k != "total")
        cells = " | ".join(f"{sh[k]:.2f} s ({sh[k] / sh['total']:.1%})" for k in ("cost", "relabel", "recorder", "log_and_save"))
        lines.append(f"| {generator} | {sh['total']:.1f} s | {cells} | {own / sh['total']:.1%} |")
    (RESULTS / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
