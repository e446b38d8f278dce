"""Evaluating a policy on its task: true return, normalised score, and an optional video."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from irl_gan.data import Episode
from irl_gan.errors import UserError
from irl_gan.rollout import rollout
from irl_gan.tasks import TaskSpec

# The evaluation seeds are far from any training seed.
EVAL_SEED = 1_000_000


def deterministic_score(spec: TaskSpec, env, act, episodes: int) -> dict:
    """The periodic evaluation of a policy in training: ``eval_return``, the mean true return of
    ``act`` over ``episodes`` episodes seeded from EVAL_SEED, and ``eval_normalised`` where the task
    has scores."""
    ret = float(np.mean([e.ret for e in rollout(env, act, episodes, seed=EVAL_SEED, progress=False)]))
    return {"eval_return": ret, **({"eval_normalised": spec.scores.normalise(ret)} if spec.scores is not None else {})}


def return_stats(episodes: list[Episode]) -> dict:
    """Mean and std of true return and mean length over ``episodes``."""
    rets = np.array([e.ret for e in episodes])
    return {
        "mean": round(float(rets.mean()), 2),
        "std": round(float(rets.std()), 2),
        "episodes": len(rets),
        "length_mean": round(float(np.mean([e.length for e in episodes])), 1),
    }


class VideoWriter:
    """Frames to an .mp4 (H.264 through the ffmpeg that ships inside imageio-ffmpeg)."""

    def __init__(self, path: Path, fps: int):
        import imageio.v2 as imageio

        if path.suffix.lower() not in (".mp4", ".gif"):
            raise UserError(f"--video {path}: use an .mp4 or .gif file name")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Written beside the target under a temporary name, renamed when complete.
        self.tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
        self.writer = imageio.get_writer(self.tmp, fps=fps, macro_block_size=1) if path.suffix.lower() == ".mp4" else imageio.get_writer(self.tmp, duration=1000 / fps)
        self.frames = 0

    def __call__(self, frame: np.ndarray) -> None:
        self.writer.append_data(frame)
        self.frames += 1

    def close(self, complete: bool = True) -> None:
        self.writer.close()
        if complete:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def _check_rendering(env, spec: TaskSpec, seed: int) -> None:
    """Render one frame before any file is opened, so a missing GL backend is one clear line."""
    try:
        env.reset(seed=seed)
        env.render()
    except Exception as exc:  # a GL backend or renderer package missing; any of several types
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = "; set MUJOCO_GL=egl (or osmesa) with an EGL/OSMesa library installed" if "mujoco" in type(env.unwrapped).__module__ else ""
        raise UserError(f"cannot render {spec.env_id} headless: {reason}{hint}") from None


def evaluate_policy(
    spec: TaskSpec,
    policy,
    episodes: int,
    seed: int = 0,
    video: Path | None = None,
    video_episodes: int = 1,
    progress: bool = True,
    agent_name: str = "agent",
) -> dict:
    """True return over ``episodes`` episodes, normalised by the task's scores where measured.

    With ``video``, the first ``video_episodes`` episodes are rendered headless to that file.
    """
    from irl_gan.agents import check_policy_space

    env = spec.make_env(render_mode="rgb_array" if video else None)
    check_policy_space(policy, env, agent_name)
    writer = None
    try:
        if video:
            _check_rendering(env, spec, seed)
            writer = VideoWriter(Path(video), int(env.metadata.get("render_fps", 30)))
        eps = rollout(env, policy, episodes, seed, progress, desc="eval", on_frame=writer, frame_episodes=video_episodes)
    except BaseException:
        if writer is not None:
            writer.close(complete=False)
        raise
    else:
        if writer is not None:
            writer.close()
    finally:
        env.close()
    out = return_stats(eps)
    if spec.scores is not None:
        norm = np.array([spec.scores.normalise(e.ret) for e in eps])
        out["normalised_mean"] = round(float(norm.mean()), 4)
        out["normalised_std"] = round(float(norm.std()), 4)
        out["scores"] = {"random": spec.scores.random, "expert": spec.scores.expert}
    if writer is not None:
        out["video"] = str(writer.path)
        out["video_frames"] = writer.frames
    return out
