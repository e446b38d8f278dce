"""A trained cost, loaded back as a reward: a function, and a gymnasium wrapper.

The reward is ``-c``. With ``transfer=True`` and a shaped cost it is ``-g``, the part of AIRL's
cost that carries over to new dynamics. Observations get the absorbing flag that the cost was
trained with (``segments.augment``). Termination leads into the absorbing state. The wrapper
adds, at a termination, the discounted worth of staying there forever,
``γ/(1-γ) · r(s_abs)``, so that a learned reward cannot be gamed by ending episodes.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from irl_gan.cost import CostNet
from irl_gan.segments import augment

COST_HISTORY = "cost_history"
"""A run's folder of cost snapshots (TrainConfig.cost_history_every)."""


def run_cost(run: Path, which: str = "final") -> Path:
    """Where a training run keeps the cost to use as a reward: ``final``, its last (cost.pt);
    ``average``, the folder of its snapshots (``LearnedReward.for_task`` averages them); or an env
    step, the snapshot taken then (``cost_history/cost-STEP.pt``)."""
    from irl_gan.errors import UserError

    if which == "average":
        if not any((run / COST_HISTORY).glob("cost-*.pt")):
            raise UserError(f"{run}: no cost snapshots in {COST_HISTORY}/ to average; train with cost_history_every > 0 (in a --config file), or use --cost final")
        return run / COST_HISTORY
    if which != "final":
        if not which.isdigit():
            raise UserError(f"--cost {which!r}: use final, average, or the env step of a snapshot in {COST_HISTORY}/")
        path = run / COST_HISTORY / f"cost-{int(which):09d}.pt"
        if not path.is_file():
            steps = sorted(int(p.stem.split("-")[1]) for p in (run / COST_HISTORY).glob("cost-*.pt"))
            have = f"its snapshots are at env steps {steps[0]} to {steps[-1]}, every {steps[1] - steps[0] if len(steps) > 1 else steps[0]}" if steps else "it has none (train with cost_history_every > 0)"
            raise UserError(f"{run}: no cost snapshot at env step {int(which)} in {COST_HISTORY}/; {have}")
        return path
    if not (run / "cost.pt").is_file():
        raise UserError(f"{run}: no cost.pt; give a directory written by irl-gan train (not --algo rl)")
    return run / "cost.pt"


def default_cost(run: Path) -> str:
    """What ``--cost`` means when it is not given: ``average`` where the run kept snapshots, else
    ``final``."""
    return "average" if any((run / COST_HISTORY).glob("cost-*.pt")) else "final"


def cost_name(which: str | None) -> str:
    """How output names ``--cost which``."""
    which = str(which or "final")
    return {"final": "final cost", "average": "mean of the cost snapshots"}.get(which, f"cost snapshot at env step {which}")


def cost_label(which: str) -> str:
    """The suffix of an output folder for ``--cost which``: none for the final cost."""
    return "" if which == "final" else "-average" if which == "average" else f"-at{int(which)}"


class LearnedReward:
    """``r(s, a, s', terminated)`` from a cost network, on numpy arrays with any batch axes."""

    def __init__(self, cost: CostNet, transfer: bool = True):
        self.cost = cost.eval()
        self.transfer = transfer
        self.gamma = cost.config.gamma
        self._absorbing: float | None = None

    @classmethod
    def load(cls, path: str | Path, transfer: bool = True) -> "LearnedReward":
        return cls(CostNet.load(path), transfer)

    @classmethod
    def for_task(cls, path: str | Path, spec, transfer: bool = True) -> "LearnedReward | AveragedReward":
        """The cost at ``path`` as a reward on ``spec``'s task; a folder of cost snapshots (a run's
        cost_history/) gives their mean. ``transfer=False`` keeps a shaped cost's shaping term.
        A missing or foreign file, one learned on other observation or action sizes, or one
        without a shaping term to keep, is a one-line UserError naming both."""
        from irl_gan.errors import UserError

        path = Path(path)
        if path.is_dir():
            files = sorted(path.glob("cost-*.pt"))
            if not files:
                raise UserError(f"reward {path}: a folder with no cost snapshots (cost-*.pt); train with cost_history_every > 0, or give a cost.pt")
        elif path.is_file():
            files = [path]
        else:
            raise UserError(f"reward {path}: no such file; give a training run's cost.pt")
        rewards = []
        for f in files:
            try:
                rewards.append(cls.load(f, transfer))
            except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user error
                raise UserError(f"reward {f}: not a cost saved by irl-gan train ({type(exc).__name__})") from None
        env = spec.make_env()  # once, however many snapshots
        obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
        env.close()
        for f, reward in zip(files, rewards):
            c = reward.cost.config
            if (c.obs_dim - 1, c.act_dim) != (obs_dim, act_dim):
                raise UserError(f"reward {f}: learned on observations of {c.obs_dim - 1} and actions of {c.act_dim} dimensions; "
                                f"{spec.env_id} has {obs_dim} and {act_dim}")
            if not transfer and reward.cost.h is None:
                raise UserError(f"reward {f}: this cost has no shaping term to keep (airl learns one, gcl and gan-gcl with shaped: true); retrain without --shaped")
        return AveragedReward(rewards) if path.is_dir() else rewards[0]

    def __call__(self, obs, acts, next_obs, terminated) -> np.ndarray:
        return self.reward_of(self.inputs(obs, acts, next_obs, terminated)).double().numpy()

    @staticmethod
    def inputs(obs, acts, next_obs, terminated) -> tuple[torch.Tensor, ...]:
        """Raw transitions as the cost takes them: observations with the absorbing flag, float32."""
        obs, acts, next_obs = (np.asarray(x, dtype=np.float64) for x in (obs, acts, next_obs))
        term = np.asarray(terminated, dtype=bool)
        nxt = np.where(term[..., None], augment(next_obs, True), augment(next_obs, False))
        t = lambda x: torch.as_tensor(x, dtype=torch.float32)  # noqa: E731
        return t(augment(obs, False)), t(acts), t(nxt), t(np.zeros(term.shape))

    @torch.no_grad()
    def reward_of(self, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        obs, acts, nxt, done = inputs
        if self.transfer or self.cost.h is None:
            return -self.cost.base_cost(obs, acts)
        return -self.cost(obs, acts, nxt, done)

    def absorbing_reward(self) -> float:
        """Reward of one step in the absorbing state (action zero; shaping cancels on a self-loop
        only up to ``(1 - γ) h``, which is included). Computed once, the cost being frozen: SAC
        asks at every update."""
        if self._absorbing is None:
            self._absorbing = self._absorbing_reward()
        return self._absorbing

    @torch.no_grad()
    def _absorbing_reward(self) -> float:
        s = torch.as_tensor(augment(np.zeros((1, self.cost.config.obs_dim - 1)), True), dtype=torch.float32)
        a = torch.zeros((1, self.cost.config.act_dim))
        if self.transfer or self.cost.h is None:
            return float(-self.cost.base_cost(s, a))
        return float(-self.cost(s, a, s, torch.zeros(1)))


class AveragedReward:
    """The mean of several learned rewards: a run's cost snapshots, the discriminators it played
    against the generator along the way. Each is defined up to a constant, which the mean keeps
    as one constant; the absorbing state's reward is averaged the same way."""

    def __init__(self, rewards: list[LearnedReward]):
        self.rewards = rewards
        self.gamma = rewards[0].gamma
        self._stacked = _stack_base_costs([r.cost for r in rewards]) if all(r.transfer or r.cost.h is None for r in rewards) else None

    @torch.no_grad()
    def __call__(self, obs, acts, next_obs, terminated) -> np.ndarray:
        inputs = LearnedReward.inputs(obs, acts, next_obs, terminated)
        if self._stacked is None:
            return torch.stack([r.reward_of(inputs) for r in self.rewards]).mean(0).double().numpy()
        # Every snapshot's network in one batched pass: a SAC retrain asks for a batch at every step.
        (o_mean, o_inv, o_clip), (a_mean, a_inv, a_clip), layers, state_only = self._stacked
        obs, acts = inputs[0].reshape(-1, inputs[0].shape[-1]), inputs[1].reshape(-1, inputs[1].shape[-1])
        x = ((obs - o_mean) * o_inv).clamp(-o_clip, o_clip)
        if not state_only:
            x = torch.cat([x, ((acts - a_mean) * a_inv).clamp(-a_clip, a_clip)], dim=-1)
        for i, (weight, bias) in enumerate(layers):
            x = torch.baddbmm(bias, x, weight)
            if i < len(layers) - 1:
                x = torch.relu(x)
        return (-x.mean(0).squeeze(-1)).reshape(inputs[0].shape[:-1]).double().numpy()

    def absorbing_reward(self) -> float:
        return float(np.mean([r.absorbing_reward() for r in self.rewards]))


def _stack_base_costs(costs: list[CostNet]):
    """The snapshots' normalisers and layers stacked along a first axis, for one batched pass of
    ``base_cost``: ((mean, 1/std, clip) of observations, the same of actions, [(W, b)] per layer,
    state_only). None when the networks are not all plain ReLU MLPs of one shape."""
    def norm(which):
        n = [getattr(c, which) for c in costs]
        mean = torch.stack([m.mean for m in n]).float()[:, None]
        inv = torch.stack([torch.rsqrt(m.var + m.eps) for m in n]).float()[:, None]
        return mean, inv, n[0].clip

    linear = [[m for m in c.g if isinstance(m, torch.nn.Linear)] for c in costs]
    plain = all(isinstance(m, (torch.nn.Linear, torch.nn.ReLU)) for c in costs for m in c.g)
    shapes = {tuple(tuple(m.weight.shape) for m in layers) for layers in linear}
    if not plain or len(shapes) != 1 or len({c.config.state_only for c in costs}) != 1 or len({(c.obs_norm.clip, c.act_norm.clip) for c in costs}) != 1:
        return None
    layers = [(torch.stack([ls[i].weight.T for ls in linear]).detach(), torch.stack([ls[i].bias for ls in linear]).detach()[:, None])
              for i in range(len(linear[0]))]
    return norm("obs_norm"), norm("act_norm"), layers, costs[0].config.state_only


class LearnedRewardWrapper(gym.Wrapper):
    """Replace the env's reward with a learned one; the true reward stays in ``info['true_reward']``."""

    def __init__(self, env: gym.Env, reward: LearnedReward):
        super().__init__(env)
        self.reward_fn = reward
        self._obs = None
        g = reward.gamma
        self._absorbing_value = g / (1.0 - g) * reward.absorbing_reward()

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._obs = obs
        return obs, info

    def step(self, action):
        obs, true_reward, terminated, truncated, info = self.env.step(action)
        r = float(self.reward_fn(self._obs, action, obs, terminated))
        if terminated:
            r += self._absorbing_value
        self._obs = obs
        info = {**info, "true_reward": true_reward}
        return obs, r, terminated, truncated, info
