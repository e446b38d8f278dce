"""Progress where no terminal shows a bar: plain lines on stdout."""

from irl_gan.progress import Progress


def test_without_a_terminal_each_evaluation_and_each_interval_prints_a_line(capsys):
    progress = Progress(total=10_000, initial=0, every=3600)
    progress.update(2048)
    progress.round(2048, {"true_return": 12.5, "env_steps_per_s": 900.0})  # not due: within the interval
    progress.round(4096, {"true_return": 20.0, "eval_return": 31.0, "eval_normalised": 0.25})
    progress.close()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["env steps 4,096/10,000 (41%), training return 20.0, evaluation 31.0 (normalised 0.250)"]
    every_round = Progress(total=100, initial=0, every=0)
    every_round.round(50, {"env_steps_per_s": 10.0})
    every_round.close()
    assert capsys.readouterr().out.splitlines() == ["env steps 50/100 (50%), 10 steps/s"]


def test_no_progress_prints_nothing(capsys):
    quiet = Progress(total=100, initial=0, enabled=False, every=0)
    quiet.round(50, {"eval_return": 1.0})
    quiet.close()
    assert capsys.readouterr().out == ""
