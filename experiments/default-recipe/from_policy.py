"""Does PPO on a run's frozen reward keep a policy that already imitates? It trains, as
`irl-gan retrain` does (algo rl on the reward, the task's PPO settings, the run's temperature), but
starts from the run's own final policy and observation statistics instead of a fresh agent, and
evaluates every --eval-every env steps. If the reward's optimum is the demos' behaviour the policy
stays near it; if the reward pays for something else, PPO pulls the policy away. A fresh agent that
stalls on a reward which keeps this policy has an exploration problem, not a reward problem.

    python experiments/default-recipe/from_policy.py RUN OUT [--cost average|final|STEP] [--steps N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path, help="a training run of gan-gcl (policy.zip, vecnormalize.pkl, cost snapshots)")
    p.add_argument("out", type=Path, help="where the new run goes (must not exist)")
    p.add_argument("--cost", default="average", help="final, average or a snapshot's env step [default: average]")
    p.add_argument("--steps", type=int, default=300_000)
    p.add_argument("--eval-every", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecNormalize

    from irl_gan.config import resolve_config
    from irl_gan.reward import run_cost
    from irl_gan.tasks import load_spec
    from irl_gan.trainer import Trainer

    if args.out.exists():
        sys.exit(f"from_policy.py: {args.out} exists; choose a new OUT")
    source = yaml.safe_load((args.run / "config.yaml").read_text())
    spec = load_spec(source["task"])
    layers = [("the run's temperature", {"temperature": source["temperature"]}),
              ("from_policy.py", {"algo": "rl", "reward": str(run_cost(args.run, args.cost).resolve()), "steps": args.steps,
                                  "seed": args.seed, "eval_every": args.eval_every})]
    config = resolve_config(spec, layers)
    if config.generator != "ppo":
        sys.exit(f"from_policy.py: {spec.task}'s generator is {config.generator}; this script starts PPO only")
    model = PPO.load(args.run / "policy.zip", device="cpu")
    model.num_timesteps = 0
    trainer = Trainer(spec, None, config, args.out, model=model)
    trainer.venv.obs_rms = VecNormalize.load(str(args.run / "vecnormalize.pkl"), trainer.venv.venv).obs_rms
    trainer.train(progress=False)
    print(f"from_policy.py: {args.run} ({args.cost}) -> {args.out}; evaluations in {args.out / 'metrics.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
