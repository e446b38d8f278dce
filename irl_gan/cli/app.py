"""The ``irl-gan`` command group, its entry point and what its commands share.

Every user error is one line on stderr, ``irl-gan: error: ...``, and exit status 2.
"""

from __future__ import annotations

import os
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
      irl-gan record halfcheetah --agent agents/halfcheetah --episodes 25 --out cheetah.h5
      irl-gan demos info cheetah.h5
      irl-gan train --task halfcheetah --demos cheetah.h5 --algo gan-gcl --out runs/cheetah
      irl-gan eval-policy runs/cheetah --task halfcheetah --episodes 10 --video cheetah.mp4
      irl-gan eval-reward runs/cheetah             # learned vs true reward: Pearson, EPIC, plots
      irl-gan retrain runs/cheetah --task halfcheetah-gravity   # a fresh agent on the learned reward
      irl-gan report runs/cheetah                  # one HTML page for the run
      irl-gan verify --demos cheetah.h5            # the paper's identities, in float64
    """


def load_checked(path: Path, task: str | None):
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


def print_summary(demos_) -> None:
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


def task_of(demos_path: Path | None) -> str:
    """The task a dataset was recorded on, for commands given no --task."""
    from irl_gan.data import read_meta

    if demos_path is None:
        raise UserError("no task given; pass --task (a shipped task, a spec file or a gymnasium id) or --demos recorded on it")
    task = read_meta(demos_path).get("task")
    if not task:
        raise UserError(f"{demos_path} names no task; pass --task")
    return task


def run_config(run: Path, fix: str = "give a directory written by irl-gan train") -> dict:
    """A training run's saved settings (its config.yaml, which names its task); a directory
    without one is a one-line error ending in ``fix``."""
    import yaml

    saved = run / "config.yaml"
    if not saved.is_file():
        raise UserError(f"{run}: not a training run (no config.yaml); {fix}")
    return yaml.safe_load(saved.read_text()) or {}


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
