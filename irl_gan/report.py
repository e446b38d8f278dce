"""One self-contained HTML report per training run (``irl-gan report``): learning curves and the
training diagnostics, the learned reward's correlation and EPIC distance, re-training and
transfer results, and a short video of the policy. Plots and the video are embedded (base64),
so the single file can be mailed or archived.
"""

from __future__ import annotations

import base64
import csv
import html
from pathlib import Path

import numpy as np
import yaml

from irl_gan.errors import UserError
from irl_gan.reward import cost_name

# Panels of learning curves: (title, [(metrics column, label)]).
PANELS = [
    ("Normalised return", [("normalised", "training episodes (sampled actions)"), ("eval_normalised", "deterministic evaluation")]),
    ("log Z", [("log_z", "learned"), ("log_z_is", "importance-sampled")]),
    ("Effective sample size of the importance weights", [("ess", "ESS")]),
    ("Mean energy (cost) of segments", [("energy_demo", "demos"), ("energy_gen", "generated")]),
    ("Discriminator accuracy", [("disc_acc_demo", "on demos"), ("disc_acc_gen", "on generated")]),
    ("log π per step under the generator (× temperature)", [("log_pi_demo", "demos' actions"), ("log_pi_gen", "its own actions")]),
    ("Cost loss", [("cost_loss", "loss")]),
    ("Generator's losses", [("policy_loss", "PPO policy"), ("value_loss", "PPO value"), ("actor_loss", "SAC actor"), ("critic_loss", "SAC critic")]),
    ("Generator's spread", [("policy_std", "PPO policy std (mean over action dims)"), ("ent_coef", "SAC entropy weight")]),
    ("Env steps per second", [("env_steps_per_s", "steps/s")]),
]


def read_metrics(run: Path) -> list[dict]:
    path = run / "metrics.csv"
    if not path.is_file():
        raise UserError(f"{run}: no metrics.csv; give a directory written by irl-gan train")
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _column(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(float(r["env_steps"]), float(r[key])) for r in rows if r.get(key) not in (None, "")]
    if not pts:
        return np.array([]), np.array([])
    x, y = zip(*pts)
    return np.asarray(x), np.asarray(y)


def curves_png(rows: list[dict]) -> bytes | None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = {k: _column(rows, k) for _, series in PANELS for k, _ in series}
    panels = [(t, [(k, lab) for k, lab in series if columns[k][0].size]) for t, series in PANELS]
    panels = [p for p in panels if p[1]]
    if not panels:
        return None
    cols = 2
    n_rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(n_rows, cols, figsize=(10, 3 * n_rows), dpi=100, squeeze=False)
    for ax, (title, series) in zip(axes.ravel(), panels):
        for key, label in series:
            x, y = columns[key]
            ax.plot(x, y, marker="o" if key.startswith("eval") else None, markersize=3, label=label)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("env steps", fontsize=8)
        ax.tick_params(labelsize=7)
        if len(series) > 1:
            ax.legend(fontsize=7)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _img(data: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _table(pairs: list[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in pairs)
    return f"<table>{cells}</table>"


def _fmt(x) -> str:
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def build_report(run: Path, video: Path | None = None, scores=None) -> str:
    """The report's HTML for ``run``: what the run directory holds, nothing recomputed but what is
    passed in (``scores``: the task's normalisation scores, for the zero-action baseline)."""
    config = yaml.safe_load((run / "config.yaml").read_text()) if (run / "config.yaml").is_file() else {}
    rows = read_metrics(run)
    last = rows[-1] if rows else {}
    parts = [f"<h1>irl_gan run: {html.escape(str(config.get('task', '?')))} · {html.escape(str(config.get('algo', '?')))} · "
             f"{html.escape(str(config.get('generator', '?')))} · K = {html.escape(str(config.get('segment', '?')))}</h1>",
             f"<p class=dim>{html.escape(str(run.resolve()))}</p>"]

    summary = [("env steps", last.get("env_steps", "")), ("wall-clock (s)", last.get("wall_s", ""))]
    evals = [r for r in rows if r.get("eval_normalised")]
    if evals:
        best = max(evals, key=lambda r: float(r["eval_normalised"]))
        summary += [("final deterministic return (normalised)", f"{float(evals[-1]['eval_return']):.1f} ({float(evals[-1]['eval_normalised']):.3f})"),
                    ("best deterministic evaluation (normalised)", f"{float(best['eval_normalised']):.3f} at {int(best['env_steps']):,} steps")]
        reached = next((r for r in evals if float(r["eval_normalised"]) >= 0.9), None)
        summary.append(("first evaluation at >= 0.9", f"{int(reached['env_steps']):,} steps, {float(reached['wall_s']) / 60:.1f} min" if reached else "not reached"))
    if scores is not None and scores.zero is not None and scores.zero > scores.random:
        summary.append(("a policy acting zero (normalised)", f"{scores.zero:.1f} ({scores.normalise(scores.zero):.3f}): the bar to beat, above random"))
    if last.get("true_return"):
        summary.append(("last training-episode return", f"{float(last['true_return']):.1f}"))
    parts += ["<h2>Summary</h2>", _table(summary)]

    png = curves_png(rows)
    parts += ["<h2>Learning curves and training diagnostics</h2>", _img(png, "learning curves") if png else "<p>No rounds logged yet.</p>"]

    parts.append("<h2>The learned reward</h2>")
    evals_dirs = sorted(run.glob("reward-eval-*/reward_eval.yaml"))
    if not evals_dirs:
        parts.append(f"<p>Not evaluated yet: <code>irl-gan eval-reward {html.escape(str(run))}</code></p>")
    for path in evals_dirs:
        r = yaml.safe_load(path.read_text())
        pairs = [("task", r["task"]), ("held-out transitions", f"{r['transitions']} ({', '.join(f'{k} {v}' for k, v in r['sources'].items())})"),
                 ("Pearson", _fmt(r["pearson"])), ("Spearman", _fmt(r["spearman"]))]
        pairs.append(("EPIC distance", f"{r['epic']:.3f} (true reward: {r['epic_true_reward']})" if r.get("epic") is not None else f"n/a: {r.get('epic_note', '')}"))
        if "plane_pearson" in r:
            pairs.append(("Pearson over the plane, at rest", _fmt(r["plane_pearson"])))
        pairs.append(("Pearson per source", ", ".join(f"{k} {_fmt(v)}" for k, v in r["per_source_pearson"].items())))
        which = f" ({cost_name(r.get('cost'))})"
        parts += [f"<h3>on {html.escape(r['task'])}{which}</h3>", _table(pairs)]
        for name in ("scatter.png", "heatmap.png"):
            if (path.parent / name).is_file():
                parts.append(_img((path.parent / name).read_bytes(), name))

    parts.append("<h2>Re-training on the learned reward</h2>")
    retrains = sorted(run.glob("*/retrain.yaml"))
    if not retrains:
        parts.append(f"<p>Not run yet: <code>irl-gan retrain {html.escape(str(run))}</code> (and <code>--task</code> for a transfer task)</p>")
    else:
        head = "<tr><th>task</th><th>cost</th><th>generator</th><th>seed</th><th>env steps</th><th>true return</th><th>normalised</th></tr>"
        body = ""
        for path in retrains:
            r = yaml.safe_load(path.read_text())
            norm = f"{r['normalised_mean']:.3f}" if "normalised_mean" in r else "n/a"
            body += (f"<tr><td>{html.escape(r['task'])}</td><td>{cost_name(r.get('cost'))}</td><td>{r['generator']}</td><td>{r['seed']}</td><td>{int(r['steps']):,}</td>"
                     f"<td>{r['return_mean']:.1f} ± {r['return_std']:.1f}</td><td>{norm}</td></tr>")
        parts.append(f"<table>{head}{body}</table>")

    parts.append("<h2>The policy</h2>")
    if video is not None and video.is_file():
        data = base64.b64encode(video.read_bytes()).decode()
        parts.append(f'<video controls loop muted autoplay src="data:video/mp4;base64,{data}"></video>')
    else:
        parts.append("<p>No video (rendering unavailable here, or --no-video).</p>")

    parts += ["<h2>Settings</h2>", f"<pre>{html.escape(yaml.safe_dump(config, sort_keys=False))}</pre>"]
    style = ("body{font-family:system-ui,sans-serif;max-width:1050px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:90%}"
             "th{background:#f4f4f4}img,video{max-width:100%;margin:.5em 0}.dim{color:#777;font-size:85%}pre{background:#f7f7f7;padding:.8em;font-size:80%}")
    return f"<!doctype html><html><head><meta charset=utf-8><title>irl_gan report</title><style>{style}</style></head><body>{''.join(parts)}</body></html>"


def render_policy(run: Path, spec, path: Path, steps: int = 300, seed: int = 0) -> Path:
    """A short video of ``run``'s policy acting deterministically: its first ``steps`` steps,
    across episodes if one ends sooner. Raises UserError where rendering is unavailable."""
    from irl_gan.agents import check_policy_space, load_policy
    from irl_gan.evaluation import VideoWriter, _check_rendering

    env = spec.make_env(render_mode="rgb_array")
    try:
        policy = load_policy(run)
        check_policy_space(policy, env, str(run))
        _check_rendering(env, spec, seed)
        writer = VideoWriter(path, int(env.metadata.get("render_fps", 30)))
        try:
            obs, _ = env.reset(seed=seed)
            for i in range(steps):
                writer(env.render())
                obs, _, terminated, truncated, _ = env.step(np.clip(policy(obs), env.action_space.low, env.action_space.high))
                if terminated or truncated:
                    obs, _ = env.reset(seed=seed + i + 1)
        except BaseException:
            writer.close(complete=False)
            raise
        writer.close()
    finally:
        env.close()
    return path
