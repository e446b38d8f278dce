"""Training the expert agents that demonstrations are recorded from.

``train_expert`` follows the task's recipe (``irl_gan/envs/TASK.yaml``), checkpoints as it goes so a
killed run resumes, then evaluates the expert and a random policy over >= 50 episodes and
writes the agent directory: ``model.zip``, ``obs_norm.npz`` (if normalised) and ``card.yaml``.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from pathlib import Path

import yaml
from stable_baselines3.common.callbacks import BaseCallback

from irl_gan.version import __version__
from irl_gan.agents import CARD_FILE, MODEL_FILE, OBS_NORM_FILE, ObsNorm, SB3Policy
from irl_gan.errors import Terminated, TrainingStopped, sigterm_raises, stop_reason
from irl_gan.evaluation import EVAL_SEED, return_stats
from irl_gan.io import atomic_dir, atomic_path, atomic_write_text, hold_dir, latest_dir
from irl_gan.progress import Progress
from irl_gan.rollout import random_policy, rollout
from irl_gan.tasks import Scores, TaskSpec, write_scores

EVAL_EPISODES = 50
CHECKPOINT_DIR = "checkpoints"


def _activation(name: str):
    import torch.nn as nn

    table = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU}
    if name not in table:
        raise ValueError(f"unknown activation_fn {name!r}; use one of {sorted(table)}")
    return table[name]


def sb3_policy_kwargs(settings: dict) -> dict:
    """SB3 policy_kwargs from their YAML form (an activation named by string)."""
    kwargs = dict(settings)
    if "activation_fn" in kwargs:
        kwargs["activation_fn"] = _activation(kwargs["activation_fn"])
    return kwargs


def policy_kwargs(recipe) -> dict:
    return sb3_policy_kwargs(recipe.policy_kwargs)


class _Progress(BaseCallback):
    """An SB3 callback: progress over env steps (irl_gan.progress) and periodic atomic checkpoints."""

    def __init__(self, total: int, done: int, every: int, save, enabled: bool):
        super().__init__()
        self.total, self.done, self.every, self.save, self.enabled = total, done, every, save, enabled

    def _on_training_start(self) -> None:
        self.bar = Progress(self.total, self.done, self.enabled)
        self.next_save = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps)
        rets = [i["episode"]["r"] for i in self.locals.get("infos") or [] if "episode" in i]
        if rets:
            self.bar.round(self.num_timesteps, {"true_return": float(rets[-1])})
        if self.num_timesteps >= self.next_save:
            self.save(self.model)
            self.next_save += self.every
        return True

    def _on_training_end(self) -> None:
        self.close()

    def close(self) -> None:
        if hasattr(self, "bar"):
            self.bar.close()


def _make_model(spec: TaskSpec, venv, tb_dir: Path):
    from stable_baselines3 import PPO, SAC

    cls = {"ppo": PPO, "sac": SAC}[spec.expert.algo]
    return cls(
        "MlpPolicy",
        venv,
        seed=spec.expert.seed,
        device="cpu",
        tensorboard_log=str(tb_dir),
        policy_kwargs=policy_kwargs(spec.expert),
        verbose=0,
        **spec.expert.hyperparameters,
    )


def _obs_norm(venv) -> ObsNorm | None:
    from stable_baselines3.common.vec_env import VecNormalize

    if not isinstance(venv, VecNormalize):
        return None
    rms = venv.obs_rms
    return ObsNorm(rms.mean.copy(), rms.var.copy(), float(venv.clip_obs), float(venv.epsilon))


def train_expert(
    spec: TaskSpec,
    out_dir: Path,
    resume: bool = False,
    timesteps: int | None = None,
    checkpoint_every: int = 50_000,
    eval_episodes: int = EVAL_EPISODES,
    progress: bool = True,
) -> dict:
    """Train ``spec``'s expert into ``out_dir`` and return its card."""
    from stable_baselines3 import PPO, SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    recipe = spec.expert
    total = int(timesteps if timesteps is not None else recipe.timesteps)
    hold_dir(out_dir, "expert training")
    ckpt_dir = out_dir / CHECKPOINT_DIR
    last = latest_dir(ckpt_dir)

    venv = make_vec_env(lambda: spec.make_env(), n_envs=recipe.n_envs, seed=recipe.seed)
    gamma = recipe.hyperparameters.get("gamma", 0.99)
    elapsed_before = 0.0
    if resume and last is not None and (last / "model.zip").exists():
        if recipe.normalize:
            venv = VecNormalize.load(str(last / "vecnormalize.pkl"), venv)
        cls = {"ppo": PPO, "sac": SAC}[recipe.algo]
        model = cls.load(last / "model.zip", env=venv, device="cpu")
        if recipe.algo == "sac" and (last / "replay.pkl").exists():
            model.load_replay_buffer(last / "replay.pkl")
        elapsed_before = json.loads((last / "state.json").read_text())["wall_seconds"]
    else:
        if recipe.normalize:
            venv = VecNormalize(venv, gamma=gamma)
        model = _make_model(spec, venv, out_dir / "tb")
    done = model.num_timesteps
    start = time.time()

    def save_checkpoint(m) -> None:
        # A whole directory at a time (io.atomic_dir): a kill never leaves a mixed checkpoint.
        with atomic_dir(ckpt_dir) as d:
            m.save(d / "model.zip")
            if recipe.algo == "sac":
                m.save_replay_buffer(d / "replay.pkl")
            if recipe.normalize:
                m.get_vec_normalize_env().save(str(d / "vecnormalize.pkl"))
            (d / "state.json").write_text(json.dumps({"timesteps": m.num_timesteps, "wall_seconds": elapsed_before + time.time() - start}))

    if total > done:
        callback = _Progress(total, done, checkpoint_every, save_checkpoint, progress)
        try:
            with sigterm_raises():
                model.learn(total_timesteps=total - done, callback=callback, reset_num_timesteps=False, tb_log_name="expert")
        except (KeyboardInterrupt, Terminated) as exc:
            callback.close()
            save_checkpoint(model)
            how, code = stop_reason(exc)
            stop = TrainingStopped(f"expert training stopped at step {model.num_timesteps}: {how}; the checkpoint is in {ckpt_dir}; continue with --resume")
            stop.exit_code = code
            raise stop from None
        save_checkpoint(model)
    wall = elapsed_before + time.time() - start

    with atomic_path(out_dir / MODEL_FILE) as tmp:
        model.save(tmp)
    obs_norm = _obs_norm(model.get_vec_normalize_env() or venv)
    if obs_norm is not None:
        obs_norm.save(out_dir / OBS_NORM_FILE)
    venv.close()

    card = evaluate_expert(spec, SB3Policy(model, obs_norm), eval_episodes, progress)
    card.update(
        {
            "task": spec.task,
            "env_id": spec.env_id,
            "recipe": dataclasses.asdict(recipe),
            "trained_timesteps": int(model.num_timesteps),
            "wall_seconds": round(wall, 1),
            "reference": spec.reference or None,
            "versions": _versions(),
        }
    )
    atomic_write_text(out_dir / CARD_FILE, yaml.safe_dump(card, sort_keys=False))
    write_scores(spec, Scores(random=card["random"]["mean"], expert=card["deterministic"]["mean"], episodes=eval_episodes))
    return card


def evaluate_expert(spec: TaskSpec, policy: SB3Policy, episodes: int, progress: bool) -> dict:
    """Return mean +- std of the expert (deterministic and stochastic) and of a random policy."""
    env = spec.make_env()
    try:
        out = {}
        for mode, det in (("deterministic", True), ("stochastic", False)):
            policy.deterministic = det
            out[mode] = return_stats(rollout(env, policy, episodes, EVAL_SEED, progress, desc=f"eval {mode}"))
        policy.deterministic = True
        out["random"] = return_stats(rollout(env, random_policy(env), episodes, EVAL_SEED, progress, desc="eval random"))
    finally:
        env.close()
    out["eval_seed"] = EVAL_SEED
    return out


def _versions() -> dict:
    import gymnasium
    import mujoco
    import stable_baselines3
    import torch

    return {
        "irl_gan": __version__,
        "python": platform.python_version(),
        "torch": str(torch.__version__),
        "gymnasium": gymnasium.__version__,
        "mujoco": mujoco.__version__,
        "stable_baselines3": stable_baselines3.__version__,
    }
