"""The training loop: guided cost learning with an SB3 PPO or SAC generator.

Each round reads as the algorithm: the generator **collects** steps; the demo and generated
segments are **scored** (``α log π`` under the current policy); the estimator **updates the
cost**; the generator's rewards follow the cost (PPO's rollout is **relabelled** in one batch,
SAC's replay buffer rewards each sample as it draws it); the generator **updates the policy**;
the round is **logged**. With PPO a round is one rollout, with SAC ``cost_every`` env steps.

The estimator states its loss and reward (``estimators``), the generator is rewarded through a
``reward_source.RewardSource``, the run directory is a ``run_dir.RunDir``, and SB3 stays behind
``sb3``. ``Trainer(spec, demos, config, out)`` builds a run; ``learn(steps)`` plays it on, and
called again goes on from where it stopped; ``load_checkpoint()`` resumes one from disk.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from irl_gan.bc import clone_generator
from irl_gan.config import TrainConfig
from irl_gan.cost import CostConfig
from irl_gan.data import Episode
from irl_gan.drex import Ranking
from irl_gan.errors import Terminated, TrainingStopped, UserError, sigterm_raises, stop_reason
from irl_gan.estimators import Batch, Estimator, Regularisers, make_estimator
from irl_gan.generator import PolicyDensity
from irl_gan.io import atomic_path
from irl_gan.progress import Progress
from irl_gan.reward import COST_HISTORY, LearnedReward
from irl_gan.reward_source import EnvReward, FrozenReward, LiveReward, RewardSource
from irl_gan.run_dir import RunDir, write_config
from irl_gan.sb3 import Hooks, RunningScale, adopt_generator, load_generator, make_generator, quiet, policy_diagnostics, replayed_steps, set_rollout_rewards
from irl_gan.sb3 import RelabelledReplayBuffer  # noqa: F401  (checkpoints written before sb3.py pickled it by this module's name)
from irl_gan.segments import Segments, make_segments, rollout_transitions
from irl_gan.tasks import TaskSpec

_POLICY_NAN = "the policy's parameters became NaN or Inf; lower the generator's learning_rate"
_COST_FIX = "lower cost_lr or set grad_clip (in a --config file)"


class Trainer:
    """Guided cost learning with a PPO or SAC generator on ``demos`` (the episodes learned from,
    ``TrainConfig.select_demos``; none for the oracle), into the run directory ``out``."""

    def __init__(self, spec: TaskSpec, demos: Sequence[Episode] | None, config: TrainConfig, out: Path, venv=None, model=None):
        """``venv`` (a VecEnv of ``config.n_envs`` envs) and ``model`` (an SB3 PPO or SAC) replace the
        ones the run would build from ``spec`` and ``config``."""
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.vec_env import VecNormalize

        from irl_gan.recorder import Recorder

        if config.algo in ("bc", "drex"):
            raise UserError(f"--algo {config.algo} has no generator: irl_gan.{config.algo}.train_{config.algo} trains it, not this loop")
        self.spec, self.config, self.run = spec, config, RunDir(out)
        self.k = config.k or spec.horizon
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.demos = list(demos) if demos is not None else None
        if config.algo != "rl":
            self.demo_segments = make_segments(self.demos, self.k)

        venv = venv if venv is not None else make_vec_env(lambda: spec.make_env(protocol=config.protocol), n_envs=config.n_envs, seed=config.seed)
        self.recorder = Recorder(venv, keep_episodes=0 if self.k == 1 else max(64, 4 * config.n_envs))
        # Networks are built in a fixed order (a frozen reward, the generator, the cost), so that
        # a seed gives each the weights it always gave.
        frozen = LearnedReward.for_task(config.reward, spec, transfer=not config.reward_shaped) if config.reward else None
        self.venv = VecNormalize(self.recorder, norm_obs=True, norm_reward=False, gamma=config.gamma)
        # The oracle's SAC replay buffer keeps the true rewards it stored; any other is relabelled.
        relabel = self.replay_reward if frozen is not None or config.algo != "rl" else None
        self.model = make_generator(config, self.venv, relabel) if model is None else adopt_generator(model, self.venv, relabel)
        self.density = PolicyDensity(self.model, obs_norm=lambda o: self.venv.normalize_obs(o))

        # The oracle (algo rl) has no cost: the generator keeps the env's true reward, or a frozen one.
        self.estimator: Estimator | None = None
        self.cost_opt = None
        if config.algo != "rl":
            obs_dim, act_dim = self.venv.observation_space.shape[0] + 1, self.venv.action_space.shape[0]
            cost_config = CostConfig(obs_dim, act_dim, state_only=config.state_only, shaped=config.shaped, gamma=config.gamma, hidden=tuple(config.cost_hidden))
            self.estimator = make_estimator(config.algo, cost_config, Regularisers(config.lcr, config.mono, config.grad_penalty), k=self.k)
            self.estimator.cost.update_normalisation(self.demo_segments.obs.reshape(-1, obs_dim), self.demo_segments.acts.reshape(-1, act_dim))
            self._demo_occupancy = self.demo_segments.occupancy(self.model.gamma)
            # Scalars of the estimator (gan-gcl's log Z) move in units of nats, not of network weights.
            scalars = [p for p in self.estimator.parameters() if p.dim() == 0]
            weights = [p for p in self.estimator.parameters() if p.dim() > 0]
            self.cost_opt = torch.optim.Adam([{"params": weights}, {"params": scalars, "lr": config.log_z_lr}], lr=config.cost_lr)
        # SAC's entropy term plays the part of the reward's -α log π; a frozen reward has it as the live one does.
        entropy = self._log_pi if config.generator == "ppo" and config.entropy_reward else None
        self.reward_source: RewardSource = (FrozenReward(frozen, config.gamma, entropy) if frozen is not None
                                            else EnvReward() if self.estimator is None else LiveReward(self.estimator, config.gamma, entropy))
        self.ranking: Ranking | None = None  # rank_weight: the drex levels, built before the first env step
        self.reward_scale = RunningScale()
        self._eval_env = None
        self.round = 0
        self.wall_before = 0.0
        self._start: float | None = None

    # ------------------------------------------------------------------ the loop

    def train(self, progress: bool = True) -> dict:
        """The run to its ``steps`` env steps; returns the last metrics row."""
        return self.learn(max(0, self.config.steps - self.model.num_timesteps), progress)

    def learn(self, steps: int, progress: bool = True, callback=None) -> dict:
        """``steps`` more env steps of the game, then a checkpoint and the outputs; returns the last
        metrics row. Called again, it goes on where it stopped. ``callback``: SB3 callbacks of yours."""
        config = self.config
        done = self.model.num_timesteps
        bar = Progress(done + steps, done, enabled=progress)
        start = self._start = time.time()
        last = {"t": time.time(), "steps": done}
        checkpoint, evaluation = _Every(config.checkpoint_every, done), _Every(config.eval_every, done)
        snapshot = _Every(config.cost_history_every if self.estimator is not None else 0, done)
        sac_round = _Every(config.cost_every, done)

        def end_round(env_steps: int, diag: dict) -> None:
            now = time.time()
            diag.update(policy_diagnostics(self.model))
            diag["env_steps_per_s"] = (env_steps - last["steps"]) / max(now - last["t"], 1e-9)
            if evaluation.due(env_steps):
                # Evaluation time is left out of steps/s (this round's and the next) and counted in wall_s.
                diag.update(self.evaluate())
            if snapshot.due(env_steps):
                self.estimator.cost.save(self.run.out / COST_HISTORY / f"cost-{env_steps:09d}.pt")
            last.update(t=time.time(), steps=env_steps)
            self.log(env_steps, diag, self.wall_now())
            bar.round(env_steps, diag)
            if checkpoint.due(env_steps):
                self.save_checkpoint()

        def before_rollout() -> None:  # PPO
            self.check_policy()  # after each PPO update, before the policy acts again
            self.recorder.start_rollout()

        def after_rollout(buffer, last_values, dones) -> None:  # PPO: a round is a rollout
            diag = self.update_cost()
            diag.update(self.relabel(buffer, last_values, dones))
            end_round(self.model.num_timesteps, diag)

        def after_step(env_steps: int) -> None:
            bar.update(env_steps)
            if config.generator == "sac" and sac_round.due(env_steps):
                # A NaN actor between these checks fails in SB3's predict; the except below catches it.
                self.check_policy()
                # The cost learns from the steps since its last update; replayed rewards follow it
                # at once, because the buffer rewards its samples as it draws them.
                end_round(env_steps, self.update_cost())
                self.recorder.start_rollout()

        self.run.out.mkdir(parents=True, exist_ok=True)
        self.save_config()
        if config.rank_weight and self.estimator is not None and self.ranking is None:
            self.ranking = Ranking.prepare(self.spec, self.demos, config, self.run.out / "ranking", progress)
        if config.bc_init and self.model.num_timesteps == 0 and not self.run.rows:
            # The starting point of the curve: the cloned policy, before any env step.
            diag = self.behaviour_clone(progress)
            if config.eval_every:
                diag.update(self.evaluate())
            self.log(0, diag, time.time() - start)
        hooks = Hooks(config.generator == "ppo", before_rollout, after_rollout, after_step)
        quiet(self.model)
        try:
            with sigterm_raises():
                self.model.learn(total_timesteps=steps, callback=[hooks, callback] if callback is not None else hooks, reset_num_timesteps=False)
        except (KeyboardInterrupt, Terminated) as exc:
            # Ctrl-C, or a scheduler's or `kill`'s polite stop: saved, not lost as on SIGKILL.
            bar.close()
            how, code = stop_reason(exc)
            raise self.stopped(how, exit_code=code) from None
        except ValueError:
            # A policy that turned NaN inside an SB3 update fails there, in torch's argument
            # checks of the action distribution; anything else is a real bug and goes on up.
            if self._policy_finite():
                raise
            bar.close()
            raise self.stopped(_POLICY_NAN) from None
        if self.model.num_timesteps > last["steps"]:
            # Steps after the last round (SAC between cost updates): report where the run ended.
            end_round(self.model.num_timesteps, {})
        if config.eval_every and self.run.rows:
            # The policy as saved, after its last update, is the one the final row reports.
            self.run.amend_last(self.evaluate(), self.model.num_timesteps)
        bar.close()
        self.wall_before += time.time() - start
        self._start = None
        self.save_checkpoint()  # and the outputs with it
        return self.run.summary()

    # ------------------------------------------------------------------ one round

    def _gen_segments(self) -> Segments | None:
        """The generated side of the cost's batch: the round's steps (K = 1, with ``disc_replay``
        a share of them drawn from SAC's whole replay buffer), or its recent episodes' segments."""
        if self.k == 1:
            share = self.config.disc_replay
            if share == 1:
                flat = replayed_steps(self.model, self.config.disc_batch * self.config.disc_updates, self.rng)
                if flat is None:
                    return None
            else:
                flat = self.recorder.flat_rollout()
                n = len(flat["obs"])
                # Sampled uniformly below: as many replayed steps beside the n recent ones as makes their share.
                old = replayed_steps(self.model, int(round(n * share / (1 - share))), self.rng) if share > 0 else None
                if old is not None:
                    flat = {k: np.concatenate([flat[k], old[k]]) for k in old}
            return rollout_transitions(flat["obs"], flat["acts"], flat["next_obs"], flat["terminated"])
        episodes = list(self.recorder.episodes)
        if not episodes:
            return None
        return make_segments(episodes, self.k)

    def _log_pi(self, seg: Segments) -> torch.Tensor:
        """``α log π`` per step: the temperature enters the discriminator and the reward alike."""
        return (self.config.temperature * self.density.log_prob(seg.obs[..., :-1], seg.acts) * seg.policy_step).float()

    def update_cost(self) -> dict:
        """Score the demo and generated segments under the current policy, then ``disc_updates``
        gradient steps of the estimator's loss; returns the round's diagnostics."""
        if self.estimator is None or self.cost_frozen:
            return {}
        gen = self._gen_segments()
        if gen is None:
            return {}
        n, updates = min(self.config.disc_batch, len(gen), len(self.demo_segments)), self.config.disc_updates
        # The policy stands still during the cost's updates: every batch's log π comes from one pass.
        d_all = self.demo_segments.index(torch.as_tensor(self.rng.choice(len(self.demo_segments), n * updates, p=self._demo_occupancy)))
        g_all = gen.index(torch.as_tensor(self.rng.choice(len(gen), n * updates, p=gen.occupancy(self.model.gamma))))
        lp_d_all, lp_g_all = self._log_pi(d_all), self._log_pi(g_all)
        params = list(self.estimator.parameters())
        # How likely the demos' actions are under the generator, against its own: a gap of tens
        # of nats a step lets the discriminator tell them apart by log q alone, whatever the cost.
        diag: dict = {"log_pi_demo": float(d_all.mean_per_policy_step(lp_d_all)), "log_pi_gen": float(g_all.mean_per_policy_step(lp_g_all))}
        if self.config.demo_log_pi_floor is not None:
            floor = diag["log_pi_gen"] - self.config.demo_log_pi_floor
            lp_d_all = lp_d_all.clamp(min=floor) * d_all.policy_step.to(lp_d_all.dtype)
        for u in range(updates):
            rows = slice(u * n, (u + 1) * n)
            batch = Batch(d_all.index(rows), g_all.index(rows), lp_d_all[rows], lp_g_all[rows])
            loss, step_diag = self.estimator.loss(batch)
            if self.ranking is not None:
                rank_loss = self.ranking.loss(self.estimator.cost, self.rng)
                loss = loss + self.config.rank_weight * rank_loss
                step_diag = {**step_diag, "rank_loss": float(rank_loss.detach())}
            if not torch.isfinite(loss):
                raise self.stopped(f"the cost loss became {float(loss.detach())}; {_COST_FIX}")
            self.cost_opt.zero_grad()
            loss.backward()
            # Checked before the step, so the checkpoint saved on the way out is still sound.
            grads = [p.grad for p in params if p.grad is not None]
            norm = torch.nn.utils.get_total_norm(grads)
            if not torch.isfinite(norm):
                raise self.stopped(f"the cost's gradient is not finite; {_COST_FIX}")
            if self.config.grad_clip:
                torch.nn.utils.clip_grads_with_norm_(params, self.config.grad_clip, norm)
            self.cost_opt.step()
            self.reward_source.cost_changed()
            diag.update(step_diag, cost_loss=float(loss.detach()))
        if self.ranking is not None:
            diag["rank_accuracy"] = self.ranking.accuracy(self.estimator.cost)
        return diag

    @property
    def cost_frozen(self) -> bool:
        """``cost_until``: past it, the cost learns no more."""
        return 0 < self.config.cost_until < self.model.num_timesteps

    @torch.no_grad()
    def relabel(self, buffer, last_values, dones) -> dict:
        """PPO: the rollout's rewards from the reward source (the oracle's are the env's own), scaled
        by their running standard deviation, into the rollout buffer; then its advantages again."""
        flat = self.recorder.flat_rollout()
        reward = self.reward_source.reward(flat["obs"], flat["acts"], flat["next_obs"], flat["terminated"], flat["rews"])
        if not np.isfinite(reward).all():
            raise self.stopped(f"the learned reward is not finite; {_COST_FIX}")
        self.reward_scale.update(reward)
        truncated = np.flatnonzero(flat["truncated"])
        final_obs = self.venv.normalize_obs(flat["next_obs"][truncated])
        reward = set_rollout_rewards(self.model, buffer, reward / self.reward_scale.std, truncated, final_obs, last_values, dones)
        return {"reward_mean": float(reward.mean()), "reward_scale": self.reward_scale.std}

    def replay_reward(self, obs, scaled_acts, next_obs, terminated) -> np.ndarray:
        """SAC: rewards of replayed steps as the buffer stored them (actions in [-1, 1])."""
        acts = self.model.policy.unscale_action(np.asarray(scaled_acts))
        return self.reward_source.reward(obs, acts, next_obs, terminated)

    def behaviour_clone(self, progress: bool = True) -> dict:
        """``bc_init``: the generator cloned on the demos before the first env step (``bc.clone_generator``)."""
        return clone_generator(self.model, self.venv, self.density, self.demos, self.config, self.rng, progress)

    def evaluate(self) -> dict:
        """The current policy, acting deterministically, on the true reward: ``eval_return``
        (mean over ``eval_episodes`` episodes with fixed seeds) and ``eval_normalised``."""
        from irl_gan.evaluation import deterministic_score

        if self._eval_env is None:
            self._eval_env = self.spec.make_env()
        model, venv = self.model, self.venv
        return deterministic_score(self.spec, self._eval_env, lambda obs: model.predict(venv.normalize_obs(obs), deterministic=True)[0], self.config.eval_episodes)

    def log(self, env_steps: int, diag: dict, wall: float) -> None:
        """The round's row: the generator's recent true return beside ``diag``."""
        self.round += 1
        rets = [e["r"] for e in self.model.ep_info_buffer or ()]  # None before the first learn()
        row = {"round": self.round, "env_steps": env_steps, "wall_s": round(wall, 2)}
        if self.ranking is not None:
            row["pre_training_env_steps"] = self.ranking.env_steps
        if rets:
            row["true_return"] = float(np.mean(rets[-10:]))
            if self.spec.scores is not None:
                row["normalised"] = self.spec.scores.normalise(row["true_return"])
            diag["true_return"] = row["true_return"]
        row.update({k: v for k, v in diag.items() if k != "true_return"})
        self.run.log(row, env_steps)

    # ------------------------------------------------------------------ checkpoints and outputs

    def save_checkpoint(self) -> None:
        """Everything needed to continue: policy, observation statistics, estimator, optimiser,
        counters, as one directory (``RunDir.save_checkpoint``), then the outputs. A state with NaN
        in it is never saved: the run stops, and the last sound checkpoint stands."""
        if not self._finite():
            raise self.stopped(_POLICY_NAN if not self._policy_finite() else f"the cost's parameters are not finite; {_COST_FIX}")
        state = {
            "estimator": self.estimator.state_dict() if self.estimator is not None else None,
            "cost_opt": self.cost_opt.state_dict() if self.cost_opt is not None else None,
            "round": self.round,
            "wall": self.wall_now(),
            "reward_scale": vars(self.reward_scale),
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": self.rng.bit_generator.state,
        }
        self.run.save_checkpoint(self.model, self.venv, state, {"env_steps": int(self.model.num_timesteps), "round": self.round, **self._identity()})
        # The run's outputs follow each checkpoint: a killed run's policy and cost are its last checkpoint's.
        self.save_outputs()

    def _identity(self) -> dict:
        """What a checkpoint must agree on with the run resuming it."""
        c = self.config
        identity = {"task": self.spec.task, "algo": c.algo, "generator": c.generator, "segment": c.segment}
        if c.reward is not None:
            identity["reward"] = str(Path(c.reward).resolve())
        return identity

    def load_checkpoint(self) -> bool:
        """Continue from the run directory's checkpoint if there is one; returns whether it did."""
        from stable_baselines3.common.vec_env import VecNormalize

        found = self.run.latest_checkpoint()
        if found is None:
            return False
        d, state = found
        for key, value in self._identity().items():
            if key in state and state[key] != value:
                raise UserError(f"--resume: the checkpoint in {self.run.out} is from a run with {key} {state[key]!r}, not {value!r}; resume it with the same settings or choose a new --out")
        self.venv = VecNormalize.load(str(d / "vecnormalize.pkl"), self.recorder)
        self.model = load_generator(self.config.generator, d, self.venv, self.replay_reward)
        self.density = PolicyDensity(self.model, obs_norm=lambda o: self.venv.normalize_obs(o))
        blob = torch.load(d / "trainer.pt", weights_only=False)
        try:
            if self.estimator is not None:
                self.estimator.load_state_dict(blob["estimator"])
                self.cost_opt.load_state_dict(blob["cost_opt"])
        except (RuntimeError, KeyError, ValueError, TypeError, AttributeError):
            raise UserError(f"--resume: the cost network in {d} does not fit this run's settings (cost_hidden, state_only, shaped); resume with the settings in {self.run.out / 'config.yaml'}") from None
        self.reward_source.cost_changed()
        self.round, self.wall_before = blob["round"], blob["wall"]
        vars(self.reward_scale).update(blob["reward_scale"])
        torch.set_rng_state(blob["torch_rng"])
        self.rng.bit_generator.state = blob["numpy_rng"]
        self.run.resume_rows(self.round, state["env_steps"])
        return state["env_steps"] > 0

    def save_config(self) -> None:
        """The resolved settings: a run directory with a config.yaml is one that --resume can continue."""
        write_config(self.run.out, self.config)

    def save_outputs(self) -> None:
        """The policy, its observation statistics (also as SB3's ``vecnormalize.pkl``), the cost, the
        config (``RunDir.save_outputs``)."""
        from irl_gan.agents import ObsNorm

        rms = self.venv.obs_rms
        obs_norm = ObsNorm(rms.mean.copy(), rms.var.copy(), float(self.venv.clip_obs), float(self.venv.epsilon))
        self.run.save_outputs(self.config, self.spec, self.model, obs_norm, self.estimator.cost if self.estimator is not None else None)
        with atomic_path(self.run.out / "vecnormalize.pkl") as tmp:
            self.venv.save(str(tmp))

    # ------------------------------------------------------------------ stopping soundly

    def _finite(self) -> bool:
        return (self.estimator is None or _all_finite(self.estimator.parameters())) and self._policy_finite()

    def _policy_finite(self) -> bool:
        return _all_finite(self.model.policy.parameters())

    def check_policy(self) -> None:
        if not self._policy_finite():
            raise self.stopped(_POLICY_NAN)

    def stopped(self, what: str, exit_code: int = 3) -> TrainingStopped:
        """The error that ends a run early. Saves a checkpoint first if every parameter is
        still finite; otherwise the last one on disk stands. NaN never reaches the outputs."""
        steps = int(self.model.num_timesteps)
        if self._finite():
            self.save_checkpoint()
        found = self.run.latest_checkpoint()
        if found is None:
            saved = "no checkpoint was saved (none had been written yet)"
        else:
            saved = f"the checkpoint at env step {found[1]['env_steps']} is in {self.run.checkpoint_dir}; continue with --resume"
        err = TrainingStopped(f"training stopped at env step {steps}: {what}; {saved}")
        err.exit_code = exit_code
        return err

    def wall_now(self) -> float:
        return self.wall_before + (time.time() - self._start if self._start else 0.0)


class _Every:
    """A cadence in env steps: due once the steps pass the next multiple of ``every`` (0: never)."""

    def __init__(self, every: int, steps: int):
        self.every = every
        self.at = (steps // every + 1) * every if every else None

    def due(self, steps: int) -> bool:
        if self.at is None or steps < self.at:
            return False
        self.at = (steps // self.every + 1) * self.every
        return True


@torch.no_grad()
def _all_finite(params) -> bool:
    return bool(torch.isfinite(torch.cat([p.reshape(-1) for p in params])).all())
