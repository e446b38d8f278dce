"""The training loop: guided cost learning with an SB3 PPO generator.

Each round reads as the algorithm: the generator **collects** a rollout; the demo and
generated segments are **scored** (``log π`` under the current policy); the estimator
**updates the cost**; the rollout's rewards are **relabelled** with the estimator's reward,
in one batch; PPO **updates the policy**; the round is **logged**.

The estimator only states its loss and reward (``estimators.py``). Nothing here depends on
which estimator it is, beyond asking whether it has a cost to learn.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import yaml
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples

from irl_gan.config import TrainConfig
from irl_gan.cost import CostConfig
from irl_gan.data import Episode, state_action_pairs
from irl_gan.errors import Terminated, TrainingStopped, UserError, sigterm_raises, stop_reason
from irl_gan.estimators import Batch, Estimator, Regularisers, make_estimator
from irl_gan.generator import PolicyDensity
from irl_gan.reward import COST_HISTORY, LearnedReward
from irl_gan.sb3 import sb3_rejections
from irl_gan.io import atomic_dir, atomic_path, atomic_write_csv, atomic_write_text, latest_dir
from irl_gan.segments import Segments, make_segments, transitions
from irl_gan.tasks import TaskSpec

_POLICY_NAN = "the policy's parameters became NaN or Inf; lower the generator's learning_rate"
_COST_FIX = "lower cost_lr or set grad_clip (in a --config file)"


class Trainer:
    """Guided cost learning with a PPO or SAC generator on ``demos`` (the episodes learned from,
    ``TrainConfig.select_demos``; none for the oracle): ``Trainer(spec, demos, config, out).train()``."""

    def __init__(self, spec: TaskSpec, demos: Sequence[Episode] | None, config: TrainConfig, out: Path):
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.vec_env import VecNormalize

        from irl_gan.recorder import Recorder

        if config.algo in ("bc", "drex"):
            raise UserError(f"--algo {config.algo} has no generator: irl_gan.{config.algo}.train_{config.algo} trains it, not this loop")
        self.spec, self.config, self.out = spec, config, out
        self.k = config.k or spec.horizon
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)

        self.demos = list(demos) if demos is not None else None
        if config.algo != "rl":
            self.demo_segments = make_segments(self.demos, self.k)

        self.recorder = Recorder(make_vec_env(spec.make_env, n_envs=config.n_envs, seed=config.seed), keep_episodes=0 if self.k == 1 else max(64, 4 * config.n_envs))
        self.frozen = LearnedReward.for_task(config.reward, spec, transfer=not config.reward_shaped) if config.reward else None
        gamma = (config.ppo if config.generator == "ppo" else config.sac).get("gamma", 0.99)
        self.venv = VecNormalize(self.recorder, norm_obs=True, norm_reward=False, gamma=gamma)
        self.model = self._make_generator()
        self.density = PolicyDensity(self.model, obs_norm=lambda o: self.venv.normalize_obs(o))

        # The oracle (algo rl) has no cost: the generator keeps the env's true reward.
        self.estimator: Estimator | None = None
        self.cost_opt = None
        if config.algo != "rl":
            obs_dim, act_dim = self.venv.observation_space.shape[0] + 1, self.venv.action_space.shape[0]
            cost_config = CostConfig(obs_dim, act_dim, state_only=config.state_only, shaped=config.shaped, gamma=gamma, hidden=tuple(config.cost_hidden))
            self.estimator = make_estimator(config.algo, cost_config, Regularisers(config.lcr, config.mono, config.grad_penalty), k=self.k)
            self.estimator.cost.update_normalisation(self.demo_segments.obs.reshape(-1, obs_dim), self.demo_segments.acts.reshape(-1, act_dim))
            self._demo_occupancy = self._occupancy(self.demo_segments)
            # Scalars of the estimator (gan-gcl's log Z) move in units of nats, not of network weights.
            scalars = [p for p in self.estimator.parameters() if p.dim() == 0]
            weights = [p for p in self.estimator.parameters() if p.dim() > 0]
            self.cost_opt = torch.optim.Adam([{"params": weights}, {"params": scalars, "lr": config.log_z_lr}], lr=config.cost_lr)
        self.ranking: dict | None = None  # rank_weight: the drex levels, built before the first env step
        self._eval_env = None
        self.reward_scale = _RunningScale()
        self.metrics_path = out / "metrics.csv"
        self.rows: list[dict] = []
        self.round = 0
        self.wall_before = 0.0
        self.writer = None
        self.writer_purge_step: int | None = None
        self._r_abs: float | None = None

    def _make_generator(self):
        from stable_baselines3 import PPO, SAC

        # The oracle's replay buffer keeps the true rewards it stored.
        relabelled = self.config.algo != "rl" or self.frozen is not None
        with sb3_rejections(self.config.generator):
            settings, kwargs = self.config.generator_arguments()
            common = dict(seed=self.config.seed, device="cpu", policy_kwargs=kwargs, verbose=0)
            if self.config.generator == "ppo":
                return PPO("MlpPolicy", self.venv, **common, **settings)
            model = SAC("MlpPolicy", self.venv, replay_buffer_class=RelabelledReplayBuffer if relabelled else None, **common, **settings)
        if relabelled:
            model.replay_buffer.reward_fn = self.replay_reward
        return model

    # ------------------------------------------------------------------ one round

    def _replayed_steps(self, n: int) -> dict | None:
        """``disc_replay``: ``n`` steps drawn uniformly from SAC's replay buffer, as the recorder's
        arrays (raw observations, unscaled actions, terminations that are not time limits)."""
        buf = self.model.replay_buffer
        size = buf.buffer_size if buf.full else buf.pos
        if size == 0 or n == 0:
            return None
        obs, scaled_acts, next_obs, terminated = _stored_steps(buf, self.rng.integers(0, size, n), self.rng.integers(0, buf.n_envs, n))
        return {"obs": obs, "acts": self.model.policy.unscale_action(scaled_acts), "next_obs": next_obs, "terminated": terminated.astype(bool)}

    def _gen_segments(self) -> Segments | None:
        if self.k == 1:
            share = self.config.disc_replay
            if share == 1:
                flat = self._replayed_steps(self.config.disc_batch * self.config.disc_updates)
                if flat is None:
                    return None
            else:
                r = self.recorder.rollout_arrays()
                n = r["obs"].shape[0] * r["obs"].shape[1]
                flat = {k: v.reshape(n, *v.shape[2:]) for k, v in r.items()}
                # Sampled uniformly below: as many replayed steps beside the n recent ones as makes their share.
                old = self._replayed_steps(int(round(n * share / (1 - share)))) if share > 0 else None
                if old is not None:
                    flat = {k: np.concatenate([flat[k], old[k]]) for k in old}
            seg = transitions(flat["obs"], flat["acts"], flat["next_obs"], flat["terminated"])
            m = int(flat["terminated"].sum())
            if m:
                # One absorbing self-loop per termination, as demo segments have (segments.py).
                z_obs, z_act = np.zeros((m, flat["obs"].shape[1])), np.zeros((m, flat["acts"].shape[1]))
                seg = Segments.cat([seg, transitions(z_obs, z_act, z_obs, np.ones(m, bool), absorbing=True)])
            return seg
        episodes = list(self.recorder.episodes)
        if not episodes:
            return None
        return make_segments(episodes, self.k)

    def _occupancy(self, seg: Segments) -> np.ndarray:
        """Sampling probabilities that match discounted occupancy. A K = 1 absorbing self-loop
        stands for the whole discounted stay in the absorbing state, 1/(1-γ) steps, so it is
        drawn that much more often; one copy per termination would under-weight the state by
        about a hundredfold, and the cost would never learn what falling is worth."""
        w = np.ones(len(seg))
        if seg.k == 1:
            w[(seg.policy_step.sum(-1) == 0).numpy()] = 1.0 / (1.0 - self.model.gamma)
        return w / w.sum()

    def _log_pi(self, seg: Segments) -> torch.Tensor:
        """``α log π`` per step: the temperature enters the discriminator and the reward alike."""
        return (self.config.temperature * self.density.log_prob(seg.obs[..., :-1], seg.acts) * seg.policy_step).float()

    def update_cost(self) -> dict:
        if self.estimator is None or self.cost_frozen:
            return {}
        gen = self._gen_segments()
        if gen is None:
            return {}
        n, updates = min(self.config.disc_batch, len(gen), len(self.demo_segments)), self.config.disc_updates
        # The policy stands still during the cost's updates: every batch's log π comes from one pass.
        d_all = self.demo_segments.index(torch.as_tensor(self.rng.choice(len(self.demo_segments), n * updates, p=self._demo_occupancy)))
        g_all = gen.index(torch.as_tensor(self.rng.choice(len(gen), n * updates, p=self._occupancy(gen))))
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
                rank_loss = self._ranking_loss()
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
            self._r_abs = None
            diag.update(step_diag, cost_loss=float(loss.detach()))
        if self.ranking is not None:
            from irl_gan.drex import ranked_right

            diag["rank_accuracy"] = ranked_right(self.estimator.cost, *self.ranking["held_out_pairs"])
        return diag

    def _ranking_loss(self) -> torch.Tensor:
        from irl_gan.drex import ranking_loss, snippet_pairs

        better, worse = snippet_pairs(self.ranking["train"], self.config.rank_batch, self.ranking["snippet"], self.rng)
        return ranking_loss(self.estimator.cost, better, worse)

    def prepare_ranking(self, progress: bool = True) -> None:
        """``rank_weight``: the drex ranking, built into RUN/ranking/ before the first env step
        (the demos cloned, the clone's noisy rollouts), or read back from there on --resume. The
        last episode of each level is held out: the share of its window pairs ranked right is
        logged as rank_accuracy."""
        from irl_gan.drex import held_out_pairs, ranked_levels, snippet_length

        if not self.config.rank_weight or self.estimator is None or self.ranking is not None:
            return
        where = self.out / "ranking"
        path = where / "levels.pt"
        if path.exists():
            ranking = torch.load(path, weights_only=True)
        else:
            ranking = ranked_levels(self.spec, self.demos, self.config, where, progress)
            with atomic_path(path) as tmp:
                torch.save(ranking, tmp)
            record = {"env_steps": ranking["env_steps"], "true_return_per_step": {k: round(v, 4) for k, v in ranking["true_per_step"].items()}}
            atomic_write_text(where / "levels.yaml", yaml.safe_dump(record, sort_keys=False))
        levels = ranking["levels"]
        length = snippet_length(self.config, levels)
        held_out = held_out_pairs([lv[-1:] for lv in levels], 500, length, self.config.seed)
        self.ranking = {"train": [lv[:-1] for lv in levels], "snippet": length, "held_out_pairs": held_out}

    @property
    def cost_frozen(self) -> bool:
        """``cost_until``: past it, the cost learns no more."""
        return 0 < self.config.cost_until < self.model.num_timesteps

    @torch.no_grad()
    def learned_reward(self, obs, acts, next_obs, terminated, entropy: bool) -> np.ndarray:
        """The estimator's reward for raw transitions; a termination also earns the discounted
        worth of staying in the absorbing state, ``γ/(1-γ) r(s_abs)``. With ``entropy``, less the
        policy's ``α log π`` of ``acts``."""
        seg = transitions(obs, acts, next_obs, terminated)
        log_pi = self._log_pi(seg) if entropy else torch.zeros(len(seg), 1)
        reward = self.estimator.reward(seg, log_pi).sum(-1).double().numpy()
        gamma = self.model.gamma
        return reward + np.asarray(terminated, dtype=np.float64) * gamma / (1 - gamma) * self._absorbing_reward()

    @torch.no_grad()
    def _absorbing_reward(self) -> float:
        """``r(s_abs)``, cached until the cost next changes (SAC asks for it at every sample)."""
        if self._r_abs is None:
            obs_dim, act_dim = self.demo_segments.obs.shape[-1] - 1, self.demo_segments.acts.shape[-1]
            zeros_obs, zeros_act = np.zeros((1, obs_dim)), np.zeros((1, act_dim))
            absorbing = transitions(zeros_obs, zeros_act, zeros_obs, np.array([True]), absorbing=True)
            self._r_abs = float(self.estimator.reward(absorbing, torch.zeros(1, 1)).sum())
        return self._r_abs

    def frozen_reward(self, obs, acts, next_obs, terminated) -> np.ndarray:
        """The frozen learned reward (``reward``), with the same absorbing-state worth at a termination."""
        gamma = self.model.gamma
        term = np.asarray(terminated, dtype=bool)
        return self.frozen(obs, acts, next_obs, term) + term * gamma / (1 - gamma) * self.frozen.absorbing_reward()

    def replay_reward(self, obs, scaled_acts, next_obs, terminated) -> np.ndarray:
        """SAC: rewards of replayed transitions under the current cost. SAC's own entropy term
        plays the part of ``-log π``, so none is added here."""
        acts = self.model.policy.unscale_action(np.asarray(scaled_acts))
        if self.frozen is not None:
            return self.frozen_reward(obs, acts, next_obs, terminated)
        return self.learned_reward(obs, acts, next_obs, terminated.astype(bool), entropy=False)

    @torch.no_grad()
    def relabel(self, buffer, last_values, dones) -> dict:
        """PPO: replace the rollout's true rewards with the estimator's, then recompute advantages.
        The oracle keeps the true rewards, and goes through the same scaling and bootstrapping."""
        r = self.recorder.rollout_arrays()
        steps, envs = r["terminated"].shape
        n = steps * envs
        flat = {k: v.reshape(n, *v.shape[2:]) for k, v in r.items()}
        if self.frozen is not None:
            reward = self.frozen_reward(flat["obs"], flat["acts"], flat["next_obs"], flat["terminated"])
        elif self.estimator is None:
            reward = flat["rews"].astype(np.float64)
        else:
            reward = self.learned_reward(flat["obs"], flat["acts"], flat["next_obs"], flat["terminated"], self.config.entropy_reward)
        if not np.isfinite(reward).all():
            raise self.stopped(f"the learned reward is not finite; {_COST_FIX}")
        gamma = self.model.gamma
        self.reward_scale.update(reward)
        reward = reward / self.reward_scale.std
        # The time limit is not an end: bootstrap with the value of the true final observation.
        trunc = np.flatnonzero(flat["truncated"])
        if len(trunc):
            final = torch.as_tensor(self.venv.normalize_obs(flat["next_obs"][trunc]), dtype=torch.float32)
            reward[trunc] += gamma * self.model.policy.predict_values(final).squeeze(-1).double().numpy()
        buffer.rewards[:] = reward.reshape(steps, envs).astype(np.float32)
        buffer.compute_returns_and_advantage(last_values=last_values, dones=dones)
        return {"reward_mean": float(reward.mean()), "reward_scale": self.reward_scale.std}

    def policy_diagnostics(self) -> dict:
        """The generator's latest update as SB3 recorded it (losses, PPO's KL, clip fraction and
        policy std, SAC's entropy weight), under our column names; empty before its first update."""
        logged = self.model.logger.name_to_value
        return {name: float(logged[key]) for key, name in _POLICY_METRICS.items() if key in logged}

    # ------------------------------------------------------------------ the loop

    def train(self, progress: bool = True) -> dict:
        from stable_baselines3.common.callbacks import BaseCallback
        from tqdm.auto import tqdm

        trainer = self
        total = self.config.steps
        bar = tqdm(total=total, initial=self.model.num_timesteps, desc="env steps", unit="step", disable=None if progress else True)
        start = self._start = time.time()
        last = {"t": time.time(), "steps": self.model.num_timesteps}
        every = self.config.checkpoint_every
        next_ckpt = {"at": (self.model.num_timesteps // every + 1) * every}

        on_policy = self.config.generator == "ppo"
        next_cost = {"at": (self.model.num_timesteps // self.config.cost_every + 1) * self.config.cost_every}
        eval_every = self.config.eval_every
        next_eval = {"at": (self.model.num_timesteps // eval_every + 1) * eval_every if eval_every else None}
        history_every = self.config.cost_history_every if self.estimator is not None else 0
        next_history = {"at": (self.model.num_timesteps // history_every + 1) * history_every if history_every else None}

        def end_round(env_steps: int, diag: dict) -> None:
            now = time.time()
            diag.update(trainer.policy_diagnostics())
            diag["env_steps_per_s"] = (env_steps - last["steps"]) / max(now - last["t"], 1e-9)
            if next_eval["at"] is not None and env_steps >= next_eval["at"]:
                # Evaluation time is left out of steps/s (this round's and the next) and counted in wall_s.
                diag.update(trainer.evaluate())
                next_eval["at"] = (env_steps // eval_every + 1) * eval_every
            if next_history["at"] is not None and env_steps >= next_history["at"]:
                trainer.estimator.cost.save(trainer.out / COST_HISTORY / f"cost-{env_steps:09d}.pt")
                next_history["at"] = (env_steps // history_every + 1) * history_every
            last.update(t=time.time(), steps=env_steps)
            trainer.log(env_steps, diag, trainer.wall_before + time.time() - start)
            bar.set_postfix(ret=f"{diag.get('true_return', float('nan')):.0f}")
            if env_steps >= next_ckpt["at"]:
                trainer.save_checkpoint()
                next_ckpt["at"] += every

        class Hook(BaseCallback):
            def _on_rollout_start(self) -> None:
                if on_policy:
                    trainer.check_policy()  # after each PPO update, before the policy acts again
                    trainer.recorder.start_rollout()

            def _on_step(self) -> bool:
                bar.update(self.num_timesteps - bar.n)
                if not on_policy and self.num_timesteps >= next_cost["at"]:
                    # A NaN actor between these checks fails in SB3's predict; train() catches it.
                    trainer.check_policy()
                    # SAC: the cost learns from the steps since its last update; replayed rewards
                    # follow it at once, because the buffer relabels at sample time.
                    next_cost["at"] += trainer.config.cost_every
                    end_round(self.num_timesteps, trainer.update_cost())
                    trainer.recorder.start_rollout()
                return True

            def _on_rollout_end(self) -> None:
                if on_policy:
                    diag = trainer.update_cost()
                    diag.update(trainer.relabel(self.model.rollout_buffer, self.locals["values"], self.locals["dones"]))
                    end_round(self.num_timesteps, diag)

        self.out.mkdir(parents=True, exist_ok=True)
        self.prepare_ranking(progress)
        if self.config.bc_init and self.model.num_timesteps == 0 and not self.rows:
            # The starting point of the curve: the cloned policy, before any env step.
            diag = self.behaviour_clone(progress)
            if eval_every:
                diag.update(self.evaluate())
            self.log(0, diag, time.time() - start)
        try:
            with sigterm_raises():
                self.model.learn(total_timesteps=max(0, total - self.model.num_timesteps), callback=Hook(), reset_num_timesteps=False)
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
        if eval_every and self.rows:
            # The policy as saved, after its last update, is the one the final row reports.
            self.rows[-1].update(self.evaluate())
            self._write_metrics()
            for key in ("eval_return", "eval_normalised"):
                if key in self.rows[-1]:
                    self._tb().add_scalar(_tb_name(key), self.rows[-1][key], self.model.num_timesteps)
        bar.close()
        self.wall_before += time.time() - start
        self._start = None
        self.save_checkpoint()  # and the outputs with it
        return self.summary()

    def behaviour_clone(self, progress: bool = True) -> dict:
        """``bc_init`` gradient steps on the demos' ``log π``, before the first env step.

        The observation normaliser is set to the demos' statistics for the whole run, so the
        states the policy is cloned on are normalised as they will be when it meets them. PPO's
        log std, a free parameter, is not trained; SAC's std head is, and its entropy term widens
        it again. Returns the demos' mean log-likelihood per step.
        """
        from tqdm.auto import tqdm

        obs, acts = state_action_pairs(self.demos)
        rms = self.venv.obs_rms
        rms.mean, rms.var, rms.count = obs.mean(0), obs.var(0), float(len(obs))
        # and keeps them: a normaliser that followed the generator's states would shift the
        # cloned policy's inputs away from those it was cloned on.
        self.venv.training = False
        if self.config.generator == "ppo":
            params = [p for name, p in self.model.policy.named_parameters() if name != "log_std"]
        else:
            params = list(self.model.actor.parameters())
        opt = torch.optim.Adam(params, lr=self.config.bc_lr)
        batch = min(self.config.bc_batch, len(obs))
        log_lik = float("nan")
        self.model.policy.set_training_mode(True)
        for _ in tqdm(range(self.config.bc_init), desc="behaviour cloning", disable=None if progress else True):
            idx = self.rng.integers(len(obs), size=batch)
            log_pi = self.density.log_prob(obs[idx], acts[idx], grad=True)
            loss = -log_pi.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            log_lik = -float(loss.detach())
        self.model.policy.set_training_mode(False)
        return {"bc_log_lik": log_lik}

    def evaluate(self) -> dict:
        """The current policy, acting deterministically, on the true reward: ``eval_return``
        (mean over ``eval_episodes`` episodes with fixed seeds) and ``eval_normalised``."""
        from irl_gan.evaluation import deterministic_score

        if self._eval_env is None:
            self._eval_env = self.spec.make_env()
        model, venv = self.model, self.venv

        def policy(obs):
            return model.predict(venv.normalize_obs(obs), deterministic=True)[0]

        return deterministic_score(self.spec, self._eval_env, policy, self.config.eval_episodes)

    # ------------------------------------------------------------------ checkpoints

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / "checkpoint"

    def save_checkpoint(self) -> None:
        """Everything needed to continue: policy, observation statistics, estimator, optimiser,
        counters. Written as a whole directory (``io.atomic_dir``): a kill at any moment leaves
        the previous checkpoint or this one, never a mixture. A state with NaN in it is never
        saved: the run stops, and the last sound checkpoint stands."""
        if not self._finite():
            raise self.stopped(_POLICY_NAN if not self._policy_finite() else f"the cost's parameters are not finite; {_COST_FIX}")
        with atomic_dir(self.checkpoint_dir) as d:
            self.model.save(d / "model.zip")
            self.venv.save(str(d / "vecnormalize.pkl"))
            if self.config.generator == "sac":
                self.model.save_replay_buffer(d / "replay.pkl")
            torch.save(
                {
                    "estimator": self.estimator.state_dict() if self.estimator is not None else None,
                    "cost_opt": self.cost_opt.state_dict() if self.cost_opt is not None else None,
                    "round": self.round,
                    "wall": self.wall_now(),
                    "reward_scale": vars(self.reward_scale),
                    "torch_rng": torch.get_rng_state(),
                    "numpy_rng": self.rng.bit_generator.state,
                },
                d / "trainer.pt",
            )
            (d / "state.json").write_text(json.dumps({"env_steps": int(self.model.num_timesteps), "round": self.round, **self._identity()}))
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
        """Continue from ``out/checkpoint`` if there is one; returns whether it did."""
        from stable_baselines3 import PPO, SAC
        from stable_baselines3.common.vec_env import VecNormalize

        d = latest_dir(self.checkpoint_dir)
        if d is None or not (d / "state.json").exists():
            return False
        state = json.loads((d / "state.json").read_text())
        for key, value in self._identity().items():
            if key in state and state[key] != value:
                raise UserError(f"--resume: the checkpoint in {self.out} is from a run with {key} {state[key]!r}, not {value!r}; resume it with the same settings or choose a new --out")
        self.venv = VecNormalize.load(str(d / "vecnormalize.pkl"), self.recorder)
        if self.config.generator == "ppo":
            self.model = PPO.load(d / "model.zip", env=self.venv, device="cpu")
        else:
            self.model = SAC.load(d / "model.zip", env=self.venv, device="cpu")
            self.model.load_replay_buffer(d / "replay.pkl")
            if isinstance(self.model.replay_buffer, RelabelledReplayBuffer):
                self.model.replay_buffer.reward_fn = self.replay_reward
        self.density = PolicyDensity(self.model, obs_norm=lambda o: self.venv.normalize_obs(o))
        blob = torch.load(d / "trainer.pt", weights_only=False)
        try:
            if self.estimator is not None:
                self.estimator.load_state_dict(blob["estimator"])
                self.cost_opt.load_state_dict(blob["cost_opt"])
        except (RuntimeError, KeyError, ValueError, TypeError, AttributeError):
            raise UserError(f"--resume: the cost network in {d} does not fit this run's settings (cost_hidden, state_only, shaped); resume with the settings in {self.out / 'config.yaml'}") from None
        self.round, self.wall_before = blob["round"], blob["wall"]
        self._r_abs = None
        vars(self.reward_scale).update(blob["reward_scale"])
        torch.set_rng_state(blob["torch_rng"])
        self.rng.bit_generator.state = blob["numpy_rng"]
        # Rows logged after the checkpoint are dropped; those rounds are run again.
        if self.metrics_path.exists():
            with open(self.metrics_path, newline="") as f:
                self.rows = list(csv.DictReader(f))[: self.round]
            self._write_metrics()
        self.writer_purge_step = state["env_steps"] + 1
        return state["env_steps"] > 0

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
        d = latest_dir(self.checkpoint_dir)
        if d is None:
            saved = "no checkpoint was saved (none had been written yet)"
        else:
            at = json.loads((d / "state.json").read_text())["env_steps"]
            saved = f"the checkpoint at env step {at} is in {self.checkpoint_dir}; continue with --resume"
        err = TrainingStopped(f"training stopped at env step {steps}: {what}; {saved}")
        err.exit_code = exit_code
        return err

    def wall_now(self) -> float:
        return self.wall_before + (time.time() - self._start if getattr(self, "_start", None) else 0.0)

    # ------------------------------------------------------------------ logging and outputs

    def log(self, env_steps: int, diag: dict, wall: float) -> None:
        self.round += 1
        rets = [e["r"] for e in self.model.ep_info_buffer or ()]  # None before the first learn()
        row = {"round": self.round, "env_steps": env_steps, "wall_s": round(wall, 2)}
        if rets:
            row["true_return"] = float(np.mean(rets[-10:]))
            if self.spec.scores is not None:
                row["normalised"] = self.spec.scores.normalise(row["true_return"])
            diag["true_return"] = row["true_return"]
        row.update({k: v for k, v in diag.items() if k != "true_return"})
        self.rows.append(row)
        self._write_metrics()
        for key, value in row.items():
            if key not in ("round", "env_steps"):
                self._tb().add_scalar(_tb_name(key), value, env_steps)

    def _tb(self):
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            # On resume, TensorBoard drops the events logged after the checkpoint.
            self.writer = SummaryWriter(str(self.out / "tb"), purge_step=self.writer_purge_step)
        return self.writer

    def _write_metrics(self) -> None:
        """Rewrite metrics.csv whole, atomically: a killed run never leaves half a row. Fixed
        columns, so a value that first appears later (the first finished episode's return) has
        a place in the header written before it existed."""
        atomic_write_csv(self.metrics_path, self.rows, METRICS)

    def summary(self) -> dict:
        last = self.rows[-1] if self.rows else {}
        return {k: (float(v) if v not in (None, "") else None) for k, v in last.items()}

    def save_config(self) -> None:
        """The resolved settings: a run directory with a config.yaml is one that --resume can continue."""
        atomic_write_text(self.out / "config.yaml", yaml.safe_dump(_plain(dataclasses.asdict(self.config)), sort_keys=False))

    def save_outputs(self) -> None:
        """The policy (an SB3 checkpoint), its observation statistics, the cost, the config."""
        from irl_gan.agents import ObsNorm

        self.save_config()
        with atomic_path(self.out / "policy.zip") as tmp:
            self.model.save(tmp)
        rms = self.venv.obs_rms
        ObsNorm(rms.mean.copy(), rms.var.copy(), float(self.venv.clip_obs), float(self.venv.epsilon)).save(self.out / "obs_norm.npz")
        if self.estimator is not None:
            self.estimator.cost.save(self.out / "cost.pt")
        atomic_write_text(self.out / "card.yaml", yaml.safe_dump({"task": self.spec.task, "env_id": self.spec.env_id, "trained_by": "irl-gan train", "algo": self.config.algo}, sort_keys=False))


@torch.no_grad()
def _all_finite(params) -> bool:
    return bool(torch.isfinite(torch.cat([p.reshape(-1) for p in params])).all())


def _plain(x):
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


# The generator's own update, as SB3 records it in its logger (train/...) -> our column name.
# PPO's come from the update before the round's rollout, SAC's from its latest gradient step.
_POLICY_METRICS = {
    "train/policy_gradient_loss": "policy_loss",
    "train/value_loss": "value_loss",
    "train/actor_loss": "actor_loss",
    "train/critic_loss": "critic_loss",
    "train/approx_kl": "approx_kl",
    "train/clip_fraction": "clip_fraction",
    "train/explained_variance": "explained_variance",
    "train/std": "policy_std",
    "train/ent_coef": "ent_coef",
}

METRICS = [
    "round", "env_steps", "wall_s", "true_return", "normalised", "eval_return", "eval_normalised", "env_steps_per_s",
    "cost_loss", "log_z", "log_z_is", "ess", "energy_demo", "energy_gen", "disc_acc_demo", "disc_acc_gen",
    "demo_log_lik", "log_pi_demo", "log_pi_gen", "reward_mean", "reward_scale", "bc_log_lik", "rank_loss", "rank_accuracy",
    *_POLICY_METRICS.values(),
]
_TB_GROUPS = {k: "charts" for k in ("true_return", "normalised", "eval_return", "eval_normalised", "env_steps_per_s", "wall_s")}
# The losses go to "losses" with every other *loss (_tb_name); the rest of the update to "policy".
_TB_GROUPS.update({name: "policy" for name in _POLICY_METRICS.values() if not name.endswith("loss")})


def _tb_name(key: str) -> str:
    return f"{_TB_GROUPS.get(key, 'diagnostics' if not key.endswith('loss') else 'losses')}/{key}"


class _RunningScale:
    """Running standard deviation of the learned reward, to keep PPO's value targets near unit scale."""

    def __init__(self):
        self.count, self.mean, self.m2 = 0, 0.0, 0.0

    def update(self, x: np.ndarray) -> None:
        n = len(x)
        mean, var = float(np.mean(x)), float(np.var(x))
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += var * n + delta**2 * self.count * n / total
        self.count = total

    @property
    def std(self) -> float:
        return max(float(np.sqrt(self.m2 / max(self.count, 1))), 1e-4)


def _stored_steps(buf, batch_inds, env_indices) -> tuple:
    """Raw steps of an SB3 replay buffer as stored: observations, actions scaled to [-1, 1], next
    observations, and terminations that are not time limits (as floats)."""
    terminated = buf.dones[batch_inds, env_indices] * (1 - buf.timeouts[batch_inds, env_indices])
    return buf.observations[batch_inds, env_indices], buf.actions[batch_inds, env_indices], buf.next_observations[batch_inds, env_indices], terminated


class RelabelledReplayBuffer(ReplayBuffer):
    """A replay buffer whose rewards come from the current cost, computed at sample time.

    SB3 stores raw observations (before VecNormalize) and actions scaled to [-1, 1];
    ``reward_fn(obs, scaled_actions, next_obs, terminated)`` gets them as stored.
    """

    reward_fn = None

    def _get_samples(self, batch_inds, env=None):
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        obs, acts, nxt, terminated = _stored_steps(self, batch_inds, env_indices)
        reward = self.reward_fn(obs, acts, nxt, terminated)
        data = (
            self._normalize_obs(obs, env),
            acts,
            self._normalize_obs(nxt, env),
            terminated.reshape(-1, 1),
            np.asarray(reward, dtype=np.float32).reshape(-1, 1),
        )
        return ReplayBufferSamples(*tuple(map(self.to_torch, data)))

    def __getstate__(self):
        # The reward function belongs to the live trainer; it is re-attached on load.
        state = self.__dict__.copy()
        state.pop("reward_fn", None)
        return state
