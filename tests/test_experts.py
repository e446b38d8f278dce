"""Expert training end to end on tiny budgets: checkpoint, resume, card, evaluation."""

import yaml

from irl_gan.agents import load_policy
from irl_gan.data import load_demos
from irl_gan.tasks import load_spec


def test_train_writes_agent_card_and_task_scores(tmp_path, tiny_task, cli):
    out = tmp_path / "agent"
    code, stdout, err = cli("expert", "train", "tiny", "--timesteps", 256, "--eval-episodes", 2, "--out", out, "--no-progress")
    assert code == 0, err
    assert {"model.zip", "obs_norm.npz", "card.yaml"} <= {p.name for p in out.iterdir()}
    card = yaml.safe_load((out / "card.yaml").read_text())
    assert card["trained_timesteps"] >= 256
    assert card["recipe"]["algo"] == "ppo" and card["recipe"]["seed"] == 0
    assert card["deterministic"]["episodes"] == 2 and card["random"]["episodes"] == 2
    assert card["wall_seconds"] > 0
    scores = load_spec("tiny").scores
    assert scores.expert == card["deterministic"]["mean"] and scores.random == card["random"]["mean"]


def test_resume_continues_from_the_checkpoint(tmp_path, tiny_task, cli):
    out = tmp_path / "agent"
    args = ("expert", "train", "tiny", "--eval-episodes", 1, "--out", out, "--no-progress")
    assert cli(*args, "--timesteps", 256)[0] == 0
    first = yaml.safe_load((out / "card.yaml").read_text())
    assert cli(*args, "--timesteps", 512, "--resume")[0] == 0
    second = yaml.safe_load((out / "card.yaml").read_text())
    assert first["trained_timesteps"] == 256 and second["trained_timesteps"] == 512
    assert second["wall_seconds"] > first["wall_seconds"]


def test_a_trained_agent_records_and_evaluates(tmp_path, tiny_task, cli):
    out = tmp_path / "agent"
    assert cli("expert", "train", "tiny", "--timesteps", 256, "--eval-episodes", 1, "--out", out, "--no-progress")[0] == 0
    code, _, err = cli("record", "tiny", "--agent", out, "--episodes", 2, "--deterministic", "--out", tmp_path / "d.h5")
    assert code == 0, err
    demos = load_demos(tmp_path / "d.h5")
    assert demos.meta["agent"]["recipe"]["algo"] == "ppo" and demos.meta["deterministic"] is True
    assert "normalised_mean" in demos.summary()
    code, stdout, _ = cli("eval-policy", out, "--task", "tiny", "--episodes", 2)
    assert code == 0 and "normalised" in stdout
    # The same policy, loaded by the library, is what the CLI ran.
    assert load_policy(out).obs_norm is not None


def test_agent_for_another_task_is_refused(tmp_path, tiny_task, cli):
    out = tmp_path / "agent"
    assert cli("expert", "train", "tiny", "--timesteps", 256, "--eval-episodes", 1, "--out", out, "--no-progress")[0] == 0
    code, _, err = cli("record", "reacher", "--agent", out, "--episodes", 1, "--out", tmp_path / "d.h5")
    assert code == 2 and "pass the agent trained for this task" in err
    # Spaces that happen to match are not enough: the card names the env the agent knows.
    card = yaml.safe_load((out / "card.yaml").read_text())
    (out / "card.yaml").write_text(yaml.safe_dump({**card, "env_id": "InvertedDoublePendulum-v5"}))
    code, _, err = cli("eval-policy", out, "--task", "tiny", "--episodes", 1)
    assert code == 2 and "was trained on InvertedDoublePendulum-v5, not InvertedPendulum-v5" in err


def test_video_is_rendered_headless(tmp_path, cli):
    import imageio.v2 as imageio

    video = tmp_path / "v.mp4"
    code, stdout, err = cli("eval-policy", "controllers:zero", "--task", "invertedpendulum", "--episodes", 1, "--video", video)
    assert code == 0, err
    frames = [f for f in imageio.get_reader(video)]
    assert len(frames) > 2 and frames[0].shape[2] == 3
    assert frames[0].std() > 1  # a picture, not a blank frame
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]  # written under a temporary name, then renamed


def test_interrupted_video_leaves_no_file(tmp_path, cli, monkeypatch):
    import controllers

    video = tmp_path / "v.mp4"
    monkeypatch.setattr(controllers, "zero", controllers.interrupts_after_50_steps)
    code, _, err = cli("eval-policy", "controllers:zero", "--task", "invertedpendulum", "--episodes", 3, "--video", video)
    assert code == 130 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_retraining_over_an_existing_agent_needs_resume_or_force(tmp_path, tiny_task, cli):
    out = tmp_path / "agent"
    args = ("expert", "train", "tiny", "--eval-episodes", 1, "--out", out, "--no-progress", "--timesteps", 256)
    assert cli(*args)[0] == 0
    before = (out / "model.zip").read_bytes()
    code, _, err = cli(*args)
    assert code == 2 and "pass --resume to continue or --force" in err
    assert (out / "model.zip").read_bytes() == before
    assert cli(*args, "--force")[0] == 0


def test_a_terminated_expert_training_saves_where_it_is_and_resumes_from_there(tmp_path, tiny_task, cli, monkeypatch):
    """SIGTERM (or Ctrl-C) mid-training: a checkpoint at that step, one line, exit 143."""
    import json
    import os
    import signal

    from irl_gan import experts
    from irl_gan.io import latest_dir

    original = experts._Progress._on_step

    def terminate_at_300(self):
        if self.num_timesteps == 300:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self)

    monkeypatch.setattr(experts._Progress, "_on_step", terminate_at_300)
    out = tmp_path / "agent"
    code, _, err = cli("expert", "train", "tiny", "--eval-episodes", 1, "--out", out, "--no-progress", "--timesteps", 100_000)
    assert code == 143 and "terminated (SIGTERM)" in err and "continue with --resume" in err, err
    assert json.loads((latest_dir(out / experts.CHECKPOINT_DIR) / "state.json").read_text())["timesteps"] >= 300
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # the handler is gone again


def test_an_expert_directory_in_use_by_another_process_is_refused(tmp_path, tiny_task, cli):
    import subprocess
    import sys

    out = tmp_path / "agent"
    holder = subprocess.Popen([sys.executable, "-c", f"from irl_gan.io import hold_dir; import sys, time; hold_dir({str(out)!r}); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = cli("expert", "train", "tiny", "--eval-episodes", 1, "--out", out, "--no-progress", "--timesteps", 300, "--resume")
        assert code == 2 and f"is in use by another irl-gan process (pid {holder.pid})" in err, err
        assert not (out / "model.zip").exists()
    finally:
        holder.kill()
        holder.wait()
    assert cli("expert", "train", "tiny", "--eval-episodes", 1, "--out", out, "--no-progress", "--timesteps", 300, "--resume")[0] == 0
