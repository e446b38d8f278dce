"""One benchmark cell of the peer: `imitation` 1.0.1's GAIL or AIRL on our demos, envs and PPO
settings. Run by benchmarks/bench.py with PYTHONPATH=.peer/imitation (make peer-imitation);
imitation never becomes a dependency of irl_gan.

The generator is SB3 PPO with the task's settings (``irl_gan/envs/TASK.yaml`` ``train:`` over irl_gan's
TrainConfig defaults: n_envs, n_steps, batch size, epochs, learning rate, policy network). As in
imitation's own examples, PPO sees raw observations and the reward network normalises its
inputs (RunningNorm); a VecNormalize under imitation's wrappers would show the discriminator
normalised samples but raw demos. The discriminator takes batches the size of a rollout (or of the 4 demos, if
smaller) and 4 updates per round (imitation's default). Every ``--eval-every`` env steps the
policy is evaluated deterministically (5 episodes, seeds from 1,000,000, as irl-gan train does)
and a row goes to OUT/metrics.csv.

After each evaluation the cell saves a checkpoint (OUT/checkpoint/: the PPO policy and its
optimiser, the reward network with its input normaliser and the discriminator's optimiser, the
rows so far); ``--resume`` goes on from it, so a stopped cell loses at most one evaluation
interval. The generator's replay buffer is not kept: imitation refills it whole with the first
round after a resume. Random-number state is not kept either, so a resumed cell is a valid run
of the same method, not the bit-identical continuation.

    PYTHONPATH=.peer/imitation .venv/bin/python benchmarks/peer_imitation.py --task invertedpendulum \\
        --algo gail --steps 50000 --seed 0 --eval-every 5000 --out runs/peer-gail
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from irl_gan.io import atomic_dir, atomic_write_csv, latest_dir  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True)
    p.add_argument("--algo", choices=["gail", "airl"], required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, required=True)
    p.add_argument("--eval-episodes", type=int, default=5)
    p.add_argument("--demo-episodes", type=int, default=4)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--resume", action="store_true", help="go on from OUT/checkpoint")
    a = p.parse_args()
    saved = latest_dir(a.out / "checkpoint")
    if saved and not a.resume:
        sys.exit(f"peer_imitation.py: {a.out} holds a checkpoint; pass --resume to go on from it, or choose another --out")
    if a.resume and not saved:
        sys.exit(f"peer_imitation.py: --resume, but {a.out} holds no checkpoint; leave --resume out to start")
    cell = {"task": a.task, "algo": a.algo, "seed": a.seed, "demo_episodes": a.demo_episodes}

    import torch
    from imitation.algorithms.adversarial.airl import AIRL
    from imitation.algorithms.adversarial.gail import GAIL
    from imitation.data.types import Trajectory
    from imitation.rewards.reward_nets import BasicRewardNet, BasicShapedRewardNet
    from imitation.util.networks import RunningNorm
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from irl_gan.config import resolve_config
    from irl_gan.data import load_demos
    from irl_gan.evaluation import deterministic_score
    from irl_gan.tasks import load_spec

    torch.manual_seed(a.seed)
    spec = load_spec(a.task)
    config = resolve_config(spec, [("peer", {"demos": str(ROOT / "demos" / f"{a.task}.h5"), "seed": a.seed})])
    demos = load_demos(config.demos, spec)
    trajs = [Trajectory(obs=e.observations.astype(np.float32), acts=e.actions.astype(np.float32), infos=None, terminal=e.terminated)
             for e in demos.episodes[: a.demo_episodes]]
    venv = make_vec_env(lambda: spec.make_env(), n_envs=config.n_envs, seed=a.seed)
    settings, kwargs = config.generator_arguments("ppo")
    learner = PPO("MlpPolicy", venv, policy_kwargs=kwargs, seed=a.seed, device="cpu", verbose=0, **settings)
    rollout_size = learner.n_steps * config.n_envs
    net = (BasicRewardNet if a.algo == "gail" else BasicShapedRewardNet)(venv.observation_space, venv.action_space, normalize_input_layer=RunningNorm)
    # imitation draws its demo batch without replacement: no more than the demos hold.
    demo_batch = min(rollout_size, sum(len(t.acts) for t in trajs))
    trainer = (GAIL if a.algo == "gail" else AIRL)(
        demonstrations=trajs, demo_batch_size=demo_batch, gen_replay_buffer_capacity=rollout_size, n_disc_updates_per_round=4,
        venv=venv, gen_algo=learner, reward_net=net, allow_variable_horizon=True, init_tensorboard=False)
    env = spec.make_env()
    rows: list[dict] = []
    elapsed = 0.0  # wall-clock of the sessions before this one
    if saved:
        state = json.loads((saved / "state.json").read_text())
        if state["cell"] != cell:
            sys.exit(f"peer_imitation.py: the checkpoint in {a.out} is of {state['cell']}, not {cell}; choose another --out")
        learner.set_parameters(str(saved / "ppo.zip"), exact_match=True, device="cpu")
        learner.num_timesteps = state["env_steps"]
        disc = torch.load(saved / "disc.pt", weights_only=True)
        net.load_state_dict(disc["reward_net"])
        trainer._disc_opt.load_state_dict(disc["opt"])
        rows, elapsed = state["rows"], state["wall_s"]
        print(f"{a.algo} {a.task} s{a.seed}: resumed at {learner.num_timesteps} env steps", flush=True)
    a.out.mkdir(parents=True, exist_ok=True)
    start = time.time() - elapsed
    chunk = max(a.eval_every, rollout_size)
    while learner.num_timesteps < a.steps:
        trainer.train(min(chunk, max(rollout_size, a.steps - learner.num_timesteps)))
        act = lambda o: learner.predict(o, deterministic=True)[0]  # noqa: E731
        score = deterministic_score(spec, env, act, a.eval_episodes)
        rows.append({"env_steps": learner.num_timesteps, "wall_s": round(time.time() - start, 2), "eval_return": score["eval_return"],
                     "eval_normalised": score.get("eval_normalised", "")})
        with atomic_dir(a.out / "checkpoint") as d:
            learner.save(d / "ppo.zip")
            torch.save({"reward_net": net.state_dict(), "opt": trainer._disc_opt.state_dict()}, d / "disc.pt")
            (d / "state.json").write_text(json.dumps({"cell": cell, "env_steps": learner.num_timesteps, "wall_s": time.time() - start, "rows": rows}))
        atomic_write_csv(a.out / "metrics.csv", rows, list(rows[0]))
        print(f"{a.algo} {a.task} s{a.seed}: {learner.num_timesteps} env steps, eval {score['eval_return']:.1f}", flush=True)


if __name__ == "__main__":
    main()
