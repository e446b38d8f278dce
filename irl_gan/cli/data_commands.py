"""Commands on experts and datasets: expert train, record, demos, scores."""

from __future__ import annotations

from pathlib import Path

import click

from irl_gan.cli.app import cli, load_checked, print_summary
from irl_gan.errors import UserError
from irl_gan.evaluation import EVAL_SEED


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
    print_summary(load_checked(out, None))


@cli.group()
def demos() -> None:
    """Inspect, import and export demonstration datasets."""


@demos.command("info")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="Also check the dataset against this task [default: the task it names].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demos_info(path, task, as_json) -> None:
    """Validate the dataset at PATH and summarise it: episodes, steps, return, normalised score."""
    demos_ = load_checked(path, task)
    if as_json:
        import json

        click.echo(json.dumps(demos_.summary(), indent=2))
    else:
        print_summary(demos_)


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
        load_checked(tmp, spec.ref)
    except UserError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(str(exc).replace(str(tmp), str(src))) from None
    tmp.replace(out)
    print_summary(load_checked(out, spec.ref))
    for note in notes:
        click.echo(f"  note: {note}")


@demos.command("export-minari")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--id", "dataset_id", required=True, help="Minari dataset id, e.g. irl_gan/hopper/expert-v0.")
@click.option("--data-path", type=click.Path(path_type=Path), default=None, help="Minari datasets root [default: $MINARI_DATASETS_PATH or ~/.minari/datasets].")
def demos_export_minari(path, dataset_id, data_path) -> None:
    """Export the dataset at PATH to Minari, so that minari.load_dataset(ID) reads it."""
    from irl_gan.convert import export_minari

    where = export_minari(load_checked(path, None), dataset_id, data_path)
    click.echo(f"exported {path} to Minari dataset '{dataset_id}' at {where}")


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
