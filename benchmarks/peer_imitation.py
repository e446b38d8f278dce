"""One benchmark cell of the peer: `imitation` 1.0.1's GAIL, AIRL or BC as its authors run them on
MuJoCo, on our demos. Run by benchmarks/bench.py with PYTHONPATH=.peer/imitation (make
peer-imitation); imitation never becomes a dependency of irl_gan.

The settings are imitation's tuned seals MuJoCo hyperparameters where it has them, its defaults
elsewhere (benchmarks/peer_settings.yaml, each value with its source; read through
benchmarks/peer_settings.py): 8 envs, SB3 PPO with the tuned settings, the policy's features and
the reward network's input and output normalised by ``RunningNorm`` (``NormalizeFeaturesExtractor``,
``NormalizedRewardNet``), AIRL's shaping discount equal to PPO's gamma. The demos are the episodes
irl-gan train's default recipe learns from. ``--protocol fixed`` (the default) trains on envs whose
episodes all last the horizon (irl_gan.protocols) with imitation's horizon check on, as it runs its
own benchmark; ``native`` trains on the standard task with ``allow_variable_horizon=True``.
Evaluation is always on the standard task: every ``--eval-every`` env steps (at the end of the
first round past each multiple) the policy is evaluated deterministically (5 episodes, seeds from
1,000,000, as irl-gan train does) and a row goes to OUT/metrics.csv. OUT/settings.yaml records
the settings the cell ran with, OUT/imitation-log/progress.csv imitation's own diagnostics.

GAIL and AIRL save a checkpoint after each evaluation (OUT/checkpoint/: the PPO policy and its
optimiser, the reward network with its normalisers and the discriminator's optimiser, the rows so
far); ``--resume`` goes on from it, so a stopped cell loses at most one evaluation interval. The
generator's replay buffer is not kept: imitation refills it with the first round after a resume.
Random-number state is not kept either, so a resumed cell is a valid run of the same method, not
the bit-identical continuation. BC takes no env steps and minutes: it is evaluated 5 times over
its training (as irl-gan's bc is) and has no checkpoint.

    PYTHONPATH=.peer/imitation .venv/bin/python benchmarks/peer_imitation.py --task hopper \\
        --algo gail --protocol fixed --steps 50000 --seed 0 --eval-every 10000 --out runs/peer-gail
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cell_args import parse_cell_args  # noqa: E402
from irl_gan.io import atomic_dir, atomic_write_csv, atomic_write_text  # noqa: E402
from peer_settings import peer_arguments, sources  # noqa: E402

BC_EVALUATIONS = 5


def demonstrations(task: str, selection: dict):
    """The selected demo episodes as imitation's trajectories (every episode terminal, as imitation's
    own rollouts mark them), and their number of transitions."""
    from imitation.data.types import Trajectory

    from irl_gan.data import load_demos
    from irl_gan.tasks import load_spec

    demos = load_demos(ROOT / "demos" / f"{task}.h5", load_spec(task))
    episodes = demos.select(selection["n"], selection["drop_terminated"])
    trajs = [Trajectory(obs=e.observations.astype(np.float32), acts=e.actions.astype(np.float32), infos=None, terminal=True) for e in episodes]
    return trajs, sum(e.length for e in episodes)


def policy_arguments(args: dict) -> tuple[type, dict]:
    """The SB3 policy class and policy_kwargs of ``args``, normaliser included."""
    import torch.nn as nn
    from imitation.policies.base import FeedForward32Policy, NormalizeFeaturesExtractor
    from imitation.util.networks import RunningNorm
    from stable_baselines3.common.policies import ActorCriticPolicy

    norms = {"RunningNorm": RunningNorm}
    kwargs = dict(args["policy_kwargs"])
    if "activation_fn" in kwargs:
        kwargs["activation_fn"] = {"relu": nn.ReLU, "tanh": nn.Tanh}[kwargs["activation_fn"]]
    if args["normalise"]["policy_features"]:
        kwargs.update(features_extractor_class=NormalizeFeaturesExtractor,
                      features_extractor_kwargs={"normalize_class": norms[args["normalise"]["policy_features"]]})
    policy = {"FeedForward32Policy": FeedForward32Policy, "MlpPolicy": ActorCriticPolicy}[args["policy"]]  # PPO's MlpPolicy
    return policy, kwargs


def build_adversarial(task: str, algo: str, protocol: str, seed: int, log_dir: Path | None = None):
    """imitation's GAIL or AIRL trainer for a cell, ready to train: (trainer, learner, args)."""
    import torch
    from imitation.algorithms.adversarial.airl import AIRL
    from imitation.algorithms.adversarial.gail import GAIL
    from imitation.rewards.reward_nets import BasicRewardNet, BasicShapedRewardNet, NormalizedRewardNet
    from imitation.util.networks import RunningNorm
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from irl_gan.tasks import load_spec

    torch.manual_seed(seed)
    spec = load_spec(task)
    selection = peer_arguments(task, algo, protocol)["demos"]
    trajs, demo_steps = demonstrations(task, selection)
    args = peer_arguments(task, algo, protocol, demo_steps=demo_steps)
    norms = {"RunningNorm": RunningNorm, None: None}
    venv = make_vec_env(lambda: spec.make_env(protocol=protocol), n_envs=args["n_envs"], seed=seed)
    policy, policy_kwargs = policy_arguments(args)
    learner = PPO(policy, venv, policy_kwargs=policy_kwargs, seed=seed, device="cpu", verbose=0, **args["ppo"])
    net_cls = {"BasicRewardNet": BasicRewardNet, "BasicShapedRewardNet": BasicShapedRewardNet}[args["reward_net"]]
    net = net_cls(venv.observation_space, venv.action_space, normalize_input_layer=norms[args["normalise"]["reward_input"]], **args["reward_net_kwargs"])
    if args["normalise"]["reward_output"]:
        net = NormalizedRewardNet(net, norms[args["normalise"]["reward_output"]])
    trainer = (GAIL if algo == "gail" else AIRL)(demonstrations=trajs, venv=venv, gen_algo=learner, reward_net=net, init_tensorboard=False,
                                                 custom_logger=diagnostics(log_dir), **args["trainer"])
    return trainer, learner, args


def diagnostics(log_dir: Path | None):
    """imitation's own logger, writing its diagnostics to LOG_DIR/progress.csv (the last session's)
    rather than to stdout and a folder in /tmp, its default."""
    import tempfile

    from imitation.util import logger

    return logger.configure(log_dir or tempfile.mkdtemp(prefix="peer-imitation-"), ["csv"])


def build_bc(task: str, protocol: str, seed: int, log_dir: Path | None = None):
    """imitation's BC for a cell: (bc, args). Its spaces come from the task's env."""
    import torch
    from imitation.algorithms.bc import BC
    from stable_baselines3.common.utils import ConstantSchedule

    from irl_gan.tasks import load_spec

    torch.manual_seed(seed)
    spec = load_spec(task)
    selection = peer_arguments(task, "bc", protocol)["demos"]
    trajs, _ = demonstrations(task, selection)
    args = peer_arguments(task, "bc", protocol)
    env = spec.make_env()
    policy_cls, policy_kwargs = policy_arguments(args)
    # as imitation's scripts/ingredients/policy.py make_policy builds it
    policy = policy_cls(observation_space=env.observation_space, action_space=env.action_space, lr_schedule=ConstantSchedule(1.0), **policy_kwargs)
    env.close()
    bc = BC(observation_space=policy.observation_space, action_space=policy.action_space, rng=np.random.default_rng(seed), policy=policy,
            demonstrations=trajs, batch_size=args["bc"]["batch_size"], l2_weight=args["bc"]["l2_weight"], optimizer_kwargs={"lr": args["bc"]["lr"]},
            custom_logger=diagnostics(log_dir))
    return bc, args


def record(out: Path, args: dict) -> None:
    atomic_write_text(out / "settings.yaml", yaml.safe_dump({**args, "sources": sources(args["task"], args["algo"])}, sort_keys=False))


def evaluate(spec, env, policy, episodes: int) -> dict:
    from irl_gan.evaluation import deterministic_score

    training = policy.training
    score = deterministic_score(spec, env, lambda o: policy.predict(o, deterministic=True)[0], episodes)
    policy.set_training_mode(training)  # SB3's predict leaves the policy in eval mode: its RunningNorm would stop learning
    return score


def run_bc(a, spec, env) -> None:
    bc, args = build_bc(a.task, a.protocol, a.seed, a.out / "imitation-log")
    record(a.out, args)
    n_transitions = len(bc._demo_data_loader.dataset)
    total = args["bc"].get("n_batches") or args["bc"]["n_epochs"] * (n_transitions // args["bc"]["batch_size"])
    at = {math.ceil(total * (i + 1) / BC_EVALUATIONS) for i in range(BC_EVALUATIONS)}
    rows, done, start = [], {"batches": 0}, time.time()

    def on_batch_end() -> None:
        done["batches"] += 1
        if done["batches"] in at:
            score = evaluate(spec, env, bc.policy, a.eval_episodes)
            rows.append({"env_steps": 0, "wall_s": round(time.time() - start, 2), "bc_batches": done["batches"], **score})
            print(f"bc {a.task} s{a.seed}: {done['batches']} of {total} batches, eval {score['eval_return']:.1f}", flush=True)

    bc.policy.set_training_mode(True)
    bc.train(n_batches=total, on_batch_end=on_batch_end, progress_bar=False, log_interval=10**9)
    atomic_write_csv(a.out / "metrics.csv", rows, list(rows[-1]))


def run_adversarial(a, spec, env, saved) -> None:
    import torch

    cell = {"task": a.task, "algo": a.algo, "protocol": a.protocol, "seed": a.seed}
    trainer, learner, args = build_adversarial(a.task, a.algo, a.protocol, a.seed, a.out / "imitation-log")
    record(a.out, args)
    rows: list[dict] = []
    elapsed = 0.0  # wall-clock of the sessions before this one
    if saved:
        state = json.loads((saved / "state.json").read_text())
        if state["cell"] != cell:
            sys.exit(f"peer_imitation.py: the checkpoint in {a.out} is of {state['cell']}, not {cell}; choose another --out")
        learner.set_parameters(str(saved / "ppo.zip"), exact_match=True, device="cpu")
        learner.num_timesteps = state["env_steps"]
        disc = torch.load(saved / "disc.pt", weights_only=True)
        trainer._reward_net.load_state_dict(disc["reward_net"])
        trainer._disc_opt.load_state_dict(disc["opt"])
        rows, elapsed = state["rows"], state["wall_s"]
        print(f"{a.algo} {a.task} s{a.seed}: resumed at {learner.num_timesteps} env steps", flush=True)
    start = time.time() - elapsed
    rollout = trainer.gen_train_timesteps
    while learner.num_timesteps < a.steps:
        target = min(a.steps, (learner.num_timesteps // a.eval_every + 1) * a.eval_every)
        trainer.train(rollout * max(1, math.ceil((target - learner.num_timesteps) / rollout)))
        score = evaluate(spec, env, learner.policy, a.eval_episodes)
        rows.append({"env_steps": learner.num_timesteps, "wall_s": round(time.time() - start, 2), **score})
        with atomic_dir(a.out / "checkpoint") as d:
            learner.save(d / "ppo.zip")
            torch.save({"reward_net": trainer._reward_net.state_dict(), "opt": trainer._disc_opt.state_dict()}, d / "disc.pt")
            (d / "state.json").write_text(json.dumps({"cell": cell, "env_steps": learner.num_timesteps, "wall_s": time.time() - start, "rows": rows}))
        atomic_write_csv(a.out / "metrics.csv", rows, list(rows[0]))
        print(f"{a.algo} {a.task} s{a.seed}: {learner.num_timesteps} env steps, eval {score['eval_return']:.1f}", flush=True)


def main() -> None:
    from irl_gan.tasks import load_spec

    a, saved = parse_cell_args("peer_imitation.py", __doc__, "env steps (gail, airl)",
                               lambda p: p.add_argument("--algo", choices=["gail", "airl", "bc"], required=True))
    if a.algo != "bc" and a.steps <= 0:
        sys.exit(f"peer_imitation.py: --algo {a.algo} needs --steps")
    a.out.mkdir(parents=True, exist_ok=True)
    spec = load_spec(a.task)
    env = spec.make_env()  # evaluation: the standard task, whatever the protocol of training
    if a.algo == "bc":
        run_bc(a, spec, env)
    else:
        run_adversarial(a, spec, env, saved)


if __name__ == "__main__":
    main()
