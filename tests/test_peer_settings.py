"""The peer's settings in the benchmark (benchmarks/peer_settings.yaml): imitation's tuned values
where it has them, the same demos as ours, a fixed horizon, normalisation on, AIRL's discount equal
to PPO's. The table is checked without imitation; with the peer installed (make peer-imitation),
against its tuned files and on the trainer objects it builds."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / ".peer" / "imitation"
sys.path.insert(0, str(ROOT / "benchmarks"))
import peer_settings  # noqa: E402

TASKS = ("inverteddoublependulum", "reacher", "swimmer", "hopper", "halfcheetah", "walker2d", "ant")
TUNED = ("swimmer", "hopper", "halfcheetah", "walker2d", "ant")
needs_peer = pytest.mark.skipif(not (PEER / "imitation").is_dir(), reason="the peer is installed by `make peer-imitation`")


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("algo", ["gail", "airl"])
def test_adversarial_peers_train_on_a_fixed_horizon_with_normalisation_and_airl_discounts_as_ppo(task, algo):
    args = peer_settings.peer_arguments(task, algo, "fixed")
    assert args["trainer"]["allow_variable_horizon"] is False
    assert peer_settings.peer_arguments(task, algo, "native")["trainer"]["allow_variable_horizon"] is True
    assert args["normalise"] == {"policy_features": "RunningNorm", "reward_input": "RunningNorm", "reward_output": "RunningNorm"}
    assert args["n_envs"] == 8 and args["ppo"]["n_steps"] * args["n_envs"] == (peer_settings.tuned(task, algo) or peer_settings.table()["adversarial_defaults"])["rollout"]
    assert args["gamma"] == args["ppo"].get("gamma", 0.99)
    if algo == "airl":
        assert args["reward_net"] == "BasicShapedRewardNet" and args["reward_net_kwargs"] == {"discount_factor": args["gamma"]}
    else:
        assert args["reward_net"] == "BasicRewardNet" and args["reward_net_kwargs"] == {}


def test_the_tuned_discriminator_updates_and_imitation_defaults_elsewhere():
    n = {(t, a): peer_settings.peer_arguments(t, a, "fixed")["trainer"]["n_disc_updates_per_round"] for t in TASKS for a in ("gail", "airl")}
    assert all(n[t, "airl"] == 16 for t in TUNED)  # every tuned AIRL file: 16
    assert [n[t, "gail"] for t in TUNED] == [16, 8, 8, 16, 8]
    assert n["inverteddoublependulum", "airl"] == n["reacher", "gail"] == 4  # train_adversarial.py defaults()
    assert peer_settings.peer_arguments("hopper", "airl", "fixed")["ppo"]["gamma"] == 0.995
    assert peer_settings.peer_arguments("reacher", "bc", "fixed")["bc"] == {"batch_size": 32, "l2_weight": 3e-5, "lr": 4e-4, "n_batches": 50_000}
    assert peer_settings.peer_arguments("walker2d", "bc", "fixed")["bc"]["n_epochs"] == 20


def test_the_demo_batch_is_capped_at_the_demos():
    assert peer_settings.peer_arguments("ant", "airl", "fixed", demo_steps=2084)["trainer"]["demo_batch_size"] == 2084  # tuned 8192
    assert peer_settings.peer_arguments("hopper", "gail", "fixed", demo_steps=4000)["trainer"]["demo_batch_size"] == 128


@pytest.mark.parametrize("task", TASKS)
def test_peers_learn_from_the_demo_episodes_our_default_learns_from(task):
    from irl_gan.tasks import load_spec
    from irl_gan.config import resolve_config

    ours = resolve_config(load_spec(task), [("x", {"demos": str(ROOT / "demos" / f"{task}.h5")})])
    for algo in ("gail", "airl", "bc"):
        assert peer_settings.peer_arguments(task, algo, "fixed")["demos"] == {"n": ours.demo_episodes, "drop_terminated": ours.drop_terminated_demos}
    if task == "hopper":
        assert ours.drop_terminated_demos  # 3 of Hopper's first 4 demos fall: the peers drop them too


def test_every_value_names_its_source():
    t = peer_settings.table()
    for algo in ("gail", "airl", "bc"):
        for task, block in t[algo].items():
            assert block["from"] == f"tuned_hps/{algo}_seals_{t['tuned_names'][task]}_best_hp_eval.json"
    for name in ("adversarial_defaults", "bc_defaults"):
        block = t[name]
        assert set(block) - {"from", "sources"} == set(block["sources"]), name
    assert all("from" in v for v in t["common"].values())
    assert all("why" in v for v in t["harness"].values() if "value" in v)
    assert all("why" in v for v in t["harness"]["protocol"].values())


def test_an_unknown_peer_or_protocol_is_refused():
    from irl_gan.errors import UserError

    with pytest.raises(ValueError, match="choose one of gail, airl, bc"):
        peer_settings.peer_arguments("hopper", "dagger", "fixed")
    with pytest.raises(UserError, match="native, fixed"):
        peer_settings.peer_arguments("hopper", "gail", "seals")


@needs_peer
@pytest.mark.parametrize("algo", ["gail", "airl", "bc"])
@pytest.mark.parametrize("task", TUNED)
def test_the_tuned_values_are_those_of_imitations_files(algo, task):
    t = peer_settings.table()
    block = t[algo][task]
    j = json.loads((PEER / "imitation" / "scripts" / "config" / block["from"]).read_text())

    def name(py_type):
        return py_type if isinstance(py_type, str) else py_type["py/type"].rsplit(".", 1)[1]

    assert name(j["policy"]["policy_cls"]) == block["policy"]
    features = j["policy"]["policy_kwargs"]["features_extractor_class"]["py/type"]
    assert features.endswith("NormalizeFeaturesExtractor")
    assert name(j["policy"]["policy_kwargs"]["features_extractor_kwargs"]["normalize_class"]) == t["common"]["policy_features_norm"]["value"]
    if algo == "bc":
        bc = j["bc"]
        assert (bc["batch_size"], bc["l2_weight"], bc["optimizer_kwargs"]["lr"], bc["train_kwargs"]["n_epochs"]) == \
            (block["batch_size"], block["l2_weight"], block["lr"], block["n_epochs"])
        assert name(bc["optimizer_cls"]) == "Adam"
        return
    kw = j["policy"]["policy_kwargs"]
    ours = block.get("policy_kwargs", {})
    assert ("activation_fn" in kw) == ("activation_fn" in ours) and ("net_arch" in kw) == ("net_arch" in ours)
    if "activation_fn" in kw:
        assert name(kw["activation_fn"]).lower() == ours["activation_fn"] and kw["net_arch"] == [ours["net_arch"]]
    a = j["algorithm_kwargs"]
    assert {k: a[k] for k in ("demo_batch_size", "gen_replay_buffer_capacity", "n_disc_updates_per_round")} == \
        {k: block[k] for k in ("demo_batch_size", "gen_replay_buffer_capacity", "n_disc_updates_per_round")}
    assert j["rl"]["batch_size"] == block["rollout"] and j["rl"]["rl_kwargs"] == block["ppo"] and name(j["rl"]["rl_cls"]) == "PPO"
    assert name(j["reward"]["net_cls"]) == ("BasicShapedRewardNet" if algo == "airl" else "BasicRewardNet")
    assert name(j["reward"]["net_kwargs"]["normalize_input_layer"]) == t["common"]["reward_input_norm"]["value"]
    assert name(j["reward"]["normalize_output_layer"]) == t["common"]["reward_output_norm"]["value"]
    assert "discount_factor" not in j["reward"]["net_kwargs"]  # the table's airl_discount note: imitation leaves it at 0.99


@pytest.fixture
def peer_module():
    sys.path.insert(0, str(PEER))
    spec = importlib.util.spec_from_file_location("peer_imitation", ROOT / "benchmarks" / "peer_imitation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(PEER))


@needs_peer
@pytest.mark.parametrize("task", ["hopper", "inverteddoublependulum"])
def test_the_peers_trainer_objects_are_built_as_the_table_says(peer_module, task, tmp_path):
    from imitation.policies.base import NormalizeFeaturesExtractor
    from imitation.rewards.reward_nets import BasicShapedRewardNet, NormalizedRewardNet
    from imitation.util.networks import RunningNorm

    from irl_gan.data import load_demos
    from irl_gan.tasks import load_spec

    trainer, learner, args = peer_module.build_adversarial(task, "airl", "fixed", 0, tmp_path / "log")
    assert isinstance(trainer._reward_net, NormalizedRewardNet) and isinstance(trainer._reward_net.normalize_output_layer, RunningNorm)
    base = trainer._reward_net.base
    assert isinstance(base, BasicShapedRewardNet) and base.discount_factor == learner.gamma == args["gamma"]
    assert isinstance(learner.policy.features_extractor, NormalizeFeaturesExtractor)
    assert isinstance(learner.policy.features_extractor.normalize, RunningNorm)
    assert trainer.allow_variable_horizon is False and trainer.n_disc_updates_per_round == args["trainer"]["n_disc_updates_per_round"]
    assert learner.n_envs == 8 and learner.n_steps == args["ppo"]["n_steps"] and trainer.gen_train_timesteps == 8 * learner.n_steps
    # the training envs run every episode to the horizon; the demos are our default's
    env, chain = trainer.venv.envs[0], []
    while hasattr(env, "env"):
        chain.append(type(env).__name__)
        env = env.env
    assert "AbsorbAfterTermination" in chain and getattr(env, "_terminate_when_unhealthy", False) is False
    demos = load_demos(ROOT / "demos" / f"{task}.h5", load_spec(task)).select(args["demos"]["n"], args["demos"]["drop_terminated"])
    assert trainer.demo_batch_size == min(args["trainer"]["demo_batch_size"], sum(e.length for e in demos))
    bc, bc_args = peer_module.build_bc(task, "fixed", 0, tmp_path / "bc-log")
    assert isinstance(bc.policy.features_extractor, NormalizeFeaturesExtractor) and bc.batch_size == bc_args["bc"]["batch_size"]
    assert len(bc._demo_data_loader.dataset) == sum(e.length for e in demos)
