"""The ``irl-gan`` command line: a thin shell over the library.

Every user error is one line on stderr, ``irl-gan: error: ...``, and exit status 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from irl_gan.errors import UserError
from irl_gan.evaluation import EVAL_SEED


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="irl_gan")
def cli() -> None:
    """Imitation learning where the GAN discriminator, the MaxEnt IRL cost and the energy model
    are one network (Finn, Christiano, Abbeel & Levine 2016).

    \b
    Typical session:
      irl-gan record halfcheetah --agent agents/halfcheetah --episodes 25 --out cheetah.h5
      irl-gan demos info cheetah.h5
      irl-gan train --task halfcheetah --demos cheetah.h5 --algo gan-gcl --out runs/cheetah
      irl-gan eval-policy runs/cheetah --task halfcheetah --episodes 10 --video cheetah.mp4
      irl-gan eval-reward runs/cheetah             # learned vs true reward: Pearson, EPIC, plots
      irl-gan retrain runs/cheetah --task halfcheetah-gravity   # a fresh agent on the learned reward
      irl-gan report runs/cheetah                  # one HTML page for the run
      irl-gan verify --demos cheetah.h5            # the paper's identities, in float64
    """


# ---------------------------------------------------------------------------- experts


@cli.group()
def expert() -> None:
    """Train the expert agents that demonstrations are recorded from."""


@expert.command("train")
@click.argument("task")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Agent directory [default: agents/TASK].")
@click.option("--timesteps", type=click.IntRange(min=1), default=None, help="Override the recipe's env steps.")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in OUT/checkpoints.")
@click.option("--force", is_flag=True, help="Train from scratch even if OUT already holds an agent or checkpoints.")
@click.option("--eval-episodes", type=click.IntRange(min=1), default=50, show_default=True, help="Episodes for the card's returns.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
def expert_train(task, out, timesteps, resume, force, eval_episodes, no_progress) -> None:
    """Train TASK's expert by its recipe (irl_gan/envs/TASK.yaml) and write its agent directory.

    Writes OUT/model.zip (SB3 checkpoint), OUT/obs_norm.npz (if the recipe normalises
    observations) and OUT/card.yaml (recipe, seed, steps, wall time, return mean +- std over
    the evaluation episodes, random-policy return), stores the normalisation scores in the
    task spec, and logs to TensorBoard under OUT/tb. Checkpoints every 50k steps; --resume
    continues a killed run.
    """
    from irl_gan.experts import train_expert
    from irl_gan.tasks import agents_dir, load_spec

    spec = load_spec(task)
    if spec.expert is None:
        raise UserError(f"task '{spec.task}' has no expert recipe; add an 'expert:' section (algo, timesteps, seed, ...) to its spec file")
    out = out or agents_dir() / spec.task
    if resume and force:
        raise UserError("--resume and --force contradict each other; pass one")
    existing = [p.name for p in (out / "model.zip", out / "checkpoints", out / "checkpoints.old") if p.exists()]
    if existing and not (resume or force):
        raise UserError(f"{out} already holds {' and '.join(existing)}; pass --resume to continue or --force to retrain from scratch")
    card = train_expert(spec, out, resume=resume, timesteps=timesteps, eval_episodes=eval_episodes, progress=not no_progress)
    det, rnd = card["deterministic"], card["random"]
    click.echo(
        f"{spec.task}: expert return {det['mean']:.1f} +- {det['std']:.1f} over {det['episodes']} episodes "
        f"(random {rnd['mean']:.1f}); trained {card['trained_timesteps']} steps in {card['wall_seconds'] / 60:.1f} min -> {out}"
    )


# ---------------------------------------------------------------------------- recording


def _agent_card(policy, agent: str) -> dict:
    card = getattr(policy, "card", None)
    if card is not None:
        return {**card, "path": agent}
    kind = "callable" if getattr(policy, "model", None) is None else "checkpoint"
    return {kind: agent}


@cli.command()
@click.argument("task")
@click.option("--agent", required=True, help="Agent directory, SB3 .zip checkpoint, or module:function (obs -> action).")
@click.option("--episodes", type=click.IntRange(min=1), required=True, help="Number of episodes to record.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output dataset (.h5).")
@click.option("--seed", type=int, default=0, show_default=True, help="Episode i is reset with seed SEED + i.")
@click.option("--deterministic", is_flag=True, help="Act with the policy's mean action instead of sampling.")
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def record(task, agent, episodes, out, seed, deterministic, force, no_progress) -> None:
    """Roll AGENT out on TASK and write a demonstration dataset.

    The dataset records the env id and spaces, the agent's card, each episode's return,
    length, seed and whether it ended by termination or truncation, and the task's
    normalisation scores. It is written atomically: an interrupted recording leaves no file.
    """
    from irl_gan.agents import check_policy_space, load_policy
    from irl_gan.data import SUFFIXES, make_meta, save_demos
    from irl_gan.rollout import rollout
    from irl_gan.tasks import load_spec

    if out.suffix not in SUFFIXES:
        raise UserError(f"--out {out} must end in .h5 or .hdf5")
    if out.exists() and not force:
        raise UserError(f"{out} already exists; pass --force to overwrite it")
    spec = load_spec(task)
    policy = load_policy(agent, deterministic=deterministic)
    env = spec.make_env()
    try:
        check_policy_space(policy, env, agent)
        episodes_ = rollout(env, policy, episodes, seed, progress=not no_progress, desc=f"record {spec.task}")
        meta = make_meta(spec, env, _agent_card(policy, agent), deterministic, source="irl-gan record")
    finally:
        env.close()
    save_demos(out, episodes_, meta)
    _print_summary(_load_checked(out, None))


# ---------------------------------------------------------------------------- datasets


@cli.group()
def demos() -> None:
    """Inspect, import and export demonstration datasets."""


def _load_checked(path: Path, task: str | None):
    """Validate a dataset, and check it against ``task`` or, if known, the task it names."""
    from irl_gan.data import load_demos, read_meta
    from irl_gan.tasks import load_spec

    if task is not None:
        return load_demos(path, load_spec(task))
    try:
        spec = load_spec(read_meta(path).get("task") or "")
    except UserError:
        spec = None  # a task this machine does not know: the dataset is still checked on its own
    return load_demos(path, spec)


def _print_summary(demos_) -> None:
    s = demos_.summary()
    mode = {True: "deterministic", False: "stochastic", None: "unknown"}[s["deterministic"]]
    lines = [
        f"{s['path']}: {s['task']} ({s['env_id']})",
        f"  episodes     {s['episodes']}  ({s['terminated']} terminated, {s['truncated']} truncated)",
        f"  steps        {s['steps']}  (mean length {s['length_mean']:.1f})",
        f"  return       {s['return_mean']:.2f} +- {s['return_std']:.2f}",
    ]
    if "normalised_mean" in s:
        sc = demos_.meta["scores"]
        lines.append(
            f"  normalised   {s['normalised_mean']:.3f} +- {s['normalised_std']:.3f}  (random {sc['random']:.1f}, expert {sc['expert']:.1f})"
        )
        if sc.get("zero") is not None and sc["zero"] > sc["random"]:
            lines.append(f"  acting zero  {sc['zero']:.1f} ({(sc['zero'] - sc['random']) / (sc['expert'] - sc['random']):.3f} normalised): the bar to beat, above random")
    else:
        lines.append("  normalised   n/a (no normalisation scores for this task yet; measure them with irl-gan scores TASK --agent EXPERT)")
    agent = demos_.meta.get("agent") or {}
    lines.append(f"  agent        {agent.get('path') or agent.get('callable') or agent.get('checkpoint') or 'unknown'} ({mode} actions)")
    click.echo("\n".join(lines))


@demos.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="Also check the dataset against this task [default: the task it names].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demos_info(path, task, as_json) -> None:
    """Validate the dataset at PATH and summarise it: episodes, steps, return, normalised score."""
    demos_ = _load_checked(path, task)
    if as_json:
        import json

        click.echo(json.dumps(demos_.summary(), indent=2))
    else:
        _print_summary(demos_)


@demos.command("import")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="The task the demonstrations were recorded on [default for Minari: the dataset's env id].")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output dataset (.h5).")
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "sb3-npz", "imitation", "minari"]), default="auto", show_default=True,
    help="sb3-npz: obs/actions/rewards/episode_starts .npz; imitation: a saved trajectories directory or .npz; "
         "minari: a Minari dataset's folder or its id (in MINARI_DATASETS_PATH or ~/.minari/datasets).",
)
@click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")
def demos_import(src, task, out, fmt, force) -> None:
    """Convert demonstrations in another format (SB3 .npz, imitation, Minari) to an irl_gan dataset."""
    from irl_gan.convert import detect_format, import_episodes, minari_env_id
    from irl_gan.data import SUFFIXES, make_meta, save_demos
    from irl_gan.tasks import load_spec

    if out.suffix not in SUFFIXES:
        raise UserError(f"--out {out} must end in .h5 or .hdf5")
    if out.exists() and not force:
        raise UserError(f"{out} already exists; pass --force to overwrite it")
    if fmt == "auto" and src.is_dir():
        fmt = detect_format(src)
    if task is None:
        task = minari_env_id(str(src)) if fmt == "minari" else None
        if task is None:
            raise UserError("pass --task: the task the demonstrations were recorded on")
    spec = load_spec(task)
    episodes, notes, fmt = import_episodes(src, fmt, spec.horizon)
    env = spec.make_env()
    try:
        meta = make_meta(spec, env, agent=None, deterministic=None, source=f"irl-gan demos import ({fmt}) from {src}")
    finally:
        env.close()
    meta["import_notes"] = notes
    # Validate before the file takes its final name, so a bad import leaves nothing behind.
    tmp = out.with_name(f".{out.name}.import.h5")
    save_demos(tmp, episodes, meta)
    try:
        _load_checked(tmp, spec.ref)
    except UserError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(str(exc).replace(str(tmp), str(src))) from None
    tmp.replace(out)
    _print_summary(_load_checked(out, spec.ref))
    for note in notes:
        click.echo(f"  note: {note}")


@demos.command("export-minari")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--id", "dataset_id", required=True, help="Minari dataset id, e.g. irl_gan/hopper/expert-v0.")
@click.option("--data-path", type=click.Path(path_type=Path), default=None, help="Minari datasets root [default: $MINARI_DATASETS_PATH or ~/.minari/datasets].")
def demos_export_minari(path, dataset_id, data_path) -> None:
    """Export the dataset at PATH to Minari, so that minari.load_dataset(ID) reads it."""
    from irl_gan.convert import export_minari

    where = export_minari(_load_checked(path, None), dataset_id, data_path)
    click.echo(f"exported {path} to Minari dataset '{dataset_id}' at {where}")


# ---------------------------------------------------------------------------- training


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
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None, help="YAML of TrainConfig settings (flags override it).")
@click.option("--resume", is_flag=True, help="Continue the run in OUT from its last checkpoint.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def train(task, demos_path, algo, generator, segment, demo_episodes, steps, seed, out, config_file, resume, no_progress) -> None:
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
             "demo_episodes": demo_episodes, "steps": steps, "seed": seed}
    spec = load_spec(task or _task_of(demos_path))
    config, s = _run_training(spec, out, config_file, flags, resume, no_progress)
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


def _task_of(demos_path: Path | None) -> str:
    """The task a dataset was recorded on, for commands given no --task."""
    from irl_gan.data import read_meta

    if demos_path is None:
        raise UserError("no task given; pass --task (a shipped task, a spec file or a gymnasium id) or --demos recorded on it")
    task = read_meta(demos_path).get("task")
    if not task:
        raise UserError(f"{demos_path} names no task; pass --task")
    return task


def _given_layers(config_file: Path | None, flags: dict) -> list[tuple[str, dict]]:
    """The settings a user gave: --config's file, then the flags that were set."""
    import yaml

    layers = []
    if config_file is not None:
        if not config_file.exists():
            raise UserError(f"--config {config_file}: no such file")
        try:
            layers.append((str(config_file), yaml.safe_load(config_file.read_text()) or {}))
        except yaml.YAMLError:
            raise UserError(f"--config {config_file}: not valid YAML") from None
    layers.append(("command line", {k: v for k, v in flags.items() if v is not None}))
    return layers


def _run_training(spec, out: Path, config_file: Path | None, flags: dict, resume: bool, no_progress: bool, base: list[tuple[str, dict]] = ()):
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
    config = resolve_config(spec, layers + list(base) + _given_layers(config_file, flags))
    demos_ = None
    if config.demos is not None:
        demos_ = config.select_demos(_load_checked(Path(config.demos), spec.ref))  # the episodes learned from; too few is a one-line error
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


@cli.command("eval-reward")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="Task to judge the reward on (a transfer task, say) [default: the run's own].")
@click.option("--episodes", type=click.IntRange(min=1), default=4, show_default=True, help="Held-out episodes from each policy (expert, noisy expert, learned, random).")
@click.option("--seed", type=click.IntRange(min=0), default=2_000_000, show_default=True, help="Seed of the first held-out episode.")
@click.option("--cost", "which", default="final", show_default=True, metavar="final|average|STEP",
              help="The run's last cost (cost.pt), the mean of its snapshots (cost_history/), or the snapshot taken at env step STEP.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Where the plots and reward_eval.yaml go [default: RUN/reward-eval-TASK, with -average or -atSTEP for --cost].")
@click.option("--agent", default=None, help="Expert whose transitions join the held-out set (agent directory, SB3 .zip or module:function) [default: the task's shipped expert, if any].")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
def eval_reward(run, task, episodes, seed, which, out, agent, no_progress) -> None:
    """How well RUN's learned reward matches the true reward, on held-out transitions.

    Prints the Pearson and Spearman correlations of learned with true reward, and the EPIC
    distance (0: the same reward up to shaping and scale; 1: opposite) where the task's reward
    has a closed form. Saves a scatter plot of learned against true reward, a heat-map of both
    over the plane on the point-mass maze, and the numbers in reward_eval.yaml.
    """
    import yaml

    from irl_gan.io import atomic_write_text
    from irl_gan.reward import cost_label, run_cost
    from irl_gan.reward_eval import evaluate_reward
    from irl_gan.tasks import load_spec

    saved = run / "config.yaml"
    if not saved.is_file():
        raise UserError(f"{run}: not a training run (no config.yaml); give a directory written by irl-gan train")
    spec = load_spec(task or (yaml.safe_load(saved.read_text()) or {}).get("task", ""))
    run_cost(run, which)  # a bad --cost fails before any rollout
    out = out or run / f"reward-eval-{spec.task}{cost_label(which)}"
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a directory for the plots and reward_eval.yaml")
    r = evaluate_reward(run, spec, episodes, seed, out, progress=not no_progress, which=which, agent=agent)
    atomic_write_text(out / "reward_eval.yaml", yaml.safe_dump(r, sort_keys=False))
    click.echo(f"{spec.task}: {r['transitions']} held-out transitions ({', '.join(f'{k} {v}' for k, v in r['sources'].items())})")
    click.echo(f"  expert: {r['expert_agent']}" if r["expert_agent"] else "  expert: none found, its transitions are left out (pass --agent to include them)")
    click.echo(f"  Pearson {r['pearson']:.3f}   Spearman {r['spearman']:.3f}")
    if r["epic"] is not None and r["epic"] != r["epic"]:
        click.echo("  EPIC: n/a, a canonical reward is constant over these transitions (the learned reward ranks nothing)")
    elif r["epic"] is not None:
        click.echo(f"  EPIC distance {r['epic']:.3f}  (true reward: {r['epic_true_reward']})")
    else:
        click.echo(f"  EPIC: n/a, {r['epic_note']}")
    if "plane_pearson" in r:
        click.echo(f"  over the plane at rest: Pearson {r['plane_pearson']:.3f}")
    click.echo(f"  plots and numbers in {out}")


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="HTML file [default: RUN/report.html].")
@click.option("--no-eval", is_flag=True, help="Do not evaluate the learned reward when the run has no evaluation yet.")
@click.option("--no-video", is_flag=True, help="Leave the video of the policy out.")
@click.option("--video-steps", type=click.IntRange(min=1), default=300, show_default=True, help="Length of the video in env steps.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
def report(run, out, no_eval, no_video, video_steps, no_progress) -> None:
    """Write one self-contained HTML report for the training run RUN.

    It shows the learning curves and training diagnostics, the learned reward's correlations
    and EPIC distance with its plots (evaluated now with the defaults of eval-reward if the run
    has none yet), every retrain result under RUN, a short video of the policy where rendering
    works, and the run's settings. Open it in any browser; plots and video are embedded.
    """
    import tempfile

    import yaml

    from irl_gan.io import atomic_write_text
    from irl_gan.report import build_report, read_metrics, render_policy
    from irl_gan.tasks import load_spec

    saved = run / "config.yaml"
    if not saved.is_file():
        raise UserError(f"{run}: not a training run (no config.yaml); give a directory written by irl-gan train")
    read_metrics(run)
    spec = load_spec(_run_task(run, "a run directory written by irl-gan train"))
    if not no_eval and (run / "cost.pt").is_file() and not any(run.glob("reward-eval-*/reward_eval.yaml")):
        from irl_gan.reward_eval import evaluate_reward

        where = run / f"reward-eval-{spec.task}"
        r = evaluate_reward(run, spec, out=where, progress=not no_progress)
        atomic_write_text(where / "reward_eval.yaml", yaml.safe_dump(r, sort_keys=False))
    out = out or run / "report.html"
    if out.is_dir():
        raise UserError(f"--out {out} is a directory; give the HTML file's name, e.g. {out / 'report.html'}")
    with tempfile.TemporaryDirectory() as tmp:
        video = None
        if not no_video:
            try:
                video = render_policy(run, spec, Path(tmp) / "policy.mp4", steps=video_steps)
            except UserError as exc:
                click.echo(f"no video in the report: {exc}", err=True)
        atomic_write_text(out, build_report(run, video, spec.scores))
    click.echo(f"report written to {out}")


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="Task to retrain on (a transfer task, say) [default: the run's own].")
@click.option("--generator", type=click.Choice(["ppo", "sac"]), default=None, help="Policy optimiser [default: the task's, ppo].")
@click.option("--steps", type=int, default=None, help="Env steps [default: the task's].")
@click.option("--seed", type=int, default=None)
@click.option("--cost", "which", default="final", show_default=True, metavar="final|average|STEP",
              help="The run's last cost (cost.pt), the mean of its snapshots (cost_history/, from training with cost_history_every > 0), or the snapshot taken at env step STEP.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Run directory [default: RUN/retrain-TASK-GENERATOR-sSEED, with -average or -atSTEP for --cost].")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None, help="YAML of TrainConfig settings (flags override it).")
@click.option("--episodes", type=click.IntRange(min=1), default=20, show_default=True, help="Deterministic episodes for the final evaluation.")
@click.option("--shaped", is_flag=True, help="A run with a shaped cost (airl, or shaped: true): train on its whole reward g(s) + γh(s') - h(s), not g alone (on the run's own task only).")
@click.option("--resume", is_flag=True, help="Continue the retraining in OUT from its last checkpoint.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def retrain(run, task, generator, steps, seed, which, out, config_file, episodes, shaped, resume, no_progress) -> None:
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
    from irl_gan.reward import cost_label, run_cost
    from irl_gan.tasks import load_spec

    saved = run / "config.yaml"
    if not (run / "cost.pt").is_file() or not saved.is_file():
        raise UserError(f"{run}: not a training run with a learned cost (no cost.pt and config.yaml); give a directory written by irl-gan train")
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

        planned = resolve_config(spec, base + _given_layers(config_file, flags))
        out = run / f"retrain-{spec.task}-{planned.generator}-s{planned.seed}{cost_label(which)}{'-shaped' if shaped else ''}"
    config, _ = _run_training(spec, out, config_file, flags, resume, no_progress, base)
    result = evaluate_policy(spec, load_policy(out), episodes, seed=500_000, progress=not no_progress)
    summary = {"source_run": str(run), "source_task": source.get("task"), "cost": which, "shaped": bool(shaped), "task": spec.task, "generator": config.generator,
               "steps": config.steps, "seed": config.seed, "episodes": episodes, "return_mean": result["mean"], "return_std": result["std"]}
    kind = {"final": "", "average": "averaged "}.get(which, f"env step {which}'s ")
    line = f"retrained on {run}'s {kind}{'shaped ' if shaped else ''}reward, {spec.task} {config.generator} {config.steps} steps: true return {result['mean']:.1f} +- {result['std']:.1f}"
    if "normalised_mean" in result:
        summary["normalised_mean"] = result["normalised_mean"]
        line += f", normalised {result['normalised_mean']:.3f}"
    atomic_write_text(out / "retrain.yaml", yaml.safe_dump(summary, sort_keys=False))
    click.echo(f"{line} -> {out}")


# ---------------------------------------------------------------------------- the identities


@cli.command()
@click.option("--demos", "demos_path", type=click.Path(path_type=Path), default=None, help="Check on this demo file against a fresh policy [default: random data].")
@click.option("--segment", "segments", multiple=True, default=None, help="Segment length K (an integer or 'full'); repeatable [default: 1, 10, full].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--tol", type=float, default=1e-8, show_default=True, help="Largest relative discrepancy accepted.")
def verify(demos_path, segments, seed, tol) -> None:
    """Check numerically, in float64, that the GAN discriminator, the MaxEnt IRL cost and the
    energy model are one object (the three identities of docs/concepts.md), and print each discrepancy.

    \b
    1. Z* (the discriminator's optimal Z) equals the importance-sampling estimate Z_hat.
    2. The discriminator's gradient at Z* equals guided cost learning's gradient.
    3. The generator's GAN loss equals MaxEnt RL on the cost.

    Exits 0 when every discrepancy is below --tol, 1 otherwise.
    """
    from irl_gan.verify import verify_demos, verify_random

    ks = []
    for k in segments or ("1", "10", "full"):
        if k != "full" and not (k.isdigit() and int(k) >= 1):
            raise UserError(f"--segment {k!r}: use a positive integer or 'full'")
        ks.append(k)
    if demos_path is None:
        reports = verify_random(ks=[100 if k == "full" else int(k) for k in ks], seed=seed)
    else:
        from irl_gan.data import read_meta
        from irl_gan.tasks import load_spec

        spec = load_spec(read_meta(demos_path).get("task"))
        reports = verify_demos(_load_checked(demos_path, spec.ref), spec, ks, seed=seed)
    worst = 0.0
    for r in reports:
        click.echo(f"{r.label}: K={r.k}, {r.segments} + {r.segments} segments, max |log q(x)| = {r.max_abs_log_q:.3g}")
        for i in r.identities:
            worst = max(worst, i.discrepancy)
            mark = "ok" if i.discrepancy < tol else "FAILED"
            click.echo(f"  {i.name}\n      {i.lhs:.12g}  vs  {i.rhs:.12g}    discrepancy {i.discrepancy:.2e}  {mark}")
    verdict = "all identities hold" if worst < tol else "IDENTITY VIOLATED"
    click.echo(f"{verdict}: largest discrepancy {worst:.2e} (tolerance {tol:g})")
    if worst >= tol:
        click.get_current_context().exit(1)


# ---------------------------------------------------------------------------- evaluation


@cli.command("eval-policy")
@click.argument("agent")
@click.option("--task", default=None, help="Task to evaluate on [default: the run's own, when AGENT is a training run].")
@click.option("--episodes", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--seed", type=int, default=EVAL_SEED, show_default=True,
              help="Episode i is reset with seed SEED + i (the default keeps clear of record's seeds, which start at 0).")
@click.option("--stochastic", is_flag=True, help="Sample actions instead of taking the mean action.")
@click.option("--video", type=click.Path(path_type=Path), default=None, help="Render the first episode(s) headless to this .mp4.")
@click.option("--video-episodes", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def eval_policy(agent, task, episodes, seed, stochastic, video, video_episodes, no_progress) -> None:
    """Evaluate AGENT on TASK: return mean +- std and the normalised score."""
    from irl_gan.agents import load_policy
    from irl_gan.evaluation import evaluate_policy
    from irl_gan.tasks import load_spec

    spec = load_spec(task or _run_task(Path(agent), "--task"))
    policy = load_policy(agent, deterministic=not stochastic)
    r = evaluate_policy(spec, policy, episodes, seed, video, video_episodes, progress=not no_progress, agent_name=agent)
    line = f"{spec.task}: return {r['mean']:.2f} +- {r['std']:.2f} over {r['episodes']} episodes (mean length {r['length_mean']:.0f})"
    if "normalised_mean" in r:
        line += f"; normalised {r['normalised_mean']:.3f} +- {r['normalised_std']:.3f}"
    click.echo(line)
    if video:
        click.echo(f"video: {r['video']} ({r['video_frames']} frames)")


@cli.command()
@click.argument("task")
@click.option("--agent", default=None, help="Expert to score (agent directory, SB3 .zip or module:function) [default: the task's shipped expert, if any].")
@click.option("--episodes", type=click.IntRange(min=1), default=50, show_default=True, help="Episodes for each policy.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
def scores(task, agent, episodes, no_progress) -> None:
    """Measure TASK's normalisation scores and keep them for every later command.

    Rolls out a random policy, a policy that always acts zero and the expert (--agent, or the
    shipped one), each for --episodes episodes from the evaluation seeds, and stores the mean
    returns in ~/.irl_gan/scores.yaml ($IRL_GAN_HOME), where they override the task spec's own.
    Normalised scores are then (R - random) / (expert - random); where acting zero beats random,
    demos info and the report say so.
    """
    import numpy as np

    from irl_gan.agents import check_policy_space, load_policy
    from irl_gan.reward_eval import expert_agent
    from irl_gan.rollout import random_policy, rollout
    from irl_gan.tasks import Scores, load_spec, store_scores

    spec = load_spec(task)
    expert_path = expert_agent(spec, agent)
    if expert_path is None and spec.scores is None:
        raise UserError(f"task '{spec.task}' has no shipped expert and no expert score; pass --agent with an expert to score")
    env = spec.make_env()
    try:
        space = env.action_space
        zero = np.clip(np.zeros(space.shape, space.dtype), space.low, space.high)
        policies = [("random", random_policy(env)), ("zero-action", lambda obs: zero)]
        if expert_path is not None:
            expert = load_policy(expert_path)
            check_policy_space(expert, env, expert_path)
            policies.append(("expert", expert))
        means = {name: float(np.mean([e.ret for e in rollout(env, policy, episodes, EVAL_SEED, not no_progress, desc=name)]))
                 for name, policy in policies}
    finally:
        env.close()
    expert_mean = means.get("expert", spec.scores.expert if spec.scores else None)
    if expert_mean == means["random"]:
        raise UserError(f"the expert's mean return equals the random policy's ({expert_mean:.2f}): nothing to normalise against; pass a better --agent")
    where = store_scores(spec, Scores(means["random"], expert_mean, episodes, means["zero-action"]))
    click.echo(f"{spec.task}: random {means['random']:.2f}, zero-action {means['zero-action']:.2f}, expert {expert_mean:.2f}"
               + ("" if "expert" in means else " (kept from the spec: no agent given)") + f" over {episodes} episodes -> {where}")
    if means["zero-action"] > means["random"]:
        click.echo(f"  acting zero scores {Scores(means['random'], expert_mean, episodes).normalise(means['zero-action']):.3f} normalised: "
                   "a learned policy must beat that, not just 0")


def _run_task(path: Path, flag: str) -> str:
    """The task a training run was trained on, for commands given no task."""
    import yaml

    saved = path / "config.yaml"
    if not saved.is_file():
        raise UserError(f"{path} is not a training run (no config.yaml), so it names no task; pass {flag}")
    return (yaml.safe_load(saved.read_text()) or {}).get("task") or ""


# ---------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line and exit code 2, never a traceback."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    try:
        # Without standalone mode, ctx.exit(n) comes back as the return value.
        code = cli.main(args=argv, prog_name="irl-gan", standalone_mode=False)
    except UserError as exc:
        click.echo(f"irl-gan: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("irl-gan: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if getattr(exc, "ctx", None) else ""
        click.echo(f"irl-gan: error: {exc.format_message()}{hint}", err=True)
        return 2
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
