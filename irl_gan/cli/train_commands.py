"""Commands that train: train and retrain."""

from __future__ import annotations

from pathlib import Path

import click

from irl_gan.cli.app import cli, load_checked, task_of
from irl_gan.errors import UserError


@cli.command()
@click.option("--task", default=None, help="A shipped task, a spec file or a gymnasium id (Hopper-v5, module:EnvId) [default: the demos' task].")
@click.option("--demos", "demos_path", type=click.Path(path_type=Path), default=None, help="Demonstrations (.h5).")
@click.option("--algo", type=click.Choice(["gan-gcl", "gcl", "airl", "gail", "rl", "bc", "drex"]), default=None,
              help="Estimator [default: gan-gcl]; rl: the generator on the true reward (the oracle, no cost); bc: behavioural cloning; "
                   "drex: a state-only cost ranked on noisy rollouts of the cloned policy (no generator).")
@click.option("--generator", type=click.Choice(["ppo", "sac"]), default=None, help="Policy optimiser [default: ppo].")
@click.option("--segment", default=None, help="Segment length K: an integer, or 'full' [default: 1].")
@click.option("--demo-episodes", type=int, default=None, help="Learn from the first N demo episodes [default: 4].")
@click.option("--steps", type=int, default=None, help="Generator env steps.")
@click.option("--seed", type=int, default=None)
@click.option("--protocol", type=click.Choice(["native", "fixed"]), default=None,
              help="How training episodes end: native, as the task ends them; fixed, all at the horizon [default: native]. Evaluation is on the standard task.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory.")
@click.option("--config", "config_files", type=click.Path(path_type=Path), multiple=True, help="YAML of TrainConfig settings; repeat it to layer files in order (flags override them).")
@click.option("--resume", is_flag=True, help="Continue the run in OUT from its last checkpoint.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def train(task, demos_path, algo, generator, segment, demo_episodes, steps, seed, protocol, out, config_files, resume, no_progress) -> None:
    """Learn a policy and a cost from demonstrations (guided cost learning; PPO or SAC generator).

    --algo rl trains the same generator on the env's true reward instead: the oracle that the
    imitation methods are measured against (no demos needed).

    Writes to OUT: policy.zip (an SB3 checkpoint), obs_norm.npz, cost.pt (the learned cost,
    loadable as a reward with irl_gan.reward.LearnedReward), config.yaml (the full resolved
    settings), metrics.csv and tb/ (TensorBoard: true return, normalised score, log Z, ESS,
    energies, discriminator accuracy, losses, env steps/s), and checkpoint/ for --resume.
    """
    from irl_gan.tasks import load_spec

    flags = {"demos": str(demos_path) if demos_path else None, "algo": algo, "generator": generator, "segment": segment,
             "demo_episodes": demo_episodes, "steps": steps, "seed": seed, "protocol": protocol}
    spec = load_spec(task or task_of(demos_path))
    config, s = run_training(spec, out, config_files, flags, resume, no_progress)
    line = f"{spec.task} {config.algo} K={config.segment}: {int(s.get('env_steps') or 0)} env steps"
    if s.get("true_return") is not None:
        line += f", true return {s['true_return']:.1f}"
    if s.get("normalised") is not None:
        line += f", normalised {s['normalised']:.3f}"
    if s.get("eval_return") is not None:
        line += f"; deterministic eval {s['eval_return']:.1f}"
        if s.get("eval_normalised") is not None:
            line += f" (normalised {s['eval_normalised']:.3f})"
    click.echo(f"{line} -> {out}" + (f"  (tensorboard --logdir {out / 'tb'})" if (out / "tb").is_dir() else ""))


def given_layers(config_files: tuple[Path, ...], flags: dict) -> list[tuple[str, dict]]:
    """The settings a user gave: each --config file in order, then the flags that were set."""
    import yaml

    layers = []
    for config_file in config_files:
        if not config_file.exists():
            raise UserError(f"--config {config_file}: no such file")
        try:
            layers.append((str(config_file), yaml.safe_load(config_file.read_text()) or {}))
        except yaml.YAMLError:
            raise UserError(f"--config {config_file}: not valid YAML") from None
    layers.append(("command line", {k: v for k, v in flags.items() if v is not None}))
    return layers


def run_training(spec, out: Path, config_files: tuple[Path, ...], flags: dict, resume: bool, no_progress: bool, base: list[tuple[str, dict]] = ()):
    """Resolve the settings (task defaults, a saved run's config on --resume, then ``base``,
    --config, flags), then train into OUT; returns the config and the trainer's summary."""
    import yaml

    from irl_gan.io import LOCK_NAME, hold_dir
    from irl_gan.config import resolve_config
    from irl_gan.trainer import Trainer

    layers = []
    saved = out / "config.yaml"
    if out.is_dir():
        hold_dir(out)  # before reading its checkpoint: another process may be training into it
    if resume and saved.exists():
        layers.append((str(saved), {k: v for k, v in yaml.safe_load(saved.read_text()).items() if k != "task"}))
    elif out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()) and not resume:
        raise UserError(f"run directory {out} is not empty; pass --resume to continue it, or choose a new --out")
    config = resolve_config(spec, layers + list(base) + given_layers(config_files, flags))
    demos_ = None
    if config.demos is not None:
        demos_ = config.select_demos(load_checked(Path(config.demos), spec.ref))  # the episodes learned from; too few is a one-line error
    if resume and not saved.exists():
        raise UserError(f"--resume: {out} holds no run to resume; start one without --resume")
    if config.algo in ("bc", "drex"):
        from irl_gan.bc import train_bc
        from irl_gan.drex import train_drex

        if resume:
            click.echo(f"{config.algo} has no checkpoints (it takes minutes); training it again from the start", err=True)
        hold_dir(out)
        return config, (train_bc if config.algo == "bc" else train_drex)(spec, demos_, config, out, progress=not no_progress)
    trainer = Trainer(spec, demos_, config, out)
    if resume and not trainer.load_checkpoint():
        # Killed before its first checkpoint: nothing to keep, so the run starts over.
        click.echo(f"no checkpoint in {out} yet; starting the run from step 0", err=True)
        trainer.run.purge_step = 0
    hold_dir(out)  # a new run: claimed as it is created
    return config, trainer.train(progress=not no_progress)  # config.yaml first, then the policy and cost with each checkpoint


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="Task to retrain on (a transfer task, say) [default: the run's own].")
@click.option("--generator", type=click.Choice(["ppo", "sac"]), default=None, help="Policy optimiser [default: the task's, ppo].")
@click.option("--steps", type=int, default=None, help="Env steps [default: the task's].")
@click.option("--seed", type=int, default=None)
@click.option("--cost", "which", default=None, metavar="final|average|STEP",
              help="The run's last cost (cost.pt), the mean of its snapshots (cost_history/), or the snapshot taken at env step STEP [default: average, or final for a run that kept no snapshots].")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run directory [default: RUN/retrain-TASK-GENERATOR-sSEED, with -average or -atSTEP for --cost].")
@click.option("--config", "config_files", type=click.Path(path_type=Path), multiple=True, help="YAML of TrainConfig settings; repeat it to layer files in order (flags override them).")
@click.option("--episodes", type=click.IntRange(min=1), default=20, show_default=True, help="Deterministic episodes for the final evaluation.")
@click.option("--shaped", is_flag=True, help="A run with a shaped cost (airl, or shaped: true): train on its whole reward g(s) + γh(s') - h(s), not g alone (on the run's own task only).")
@click.option("--resume", is_flag=True, help="Continue the retraining in OUT from its last checkpoint.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def retrain(run, task, generator, steps, seed, which, out, config_files, episodes, shaped, resume, no_progress) -> None:
    """Train a fresh agent on RUN's learned reward alone, frozen, and report its true return.

    The agent never sees the env's reward: it is the test of whether the cost explains the
    expert. With --task, the reward is carried to another task with the same observations and
    actions (the transfer tasks: halfcheetah-gravity, ant-disabled, pointmaze-shifted, ...).
    Writes a training run to OUT, and retrain.yaml there with the final evaluation.
    """
    import yaml

    from irl_gan.agents import load_policy
    from irl_gan.evaluation import evaluate_policy
    from irl_gan.io import atomic_write_text
    from irl_gan.reward import cost_label, cost_name, default_cost, run_cost
    from irl_gan.tasks import load_spec

    saved = run / "config.yaml"
    if not (run / "cost.pt").is_file() or not saved.is_file():
        raise UserError(f"{run}: not a training run with a learned cost (no cost.pt and config.yaml); give a directory written by irl-gan train")
    which = which or default_cost(run)
    cost = run_cost(run, which)
    source = yaml.safe_load(saved.read_text()) or {}
    spec = load_spec(task or source.get("task", ""))
    if shaped and spec.task != source.get("task"):
        raise UserError(f"--shaped keeps the shaping term h, learned under {source.get('task')}'s dynamics; retrain on {spec.task} without it (g alone transfers)")
    flags = {"algo": "rl", "reward": str(cost.resolve()), "generator": generator, "steps": steps, "seed": seed, "reward_shaped": shaped or None}
    # The cost is in the units of the temperature it was learned at, which SAC's entropy weight keeps;
    # a --config may still set another.
    base = [(f"{saved} (its temperature)", {"temperature": source["temperature"]})] if "temperature" in source else []
    if out is None:
        # Named by the generator and seed the run will have, wherever they were set.
        from irl_gan.config import resolve_config

        planned = resolve_config(spec, base + given_layers(config_files, flags))
        out = run / f"retrain-{spec.task}-{planned.generator}-s{planned.seed}{cost_label(which)}{'-shaped' if shaped else ''}"
    config, _ = run_training(spec, out, config_files, flags, resume, no_progress, base)
    result = evaluate_policy(spec, load_policy(out), episodes, seed=500_000, progress=not no_progress)
    summary = {"source_run": str(run), "source_task": source.get("task"), "cost": which, "shaped": bool(shaped), "task": spec.task, "generator": config.generator,
               "steps": config.steps, "seed": config.seed, "episodes": episodes, "return_mean": result["mean"], "return_std": result["std"]}
    kind = {"final": "final ", "average": "averaged "}.get(which, f"env step {which}'s ")
    line = f"retrained on {run}'s {kind}{'shaped ' if shaped else ''}reward, {spec.task} {config.generator} {config.steps} steps: true return {result['mean']:.1f} +- {result['std']:.1f}"
    if "normalised_mean" in result:
        summary["normalised_mean"] = result["normalised_mean"]
        line += f", normalised {result['normalised_mean']:.3f}"
    atomic_write_text(out / "retrain.yaml", yaml.safe_dump(summary, sort_keys=False))
    click.echo(f"{line} -> {out}")
