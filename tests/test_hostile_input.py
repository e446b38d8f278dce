"""Hostile input across every command (issue 7): each case is one line on stderr naming the
problem, exit code 2, no traceback, and nothing left where the output would have gone.

With the ten kinds in test_cli_errors.py this makes more than forty. A property-based fuzz
test of the demo loader closes the file: whatever the bytes, a dataset loads whole and valid
or is refused with a UserError.
"""

import json

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from helpers import record_pendulum
from irl_gan.data import ARRAYS, load_demos
from irl_gan.errors import UserError


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return record_pendulum(tmp_path_factory.mktemp("pristine") / "pendulum.h5", episodes=2)


@pytest.fixture
def dataset(tmp_path, pristine):
    path = tmp_path / "pendulum.h5"
    path.write_bytes(pristine.read_bytes())
    return path


def _edit(path, **arrays):
    """Replace arrays (None deletes one) in an HDF5 dataset."""
    with h5py.File(path, "r+") as f:
        for name, value in arrays.items():
            if name in f:
                del f[name]
            if value is not None:
                f.create_dataset(name, data=value)
    return path


def _read(path, name):
    with h5py.File(path, "r") as f:
        return f[name][()]


def _set_attr(path, name, value):
    with h5py.File(path, "r+") as f:
        f.attrs[name] = value
    return path


def info(path):
    return ["demos", "info", path]


def train(tmp_path, *extra, demos=None, steps=64):
    return ["train", "--task", "pendulum", "--demos", demos, "--demo-episodes", 2, "--steps", steps, "--out", tmp_path / "run", "--no-progress", *extra]


def config(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return ["--config", path]


# Each case: (a function of (tmp_path, dataset) giving the arguments, the text the error must contain).
CASES = {
    # --- demonstration files
    "Inf reward": (lambda t, d: info(_edit(d, rewards=np.where(np.arange(len(_read(d, "rewards"))) == 3, np.inf, _read(d, "rewards")))), "non-finite value (NaN or Inf) in rewards"),
    "actions of strings": (lambda t, d: info(_edit(d, actions=np.array([b"x"] * len(_read(d, "actions"))))), "actions must be a 2-D array"),
    "integer observations": (lambda t, d: info(_edit(d, observations=_read(d, "observations").astype(np.int32))), "observations must be floating point, found int32"),
    "flat observations": (lambda t, d: info(_edit(d, observations=_read(d, "observations")[:, 0])), "observations must be a 2-D array"),
    "zero-length episode": (lambda t, d: info(_edit(d, episode_lengths=np.array([0, 400]))), "has length 0"),
    "negative length": (lambda t, d: info(_edit(d, episode_lengths=np.array([-5, 405]))), "has length -5"),
    "gigantic claimed length": (lambda t, d: info(_edit(d, episode_lengths=np.array([10**15, 200]))), "lengths sum to 1000000000000200 steps but there are 400 actions"),
    "lengths overflowing int64": (lambda t, d: info(_edit(d, episode_lengths=np.array([2**62, 2**62, 2**62]), episode_terminated=np.zeros(3, bool), episode_truncated=np.zeros(3, bool), episode_seeds=np.zeros(3, np.int64), episode_returns=np.zeros(3))), "steps but there are 400 actions"),
    "float episode lengths": (lambda t, d: info(_edit(d, episode_lengths=np.array([200.0, 200.0]))), "episode_lengths must be integer"),
    "missing rewards": (lambda t, d: info(_edit(d, rewards=None)), "incomplete dataset: missing rewards"),
    "metadata not JSON": (lambda t, d: info(_set_attr(d, "meta", "{not json")), "metadata is missing or not valid JSON"),
    "metadata a list": (lambda t, d: info(_set_attr(d, "meta", "[1, 2]")), "metadata must be a JSON object"),
    "metadata without spaces": (lambda t, d: info(_set_attr(d, "meta", json.dumps({"task": "pendulum", "env_id": "Pendulum-v1"}))), "metadata lacks 'observation_space'"),
    "action bounds of the wrong shape": (lambda t, d: info(_meta_edit(d, lambda m: m["action_space"].update(low=[-2, -2]))), "action_space 'low' must be numbers of shape (1,)"),
    "garbage scores": (lambda t, d: info(_meta_edit(d, lambda m: m.update(scores={"random": "low"}))), "metadata 'scores' must be null"),
    "future format version": (lambda t, d: info(_set_attr(d, "format_version", 99)), "format version 99 is not supported"),
    "format version not a number": (lambda t, d: info(_set_attr(d, "format_version", "one")), "format version one is not supported"),
    "someone else's HDF5": (lambda t, d: info(_foreign_h5(t / "other.h5")), "not an irl_gan-demos dataset"),
    "per-episode arrays disagree": (lambda t, d: info(_edit(d, episode_seeds=np.array([0]))), "episode_seeds has 1 entries for 2 episodes"),
    "too few observations": (lambda t, d: info(_edit(d, observations=_read(d, "observations")[:-3])), "need 402 observations, found 399"),
    "returns do not match rewards": (lambda t, d: info(_edit(d, episode_returns=_read(d, "episode_returns") + 5)), "stored episode returns do not match"),
    "a directory for a file": (lambda t, d: info(_mkdir(t / "dir.h5")), "is a directory, not a dataset file"),
    # --- training configurations and flags
    "config: unknown key": (lambda t, d: train(t, *config(t, "steps: 64\nbogus: 1\n"), demos=d), "unknown settings ['bogus']"),
    "config: wrong type": (lambda t, d: train(t, *config(t, "cost_lr: fast\n"), demos=d), "'cost_lr' must be a non-negative number, got 'fast'"),
    "config: negative budget": (lambda t, d: train(t, *config(t, "disc_batch: -256\n"), demos=d), "'disc_batch' must be a positive integer, got -256"),
    "config: not a mapping": (lambda t, d: train(t, *config(t, "- steps\n- 64\n"), demos=d), "settings must be a mapping"),
    "config: bad YAML": (lambda t, d: train(t, *config(t, "steps: [64\n"), demos=d), "not valid YAML"),
    "config: missing file": (lambda t, d: train(t, "--config", t / "none.yaml", demos=d), "no such file"),
    "config: cost layers not widths": (lambda t, d: train(t, *config(t, "cost_hidden: big\n"), demos=d), "'cost_hidden' must be a list of positive layer widths ([] for a linear cost)"),
    "config: unknown PPO argument": (lambda t, d: train(t, *config(t, "ppo: {n_stepz: 64}\n"), demos=d), "'ppo' settings ['n_stepz'] are not arguments of SB3's PPO"),
    "config: PPO argument SB3 rejects": (lambda t, d: train(t, *config(t, "ppo: {batch_size: 1}\n"), demos=d), "SB3 rejected the ppo settings"),
    "config: state_only not a boolean": (lambda t, d: train(t, *config(t, "state_only: maybe\n"), demos=d), "'state_only' must be true or false"),
    "flag: negative budget": (lambda t, d: train(t, demos=d, steps=-5), "'steps' must be a positive integer, got -5"),
    "flag: zero demo episodes": (lambda t, d: train(t, "--demo-episodes", 0, demos=d), "'demo_episodes' must be a positive integer, got 0"),
    "flag: more demo episodes than the file": (lambda t, d: train(t, "--demo-episodes", 9, demos=d), "only 2 of the 2 episodes"),
    "flag: more demo episodes than ran to the time limit": (lambda t, d: train(t, "--demo-episodes", 3, *config(t, "drop_terminated_demos: true\n"), demos=d),
                                                           "only 2 of the 2 episodes"),
    "flag: segment zero": (lambda t, d: train(t, "--segment", 0, demos=d), "--segment '0': use a positive integer or 'full'"),
    "flag: segment beyond the horizon": (lambda t, d: train(t, "--segment", 500, demos=d), "longer than pendulum's horizon (200 steps)"),
    "flag: demos of another task": (lambda t, d: ["train", "--task", "hopper", "--demos", d, "--out", t / "run"], "recorded on Pendulum-v1 but task 'hopper' is Hopper-v5"),
    "flag: unknown task": (lambda t, d: ["train", "--task", "cheetah", "--demos", d, "--out", t / "run"], "unknown task 'cheetah'"),
    "flag: resume with nothing to resume": (lambda t, d: train(t, "--resume", demos=d), "holds no run to resume"),
    "flag: --resume with --force": (lambda t, d: ["expert", "train", "pendulum", "--out", t / "run", "--resume", "--force"], "--resume and --force contradict each other"),
    # --- agents, recording, import, verify
    "agent of another task": (lambda t, d: ["eval-policy", ROOT / "agents" / "pendulum", "--task", "invertedpendulum", "--episodes", 1], "was trained on Pendulum-v1, not InvertedPendulum-v5"),
    "agent module missing": (lambda t, d: ["record", "pendulum", "--agent", "no_such_module:act", "--episodes", 1, "--out", t / "run.h5"], "cannot import module 'no_such_module'"),
    "agent function missing": (lambda t, d: ["record", "pendulum", "--agent", "controllers:no_such_function", "--episodes", 1, "--out", t / "run.h5"], "has no callable 'no_such_function'"),
    "record over an existing file": (lambda t, d: ["record", "pendulum", "--agent", "controllers:zero", "--episodes", 1, "--out", d], "already exists; pass --force"),
    "record to a non-HDF5 name": (lambda t, d: ["record", "pendulum", "--agent", "controllers:zero", "--episodes", 1, "--out", t / "run.csv"], "must end in .h5 or .hdf5"),
    "import an npz without episodes": (lambda t, d: ["demos", "import", _npz(t / "x.npz", obs=np.zeros((3, 3))), "--task", "pendulum", "--out", t / "run.h5"], "neither 'episode_starts' (SB3) nor 'indices'"),
    "import a truncated npz": (lambda t, d: ["demos", "import", _truncated_npz(t / "x.npz"), "--task", "pendulum", "--out", t / "run.h5"], "not a readable .npz file"),
    "verify a bad segment length": (lambda t, d: ["verify", "--segment", "ten"], "--segment 'ten'"),
}


def _meta_edit(path, change):
    with h5py.File(path, "r+") as f:
        meta = json.loads(f.attrs["meta"])
        change(meta)
        f.attrs["meta"] = json.dumps(meta)
    return path


def _foreign_h5(path):
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.zeros(3))
    return path


def _mkdir(path):
    path.mkdir()
    return path


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _truncated_npz(path):
    np.savez(path, obs=np.zeros((100, 3)), actions=np.zeros((100, 1)), rewards=np.zeros(100), episode_starts=np.zeros(100, bool))
    path.write_bytes(path.read_bytes()[:300])
    return path


def test_the_battery_is_large():
    assert len(CASES) >= 30


@pytest.mark.parametrize("kind", sorted(CASES))
def test_hostile_input_gives_one_line_and_exit_2(kind, tmp_path, dataset, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_args, expected = CASES[kind]
    args = make_args(tmp_path, dataset)
    code, out, err = cli(*args)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("irl-gan: error: "), err
    assert expected in err
    assert "Traceback" not in out + err
    # Nothing left where the output would have gone, and no temporary files either.
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.h5").exists()
    assert not list(tmp_path.glob(".*.tmp"))


# ---------------------------------------------------------------------------- fuzzing the loader

_MUTATIONS = st.sampled_from(["value", "shape", "dtype", "delete", "meta", "attr", "truncate"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutation=_MUTATIONS,
    name=st.sampled_from(ARRAYS),
    index=st.integers(0, 10**6),
    value=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**63), 2**63 - 1)),
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=3),
    dtype=st.sampled_from(["int8", "uint64", "float16", "float32", "bool", "S3", "complex64"]),
    meta_key=st.sampled_from(["task", "env_id", "observation_space", "action_space", "scores", "horizon"]),
    meta_value=st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(-3, 3), max_size=3), st.dictionaries(st.sampled_from(["shape", "low", "high", "random", "expert"]), st.one_of(st.integers(-2, 5), st.lists(st.integers(0, 3), max_size=2)), max_size=3)),
    cut=st.floats(0.0, 1.0),
)
def test_fuzzed_datasets_load_valid_or_raise_user_error(tmp_path_factory, pristine, mutation, name, index, value, shape, dtype, meta_key, meta_value, cut):
    path = tmp_path_factory.mktemp("fuzz") / "d.h5"
    path.write_bytes(pristine.read_bytes())
    if mutation == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * cut)])
    elif mutation == "meta":
        try:
            _meta_edit(path, lambda m: m.__setitem__(meta_key, meta_value))
        except OverflowError:
            return
    elif mutation == "attr":
        _set_attr(path, "format_version" if cut < 0.5 else "meta", value if cut < 0.25 or cut >= 0.5 else str(value))
    else:
        arr = _read(path, name)
        if mutation == "value" and arr.size:
            arr = arr.astype(np.float64) if not np.issubdtype(arr.dtype, np.floating) else arr.copy()
            arr.flat[index % arr.size] = float(value)
        elif mutation == "shape":
            arr = np.zeros(shape)
        elif mutation == "dtype":
            arr = arr.astype(dtype) if dtype != "S3" else np.array([b"abc"] * max(len(arr), 1))
        _edit(path, **{name: None if mutation == "delete" else arr})
    try:
        demos = load_demos(path)
    except UserError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    # It loaded: then it is whole and valid by every invariant the loader promises.
    for e in demos.episodes:
        assert len(e.observations) == len(e.actions) + 1 == len(e.rewards) + 1 >= 2
        assert np.isfinite(e.observations).all() and np.isfinite(e.actions).all() and np.isfinite(e.rewards).all()
        assert (np.abs(e.actions) <= 2.0 + 1e-5).all()
    assert demos.summary()["episodes"] == len(demos.episodes) > 0


# ---------------------------------------------------------------------------- another run's checkpoint

@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, pristine):
    from irl_gan.cli import main

    out = tmp_path_factory.mktemp("runs") / "pendulum-run"
    cfg = out.parent / "tiny.yaml"
    cfg.write_text("n_envs: 2\nppo: {n_steps: 64, batch_size: 64, n_epochs: 1}\ncheckpoint_every: 128\nbc_steps: 200\nrank_episodes: 2\n")
    assert main([str(a) for a in ["train", "--task", "pendulum", "--demos", pristine, "--demo-episodes", 2, "--steps", 256, "--out", out, "--config", cfg, "--no-progress"]]) == 0
    return out


@pytest.mark.parametrize("flags, message", [
    (["--task", "invertedpendulum", "--demos", ROOT / "demos" / "invertedpendulum.h5"], "is from a run with task 'pendulum', not 'invertedpendulum'"),
    (["--task", "pendulum", "--algo", "airl"], "is from a run with algo 'gan-gcl', not 'airl'"),
    (["--task", "pendulum", "--segment", "5"], "is from a run with segment 1, not 5"),
])
def test_a_checkpoint_of_another_task_or_algorithm_is_refused_untouched(finished_run, cli, flags, message):
    before = {p: p.read_bytes() for p in finished_run.rglob("*") if p.is_file()}
    code, _, err = cli("train", *flags, "--steps", 512, "--out", finished_run, "--resume", "--no-progress")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert message in err
    assert {p: p.read_bytes() for p in finished_run.rglob("*") if p.is_file()} == before
