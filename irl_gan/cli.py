"""The ``irl-gan`` command line: a thin shell over the library.

Every user error is one line on stderr, ``irl-gan: error: ...``, and exit status 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from irl_gan.errors import UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="irl_gan")
def cli() -> None:
    """Imitation learning where the GAN discriminator, the MaxEnt IRL cost and the energy model
    are one network (Finn, Christiano, Abbeel & Levine 2016).

    \b
    Typical session:
      irl-gan expert train hopper                 # or use the shipped agents/hopper
      irl-gan record hopper --agent agents/hopper --episodes 25 --out demos/hopper.h5
      irl-gan demos info demos/hopper.h5
      irl-gan eval-policy agents/hopper --task hopper --episodes 10 --video hopper.mp4
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
@click.option("--eval-episodes", type=click.IntRange(min=1), default=50, show_default=True, help="Episodes for the card's returns.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bars.")
def expert_train(task, out, timesteps, resume, eval_episodes, no_progress) -> None:
    """Train TASK's expert by its recipe (envs/TASK.yaml) and write its agent directory.

    Writes OUT/model.zip (SB3 checkpoint), OUT/obs_norm.npz (if the recipe normalises
    observations) and OUT/card.yaml (recipe, seed, steps, wall time, return mean +- std over
    the evaluation episodes, random-policy return), stores the normalisation scores in the
    task spec, and logs to TensorBoard under OUT/tb. Checkpoints every 50k steps; --resume
    continues a killed run.
    """
    from irl_gan.experts import train_expert
    from irl_gan.tasks import agents_dir, load_spec

    spec = load_spec(task)
    out = out or agents_dir() / spec.task
    card = train_expert(spec, out, resume=resume, timesteps=timesteps, eval_episodes=eval_episodes, progress=not no_progress)
    det, rnd = card["deterministic"], card["random"]
    click.echo(
        f"{spec.task}: expert return {det['mean']:.1f} +- {det['std']:.1f} over {det['episodes']} episodes "
        f"(random {rnd['mean']:.1f}); trained {card['trained_timesteps']} steps in {card['wall_seconds'] / 60:.1f} min -> {out}"
    )


# ---------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line and exit code 2, never a traceback."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    try:
        cli.main(args=argv, prog_name="irl-gan", standalone_mode=False)
    except UserError as exc:
        click.echo(f"irl-gan: error: {exc}", err=True)
        return UserError.exit_code
    except click.exceptions.Abort:
        click.echo("irl-gan: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if getattr(exc, "ctx", None) else ""
        click.echo(f"irl-gan: error: {exc.format_message()}{hint}", err=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
