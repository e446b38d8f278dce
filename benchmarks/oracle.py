"""One benchmark cell of the oracle: reinforcement learning on the true reward with the task's
expert recipe (the ``expert:`` section of irl_gan/envs/TASK.yaml: algo, hyperparameters, n_envs,
normalize, policy_kwargs), the reference every imitation method is measured against. Run by
benchmarks/bench.py as method ``rl``.

The model is built as ``irl-gan expert train`` builds it (SB3 PPO or SAC, ``VecNormalize`` of
observations and rewards where the recipe normalises), on training envs of the given horizon
protocol (irl_gan.protocols). Every ``--eval-every`` env steps the policy is evaluated as every
method in the bench is: deterministically, on observations normalised as in training, 5 episodes
from seed 1,000,000 on the standard task; a row goes to OUT/metrics.csv and a checkpoint to
OUT/checkpoint/ (the model, the normaliser, SAC's replay buffer, the rows), so ``--resume`` loses
at most one evaluation interval. The seed is the cell's, not the recipe's.

    .venv/bin/python benchmarks/oracle.py --task hopper --protocol fixed --steps 50000 --seed 0 \\
        --eval-every 10000 --out runs/oracle-hopper
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

from cell_args import parse_cell_args  # noqa: E402
from irl_gan.io import atomic_dir, atomic_write_csv  # noqa: E402


class Evaluate(BaseCallback):
    """The bench's evaluation (and a checkpoint) at the first step past each multiple of ``every``."""

    def __init__(self, every: int, at_each):
        super().__init__()
        self.every, self.at_each = every, at_each

    def _on_training_start(self) -> None:
        self.next = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next:
            self.at_each(self.model)
            self.next = (self.num_timesteps // self.every + 1) * self.every
        return True


def build(task: str, protocol: str, seed: int):
    """The recipe's model on training envs of ``protocol``: (model, venv, recipe)."""
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    from irl_gan.experts import policy_kwargs
    from irl_gan.tasks import load_spec

    spec = load_spec(task)
    recipe = spec.expert
    if recipe is None:
        raise SystemExit(f"oracle.py: task {task} has no expert recipe (an 'expert:' section in its spec)")
    venv = make_vec_env(lambda: spec.make_env(protocol=protocol), n_envs=recipe.n_envs, seed=seed)
    if recipe.normalize:
        venv = VecNormalize(venv, gamma=recipe.hyperparameters.get("gamma", 0.99))
    cls = {"ppo": PPO, "sac": SAC}[recipe.algo]
    model = cls("MlpPolicy", venv, seed=seed, device="cpu", policy_kwargs=policy_kwargs(recipe), verbose=0, **recipe.hyperparameters)
    return model, venv, recipe


def main() -> None:
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.vec_env import VecNormalize

    from irl_gan.evaluation import deterministic_score
    from irl_gan.tasks import load_spec

    a, saved = parse_cell_args("oracle.py", __doc__, "env steps")
    if a.steps <= 0:
        sys.exit("oracle.py: --steps must be positive")
    cell = {"task": a.task, "protocol": a.protocol, "seed": a.seed}
    spec = load_spec(a.task)
    model, venv, recipe = build(a.task, a.protocol, a.seed)
    rows: list[dict] = []
    elapsed = 0.0
    if saved:
        state = json.loads((saved / "state.json").read_text())
        if state["cell"] != cell:
            sys.exit(f"oracle.py: the checkpoint in {a.out} is of {state['cell']}, not {cell}; choose another --out")
        if recipe.normalize:
            venv = VecNormalize.load(str(saved / "vecnormalize.pkl"), venv.venv)
        model = {"ppo": PPO, "sac": SAC}[recipe.algo].load(saved / "model.zip", env=venv, device="cpu")
        if recipe.algo == "sac":
            model.load_replay_buffer(saved / "replay.pkl")
        rows, elapsed = state["rows"], state["wall_s"]
        print(f"rl {a.task} s{a.seed}: resumed at {model.num_timesteps} env steps", flush=True)
    a.out.mkdir(parents=True, exist_ok=True)
    env = spec.make_env()  # evaluation: the standard task
    start = time.time() - elapsed

    def evaluate_and_save(m) -> None:
        norm = m.get_vec_normalize_env()
        act = (lambda o: m.predict(norm.normalize_obs(o), deterministic=True)[0]) if norm else (lambda o: m.predict(o, deterministic=True)[0])
        score = deterministic_score(spec, env, act, a.eval_episodes)
        rows.append({"env_steps": m.num_timesteps, "wall_s": round(time.time() - start, 2), **score})
        with atomic_dir(a.out / "checkpoint") as d:
            m.save(d / "model.zip")
            if norm:
                norm.save(str(d / "vecnormalize.pkl"))
            if recipe.algo == "sac":
                m.save_replay_buffer(d / "replay.pkl")
            (d / "state.json").write_text(json.dumps({"cell": cell, "env_steps": m.num_timesteps, "wall_s": time.time() - start, "rows": rows}))
        atomic_write_csv(a.out / "metrics.csv", rows, list(rows[0]))
        print(f"rl {a.task} s{a.seed}: {m.num_timesteps} env steps, eval {score['eval_return']:.1f}", flush=True)

    if model.num_timesteps < a.steps:
        model.learn(total_timesteps=a.steps - model.num_timesteps, callback=Evaluate(a.eval_every, evaluate_and_save), reset_num_timesteps=False)
    if not rows or rows[-1]["env_steps"] < model.num_timesteps:
        evaluate_and_save(model)


if __name__ == "__main__":
    main()
