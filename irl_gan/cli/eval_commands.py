"""Commands that evaluate: eval-policy, eval-reward, report, verify."""

from __future__ import annotations

from pathlib import Path

import click

from irl_gan.cli.app import cli, load_checked, run_config
from irl_gan.errors import UserError
from irl_gan.evaluation import EVAL_SEED


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

    spec = load_spec(task or run_config(Path(agent), "pass --task, since AGENT names none").get("task", ""))
    policy = load_policy(agent, deterministic=not stochastic)
    r = evaluate_policy(spec, policy, episodes, seed, video, video_episodes, progress=not no_progress, agent_name=agent)
    line = f"{spec.task}: return {r['mean']:.2f} +- {r['std']:.2f} over {r['episodes']} episodes (mean length {r['length_mean']:.0f})"
    if "normalised_mean" in r:
        line += f"; normalised {r['normalised_mean']:.3f} +- {r['normalised_std']:.3f}"
    click.echo(line)
    if video:
        click.echo(f"video: {r['video']} ({r['video_frames']} frames)")


@cli.command("eval-reward")
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="Task to judge the reward on (a transfer task, say) [default: the run's own].")
@click.option("--episodes", type=click.IntRange(min=1), default=4, show_default=True, help="Held-out episodes from each policy (expert, noisy expert, learned, random).")
@click.option("--seed", type=click.IntRange(min=0), default=2_000_000, show_default=True, help="Seed of the first held-out episode.")
@click.option("--cost", "which", default=None, metavar="final|average|STEP",
              help="The run's last cost (cost.pt), the mean of its snapshots (cost_history/), or the snapshot taken at env step STEP [default: average, or final for a run that kept no snapshots].")
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
    from irl_gan.reward import cost_label, cost_name, default_cost, run_cost
    from irl_gan.reward_eval import evaluate_reward
    from irl_gan.tasks import load_spec

    spec = load_spec(task or run_config(run).get("task", ""))
    which = which or default_cost(run)
    run_cost(run, which)  # a bad --cost fails before any rollout
    out = out or run / f"reward-eval-{spec.task}{cost_label(which)}"
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a directory for the plots and reward_eval.yaml")
    r = evaluate_reward(run, spec, episodes, seed, out, progress=not no_progress, which=which, agent=agent)
    atomic_write_text(out / "reward_eval.yaml", yaml.safe_dump(r, sort_keys=False))
    click.echo(f"{spec.task}: {r['transitions']} held-out transitions ({', '.join(f'{k} {v}' for k, v in r['sources'].items())}), reward: {cost_name(which)}")
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

    spec = load_spec(run_config(run).get("task", ""))
    read_metrics(run)
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
        reports = verify_demos(load_checked(demos_path, spec.ref), spec, ks, seed=seed)
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
