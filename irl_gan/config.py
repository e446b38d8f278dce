"""A run's settings: ``TrainConfig``, and ``resolve_config``, which builds one from layers of settings.

The fields come in four sections: **core** (the algorithm of docs/concepts.md: what is learned, from what,
and how the cost is fitted), **generator** (the policy optimiser), **run** (what the run directory
keeps) and **recipe** (additions to the paper's algorithm). The defaults are the default recipe of
docs/training.md: the same imitation settings on every task; a task's spec may set only what RL on
its true reward needs as well (``TASK_SETTINGS``). The rules between fields are one function per
section, named after it (the run's settings have none). What the settings did in experiments is in
``experiments/``, not here.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from irl_gan.data import Demonstrations, Episode
from irl_gan.errors import UserError
from irl_gan.protocols import check_protocol
from irl_gan.sb3 import sb3_arguments
from irl_gan.tasks import TaskSpec


@dataclasses.dataclass
class TrainConfig:
    """Everything a run needs; saved as ``config.yaml`` so the run can be reproduced."""

    # ---------------------------------------------------------------- core
    task: str
    """Task name (``irl_gan/envs/TASK.yaml``)."""
    demos: str | None
    """Demonstration dataset (.h5); none for algo rl, which learns no cost."""
    algo: str = "gan-gcl"
    """Estimator: gcl, gan-gcl, airl, gail; or rl (the generator on the true reward), bc
    (behavioural cloning, no env steps) or drex (a ranked state-only cost, no generator)."""
    segment: int | str = 1
    """Segment length K: an integer, or 'full' for whole trajectories."""
    demo_episodes: int = 4
    """How many demo episodes to learn from (the first N of the file, or of those drop_terminated_demos keeps)."""
    steps: int = 200_000
    """Env steps of the generator."""
    seed: int = 0
    """Seed of torch, numpy, the envs and the generator."""
    protocol: str = "native"
    """How training episodes end (``irl_gan.protocols``): native, as the task ends them, or fixed,
    every one at the horizon; evaluation is always on the standard task."""
    temperature: float = 1.0
    """MaxEnt temperature α: the logit is ``-c - log Z - α log q``, the reward ``-c - α log π``
    (SAC: its entropy weight, unless ``sac: ent_coef`` names one); 1 is the paper's."""
    entropy_reward: bool = True
    """Include ``-α log π`` in PPO's reward (MaxEnt RL), live or frozen (a retrain), as the estimators table of docs/concepts.md says."""
    state_only: bool = False
    """State-only cost ``c(s)`` (for a transferable reward)."""
    shaped: bool = False
    """gcl and gan-gcl learn the shaped cost ``g + h(s) - γ h(s')`` that airl always learns."""
    cost_hidden: tuple = (64, 64)
    """Hidden layer widths of the cost network; [] makes the cost linear in its normalised inputs."""
    cost_lr: float = 3e-4
    """Learning rate of the cost network."""
    log_z_lr: float = 1e-2
    """Learning rate of gan-gcl's scalar log Z."""
    disc_updates: int = 4
    """Cost (discriminator) gradient steps per round."""
    disc_batch: int = 256
    """Segments per side (demo, generated) in one cost update."""
    lcr: float = 0.0
    """Weight of guided cost learning's local-constant-rate regulariser: second differences of the
    cost along demo segments (0: off)."""
    mono: float = 0.0
    """Weight of guided cost learning's monotonic regulariser: the cost should fall along demo
    segments (0: off)."""
    grad_clip: float | None = 10.0
    """Clip the cost's gradient norm (None: off)."""
    reward: str | None = None
    """With algo rl: a learned cost (a run's cost.pt, or its cost_history/), frozen, to train on
    instead of the true reward (``irl-gan retrain``)."""
    reward_shaped: bool = False
    """With ``reward``: keep the shaping term of a shaped cost, ``g + γ h(s') - h(s)``, not ``g`` alone."""
    bc_steps: int = 20_000
    """bc: gradient steps on the demos' log-likelihood."""
    bc_batch: int = 256
    """Demo steps per behavioural-cloning gradient step (bc, bc_init, drex's clone)."""
    bc_lr: float = 1e-3
    """Learning rate of behavioural cloning (bc, bc_init, drex's clone)."""

    # ---------------------------------------------------------------- generator
    generator: str = "ppo"
    """Policy optimiser: ppo (on-policy, the paper's setting) or sac (off-policy, replayed samples)."""
    n_envs: int = 4
    """Parallel envs of the generator."""
    ppo: dict = dataclasses.field(default_factory=lambda: {"n_steps": 512, "batch_size": 256, "n_epochs": 10, "learning_rate": 3e-4, "gamma": 0.99, "gae_lambda": 0.95, "ent_coef": 0.0})
    """SB3 PPO settings (n_steps is per env)."""
    sac: dict = dataclasses.field(default_factory=lambda: {"learning_rate": 3e-4, "buffer_size": 1_000_000, "batch_size": 256, "learning_starts": 5000, "gamma": 0.99, "ent_coef": 1.0})
    """SB3 SAC settings; ent_coef follows the temperature for a learned cost, and is tuned for the oracle."""
    policy_kwargs: dict = dataclasses.field(default_factory=lambda: {"net_arch": [64, 64]})
    """SB3 policy_kwargs of either generator; a ``policy_kwargs`` inside ``ppo`` or ``sac`` adds to them."""
    cost_every: int = 250
    """SAC only: env steps between cost rounds, so the steps a round learns from were acted by a
    policy at most this many updates older than the one whose log π it takes (PPO: once per rollout)."""

    # ---------------------------------------------------------------- run
    checkpoint_every: int = 50_000
    """Env steps between resumable checkpoints."""
    cost_history_every: int = 100_000
    """Env steps between snapshots of the cost in the run's cost_history/, for ``--cost average`` (0: none)."""
    eval_every: int = 100_000
    """Env steps between deterministic evaluations of the policy on the true reward (0: off)."""
    eval_episodes: int = 5
    """Episodes per evaluation (seeds 1000000 on, the same at every evaluation)."""

    # ---------------------------------------------------------------- recipe
    drop_terminated_demos: bool = True
    """Learn only from demo episodes that ran to the time limit."""
    demo_log_pi_floor: float | None = 2.0
    """Nats per step: in the cost's batch a demo step's ``α log π`` counts as at least the generated
    steps' mean minus this (null: off, the paper's discriminator)."""
    grad_penalty: float = 0.0
    """Weight of the cost's gradient penalty between demo and generated steps (WGAN-GP's form; 0: off)."""
    cost_until: int = 0
    """Env steps after which the cost stops learning and the generator plays on against it (0: never)."""
    disc_replay: float = 0.0
    """SAC with K = 1: the share of the cost's generated steps drawn from the whole replay buffer
    (the rest are the steps since its last update; true means 1)."""
    bc_init: int = 0
    """Gradient steps of behavioural cloning of the generator before the first env step (0: off)."""
    rank_weight: float = 1.0
    """Weight of D-REX's ranking loss (drex's levels, built before the first env step) in every
    cost update (0: off)."""
    rank_noise: tuple = (0.05, 1.0)
    """drex and rank_weight: Gaussian action noise per ranking level, as shares of the action range."""
    rank_episodes: int = 5
    """drex and rank_weight: episodes rolled out per noise level; the last of each is held out."""
    rank_idle: bool = True
    """drex and rank_weight: rank the idle policy (the middle of the action range) with the noisiest level."""
    rank_snippet: int = 50
    """drex and rank_weight: steps per ranked window."""
    rank_steps: int = 3000
    """drex only: gradient steps of the ranking loss (lr: cost_lr)."""
    rank_batch: int = 64
    """drex and rank_weight: window pairs per gradient step."""

    @property
    def k(self) -> int | None:
        return None if self.segment == "full" else int(self.segment)

    @property
    def gamma(self) -> float:
        """The generator's discount."""
        return (self.ppo if self.generator == "ppo" else self.sac).get("gamma", 0.99)

    def generator_arguments(self, generator: str | None = None) -> tuple[dict, dict]:
        """SB3 settings of ``generator`` (default: the run's) and its policy_kwargs: the shared ones,
        then the generator's own, in SB3's form."""
        from irl_gan.experts import sb3_policy_kwargs

        settings = dict(self.ppo if (generator or self.generator) == "ppo" else self.sac)
        return settings, sb3_policy_kwargs({**self.policy_kwargs, **settings.pop("policy_kwargs", {})})

    def select_demos(self, demos: Demonstrations) -> list[Episode]:
        """The demo episodes the run learns from: the first ``demo_episodes`` (of those that ran to
        the time limit, with ``drop_terminated_demos``); too few is a one-line UserError."""
        return demos.select(self.demo_episodes, self.drop_terminated_demos)


ALGOS = ("gcl", "gan-gcl", "airl", "gail", "rl", "bc", "drex")
NO_GENERATOR = ("rl", "bc", "drex")  # no imitation game: the true reward, or no env steps of a generator
_NO_COST = ("gail", "rl", "bc")  # gail's network is a free-form discriminator, not a cost
# Settings that were removed. A saved run or a config file may still name one at the value that
# meant "off"; any other value would ask for behaviour this version no longer has.
REMOVED = {"reward_log_pi": "action", "reward_norm": False, "reward_tau": 1.0, "demo_resets": 0.0}

_POSITIVE = ("steps", "demo_episodes", "n_envs", "disc_updates", "disc_batch", "checkpoint_every", "cost_every", "eval_episodes", "bc_steps", "bc_batch",
             "rank_episodes", "rank_snippet", "rank_steps", "rank_batch")
_BOOLEAN = ("state_only", "shaped", "entropy_reward", "drop_terminated_demos", "rank_idle")
_NON_NEGATIVE = ("cost_lr", "log_z_lr", "lcr", "mono", "grad_penalty", "bc_lr", "temperature", "rank_weight")
_SHARE = ("disc_replay",)


def _check_setting(key: str, value) -> None:
    """One setting's type and range; the message names the setting and what it must be."""
    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)

    if key in _POSITIVE:
        ok, want = isinstance(value, int) and not isinstance(value, bool) and value > 0, "a positive integer"
    elif key in _NON_NEGATIVE:
        ok, want = number(value) and value >= 0, "a non-negative number"
    elif key in _SHARE:
        ok, want = isinstance(value, bool) or (number(value) and 0 <= value <= 1), "a number in [0, 1] (or true, meaning 1)"
    elif key in ("grad_clip", "demo_log_pi_floor"):
        ok, want = value is None or (number(value) and value > 0), "a positive number or null"
    elif key in _BOOLEAN:
        ok, want = isinstance(value, bool), "true or false"
    elif key in ("ppo", "sac", "policy_kwargs"):
        ok, want = isinstance(value, dict), "a mapping"
    elif key == "cost_hidden":
        ok = isinstance(value, (list, tuple)) and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value)
        want = "a list of positive layer widths ([] for a linear cost)"
    elif key == "rank_noise":
        ok = isinstance(value, (list, tuple)) and len(value) >= 1 and all(number(v) and v > 0 for v in value) and list(value) == sorted(set(value))
        want = "a list of increasing positive noise shares, such as [0.1, 0.5, 1.0]"
    elif key in ("task", "algo", "generator"):
        ok, want = isinstance(value, str), "a string"
    elif key in ("reward", "demos"):
        ok, want = value is None or isinstance(value, str), "a path, or null"
    elif key in ("seed", "eval_every", "bc_init", "cost_history_every", "cost_until"):
        ok, want = isinstance(value, int) and not isinstance(value, bool) and value >= 0, "a non-negative integer"
    else:
        return
    if not ok:
        raise UserError(f"'{key}' must be {want}, got {value!r}")


# What a task's spec may set in its ``train:`` block: what RL on the task's true reward needs as
# well (the generator, the budget). The imitation settings are the recipe's, the same on every task.
TASK_SETTINGS = ("generator", "n_envs", "ppo", "sac", "policy_kwargs", "steps", "eval_every")
# The recipe's additions an algo takes no part in are off for it, unless a layer names them
# (those that cannot apply are then refused by the rules); drex keeps its own noise levels.
_RECIPE_OFF = {"rank_weight": 0.0, "demo_log_pi_floor": None}
_NOT_IN_RECIPE = {"gail": _RECIPE_OFF, "rl": _RECIPE_OFF, "bc": _RECIPE_OFF,
                  "drex": {**_RECIPE_OFF, "rank_noise": (0.1, 0.25, 0.5, 0.75, 1.0)}}


def _task_layer(spec: TaskSpec) -> tuple[str, dict]:
    """The task's ``train:`` block; an imitation setting in it is a one-line UserError."""
    train = dict(spec.train)
    imitation = sorted(set(train) - set(TASK_SETTINGS))
    if imitation:
        raise UserError(f"{spec.path}: 'train:' may set only {', '.join(TASK_SETTINGS)} (what RL on the task's reward needs); "
                        f"move {imitation} to a --config file")
    return str(spec.path), train


def _without_removed(source: str, layer: dict) -> dict:
    """``layer`` without the removed settings it names at their old "off" value; any other value
    of one is a one-line UserError naming it."""
    for key in sorted(set(layer) & set(REMOVED)):
        if layer[key] != REMOVED[key]:
            raise UserError(f"{source}: '{key}' has been removed from irl_gan; delete it from the settings (it was {layer[key]!r})")
    return {k: v for k, v in layer.items() if k not in REMOVED}


def resolve_config(spec: TaskSpec, layers: list[tuple[str, dict]]) -> TrainConfig:
    """TrainConfig from its defaults (the recipe's additions an algo takes no part in turned off),
    then the task's ``train:`` block, then each named layer (a config file, the command line) in
    order; every problem is a one-line UserError."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    algo = next((layer["algo"] for _, layer in reversed(layers) if isinstance(layer, dict) and "algo" in layer), fields["algo"].default)
    # Every field with a default starts at it (the rules below read them); mappings (ppo, sac,
    # policy_kwargs) then merge key by key. Fields without one (demos) stay unset.
    merged: dict = {"task": spec.ref}
    for f in fields.values():
        if f.default_factory is not dataclasses.MISSING:
            merged[f.name] = f.default_factory()
        elif f.default is not dataclasses.MISSING:
            merged[f.name] = f.default
    merged.update(_NOT_IN_RECIPE.get(algo, {}) if isinstance(algo, str) else {})
    sac_entropy_given = False
    for source, layer in [_task_layer(spec), *layers]:
        if not isinstance(layer, dict):
            raise UserError(f"{source}: settings must be a mapping of TrainConfig fields")
        layer = _without_removed(source, layer)
        unknown = sorted(set(layer) - set(fields))
        if unknown:
            raise UserError(f"{source}: unknown settings {unknown}; known: {sorted(fields)}")
        sac_entropy_given = sac_entropy_given or (isinstance(layer.get("sac"), dict) and "ent_coef" in layer["sac"])
        for key, value in layer.items():
            if isinstance(merged.get(key), dict) and isinstance(value, dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    if merged.get("algo") == "rl" and merged.get("reward") is None and not sac_entropy_given and isinstance(merged["sac"], dict):
        # The oracle's reward is the env's, in the env's units, not nats: SAC tunes its entropy weight.
        merged["sac"] = {**merged["sac"], "ent_coef": "auto"}
    elif not sac_entropy_given and isinstance(merged["sac"], dict):
        # A learned cost, live or frozen: SAC's entropy term plays the part of -α log π.
        merged["sac"] = {**merged["sac"], "ent_coef": merged.get("temperature", 1.0)}
    if merged.get("demos") is None:
        if merged.get("algo", "gan-gcl") != "rl":
            raise UserError("no demonstrations given; pass --demos PATH")
        merged["demos"] = None
    for key, value in merged.items():
        _check_setting(key, value)
    _generator_rules(merged)
    _core_rules(merged, spec)
    _tricks_rules(merged)
    return TrainConfig(**merged)


def _core_rules(merged: dict, spec: TaskSpec) -> None:
    """The algo, the segment length against the task's horizon, the frozen reward, the cost's form."""
    algo = merged.get("algo", "gan-gcl")
    if algo not in ALGOS:
        raise UserError(f"--algo {merged['algo']!r}: choose one of {', '.join(ALGOS)}")
    check_protocol(merged.get("protocol", "native"))
    seg = merged.get("segment", 1)
    if not (seg == "full" or (isinstance(seg, int) and not isinstance(seg, bool) and seg >= 1) or (isinstance(seg, str) and seg.isdigit() and int(seg) >= 1)):
        raise UserError(f"--segment {seg!r}: use a positive integer or 'full'")
    merged["segment"] = seg if seg == "full" else int(seg)
    if merged["segment"] != "full" and merged["segment"] > spec.horizon:
        raise UserError(f"--segment {merged['segment']} is longer than {spec.task}'s horizon ({spec.horizon} steps); use --segment full")
    if merged.get("reward") is not None and algo != "rl":
        raise UserError("'reward' (a frozen learned cost) trains a fresh agent: use it with --algo rl, as irl-gan retrain does")
    if merged.get("reward_shaped") and merged.get("reward") is None:
        raise UserError("'reward_shaped' keeps the shaping term of a frozen learned reward: set 'reward' too (irl-gan retrain --shaped does)")
    if merged.get("shaped") and algo in _NO_COST:
        raise UserError(f"'shaped' adds a potential to a learned cost; --algo {algo} learns none (gail's network is a free-form discriminator): set shaped to false")
    if algo == "drex" and merged.get("shaped"):
        raise UserError("--algo drex learns a cost c(s) with no shaping potential: set shaped to false")
    if "cost_hidden" in merged:
        merged["cost_hidden"] = tuple(merged["cost_hidden"])
    if algo == "drex":
        merged["state_only"] = True  # D-REX ranks states: its cost is c(s), whatever the task's default


def _generator_rules(merged: dict) -> None:
    """The policy optimiser's name, and SB3 settings that are its arguments."""
    if merged.get("generator", "ppo") not in ("ppo", "sac"):
        raise UserError(f"--generator {merged['generator']!r}: choose ppo or sac")
    for section in ("ppo", "sac"):
        unknown = sorted(set(merged.get(section, {})) - sb3_arguments(section))
        if unknown:
            raise UserError(f"'{section}' settings {unknown} are not arguments of SB3's {section.upper()}")


def _tricks_rules(merged: dict) -> None:
    """Each trick with the algos and generators it belongs to; drex's ranking needs held-out episodes."""
    algo = merged.get("algo", "gan-gcl")
    if merged.get("disc_replay") and (merged.get("generator", "ppo") != "sac" or merged["segment"] != 1):
        raise UserError("'disc_replay' draws the cost's generated steps from SAC's replay buffer of transitions: use it with --generator sac and --segment 1")
    if merged.get("cost_until") and algo in NO_GENERATOR:
        raise UserError(f"'cost_until' stops the cost learning while the generator goes on; --algo {algo} trains no generator against a cost: set cost_until to 0")
    if merged.get("demo_log_pi_floor") is not None and algo in (*_NO_COST, "drex"):
        raise UserError(f"'demo_log_pi_floor' bounds log q in a discriminator built on the generator's density; --algo {algo} has none: set it to null")
    if merged.get("bc_init") and algo in NO_GENERATOR:
        raise UserError(f"'bc_init' clones the demos into an imitation algo's generator; --algo {algo} takes none: set bc_init to 0")
    for key in _SHARE:
        if key in merged:
            merged[key] = float(merged[key])
    if merged.get("rank_weight") and algo in NO_GENERATOR:
        raise UserError(f"'rank_weight' adds the drex ranking to a generator's cost updates; --algo {algo} has none "
                        "(--algo drex fits the ranking alone): set rank_weight to 0")
    if (algo == "drex" or merged.get("rank_weight")) and (merged.get("rank_episodes", 5) < 2 or merged.get("demo_episodes", 4) < 2):
        raise UserError(f"{'--algo drex' if algo == 'drex' else 'rank_weight'} holds out one episode of the demos and of each noise level to check the ranking: use at least 2 of each (demo_episodes, rank_episodes)")
    if "rank_noise" in merged:
        merged["rank_noise"] = tuple(float(v) for v in merged["rank_noise"])
