"""The settings of a peer cell (imitation 1.0.1's GAIL, AIRL or BC on one task and protocol), from
the table in benchmarks/peer_settings.yaml. Importable without imitation: benchmarks/peer_imitation.py
builds the trainer from what :func:`peer_arguments` returns, and tests/test_peer_settings.py pins it.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TABLE = Path(__file__).resolve().parent / "peer_settings.yaml"
ALGOS = ("gail", "airl", "bc")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@functools.cache
def table() -> dict:
    return yaml.safe_load(TABLE.read_text())


def our_demo_selection(task: str) -> dict:
    """The demo episodes irl-gan train's default recipe learns from on ``task`` (no algo, no config):
    the arguments of ``Demonstrations.select``."""
    from irl_gan.tasks import load_spec
    from irl_gan.config import resolve_config

    config = resolve_config(load_spec(task), [("bench", {"demos": str(ROOT / "demos" / f"{task}.h5")})])
    return {"n": config.demo_episodes, "drop_terminated": config.drop_terminated_demos}


def tuned(task: str, algo: str) -> dict | None:
    """The task's block of imitation's tuned settings for ``algo``, or None where imitation has none."""
    return table()[algo].get(task)


def peer_arguments(task: str, algo: str, protocol: str, demo_steps: int | None = None) -> dict:
    """Everything a peer cell is built from. ``demo_steps``: transitions in the selected demos (the
    demo batch is capped at it, as imitation's data loader requires).

    Keys: ``algo``, ``task``, ``protocol``, ``from`` (the tuned file, or imitation's defaults),
    ``demos`` (``n`` and ``drop_terminated`` for ``Demonstrations.select``), ``normalise``
    (policy features, reward input, reward output: the normaliser class's name or None), ``policy``
    and ``policy_kwargs`` (YAML form: an activation by name); for gail and airl also ``n_envs``,
    ``ppo`` (SB3 PPO's arguments, ``n_steps`` included), ``reward_net``, ``reward_net_kwargs`` and
    ``trainer`` (the adversarial trainer's arguments); for bc ``bc`` (batch_size, l2_weight, lr,
    and n_epochs or n_batches).
    """
    from irl_gan.protocols import check_protocol

    if algo not in ALGOS:
        raise ValueError(f"peer algo {algo!r}: choose one of {', '.join(ALGOS)}")
    t = table()
    block = tuned(task, algo) or t["bc_defaults" if algo == "bc" else "adversarial_defaults"]
    common = t["common"]
    out = {
        "algo": algo,
        "task": task,
        "protocol": check_protocol(protocol),
        "from": block["from"],
        "demos": our_demo_selection(task),
        "normalise": {"policy_features": common["policy_features_norm"]["value"], "reward_input": common["reward_input_norm"]["value"],
                      "reward_output": common["reward_output_norm"]["value"]},
        "policy": block["policy"],
        "policy_kwargs": dict(block.get("policy_kwargs") or {}),
    }
    if algo == "bc":
        out["bc"] = {k: block[k] for k in ("batch_size", "l2_weight", "lr", "n_epochs", "n_batches") if k in block}
        return out
    n_envs = common["n_envs"]["value"]
    rollout = block["rollout"]
    if rollout % n_envs:
        raise ValueError(f"{task} {algo}: a rollout of {rollout} steps does not split over {n_envs} envs")
    ppo = {**block["ppo"], "n_steps": rollout // n_envs}
    gamma = ppo.get("gamma", 0.99)  # SB3 PPO's default where imitation sets none
    demo_batch = block["demo_batch_size"] if demo_steps is None else min(block["demo_batch_size"], demo_steps)
    out.update({
        "n_envs": n_envs,
        "ppo": ppo,
        "gamma": gamma,
        "reward_net": "BasicShapedRewardNet" if algo == "airl" else "BasicRewardNet",
        "reward_net_kwargs": {"discount_factor": gamma} if algo == "airl" else {},
        "trainer": {"demo_batch_size": demo_batch, "gen_replay_buffer_capacity": block["gen_replay_buffer_capacity"],
                    "n_disc_updates_per_round": block["n_disc_updates_per_round"],
                    "allow_variable_horizon": t["harness"]["protocol"][protocol]["allow_variable_horizon"]},
    })
    return out


def sources(task: str, algo: str) -> dict[str, str]:
    """Where each of ``peer_arguments``' tuned or default values comes from (for the record)."""
    t = table()
    block = tuned(task, algo)
    if block is not None:
        return {"all": block["from"]}
    return dict(t["bc_defaults" if algo == "bc" else "adversarial_defaults"]["sources"])
