"""A training run's directory: what it keeps, and what a run resumed from it reads back.

* ``config.yaml``: the resolved settings; a directory with one is a run that --resume can continue.
* ``metrics.csv`` and ``tb/``: one row per round under fixed columns (``METRICS``), and the same
  numbers in TensorBoard, grouped as CleanRL groups them (``charts/``, ``losses/``, ...).
* ``checkpoint/``: everything needed to continue, written as a whole directory (``io.atomic_dir``).
* ``policy.zip``, ``obs_norm.npz``, ``cost.pt``, ``card.yaml``: the outputs, rewritten with every
  checkpoint, so a killed run's outputs are its last checkpoint's.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import torch
import yaml

from irl_gan.io import atomic_dir, atomic_path, atomic_write_csv, atomic_write_text, latest_dir
from irl_gan.sb3 import POLICY_METRICS, save_generator

METRICS = [
    "round", "env_steps", "pre_training_env_steps", "wall_s", "true_return", "normalised", "eval_return", "eval_normalised", "env_steps_per_s",
    "cost_loss", "log_z", "log_z_is", "ess", "energy_demo", "energy_gen", "disc_acc_demo", "disc_acc_gen",
    "demo_log_lik", "log_pi_demo", "log_pi_gen", "reward_mean", "reward_scale", "bc_log_lik", "rank_loss", "rank_accuracy",
    *POLICY_METRICS.values(),
]
_TB_GROUPS = {k: "charts" for k in ("true_return", "normalised", "eval_return", "eval_normalised", "env_steps_per_s", "wall_s")}
# The losses go to "losses" with every other *loss (tb_name); the rest of the update to "policy".
_TB_GROUPS.update({name: "policy" for name in POLICY_METRICS.values() if not name.endswith("loss")})


def tb_name(key: str) -> str:
    return f"{_TB_GROUPS.get(key, 'diagnostics' if not key.endswith('loss') else 'losses')}/{key}"


def write_config(out: Path, config) -> None:
    """``config`` (a TrainConfig) as ``out/config.yaml``, in plain YAML (tuples as lists)."""
    atomic_write_text(out / "config.yaml", yaml.safe_dump(_plain(dataclasses.asdict(config)), sort_keys=False))


def write_card(out: Path, spec, algo: str) -> None:
    """``out/card.yaml``: which task and env the policy in ``out`` acts in, and what trained it."""
    atomic_write_text(out / "card.yaml", yaml.safe_dump({"task": spec.task, "env_id": spec.env_id, "trained_by": "irl-gan train", "algo": algo}, sort_keys=False))


def _plain(x):
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


class RunDir:
    """The run directory ``out``, and the metrics rows logged into it so far."""

    def __init__(self, out: Path):
        self.out = out
        self.rows: list[dict] = []
        self.purge_step: int | None = None
        """TensorBoard drops the events from this step on when it opens (a resumed run's)."""
        self._writer = None

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / "checkpoint"

    # ------------------------------------------------------------------ metrics

    def log(self, row: dict, env_steps: int) -> None:
        """A round's row, to metrics.csv and TensorBoard."""
        self.rows.append(row)
        self._write_metrics()
        for key, value in row.items():
            if key not in ("round", "env_steps"):
                self._tb().add_scalar(tb_name(key), value, env_steps)

    def amend_last(self, values: dict, env_steps: int) -> None:
        """Add ``values`` to the last row (an evaluation of the policy as saved)."""
        self.rows[-1].update(values)
        self._write_metrics()
        for key, value in values.items():
            self._tb().add_scalar(tb_name(key), value, env_steps)

    def summary(self) -> dict:
        last = self.rows[-1] if self.rows else {}
        return {k: (float(v) if v not in (None, "") else None) for k, v in last.items()}

    def _tb(self):
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.out / "tb"), purge_step=self.purge_step)
        return self._writer

    def _write_metrics(self) -> None:
        """Rewrite metrics.csv whole, atomically: a killed run never leaves half a row. Fixed
        columns, so a value that first appears later (the first finished episode's return) has
        a place in the header written before it existed."""
        atomic_write_csv(self.out / "metrics.csv", self.rows, METRICS)

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self, model, venv, trainer_state: dict, state: dict) -> None:
        """The generator (with SAC's replay buffer), its observation statistics, the trainer's own
        state (``trainer.pt``) and ``state.json`` (env steps, round, what a resumed run must agree
        on), as one directory: a kill at any moment leaves this checkpoint or the previous one."""
        with atomic_dir(self.checkpoint_dir) as d:
            save_generator(model, d)
            venv.save(str(d / "vecnormalize.pkl"))
            torch.save(trainer_state, d / "trainer.pt")
            (d / "state.json").write_text(json.dumps(state))

    def latest_checkpoint(self) -> tuple[Path, dict] | None:
        """The last whole checkpoint directory and its state.json, or None."""
        d = latest_dir(self.checkpoint_dir)
        if d is None or not (d / "state.json").exists():
            return None
        return d, json.loads((d / "state.json").read_text())

    def resume_rows(self, rounds: int, env_steps: int) -> None:
        """A resumed run keeps the first ``rounds`` rows of metrics.csv (those logged after its
        checkpoint are run again), and TensorBoard the events up to ``env_steps``."""
        path = self.out / "metrics.csv"
        if path.exists():
            with open(path, newline="") as f:
                self.rows = list(csv.DictReader(f))[:rounds]
            self._write_metrics()
        self.purge_step = env_steps + 1

    # ------------------------------------------------------------------ outputs

    def save_outputs(self, config, spec, model, obs_norm, cost) -> None:
        """The config, the policy (an SB3 checkpoint), its observation statistics (an
        ``agents.ObsNorm``), the cost (none for the oracle) and the card."""
        write_config(self.out, config)
        with atomic_path(self.out / "policy.zip") as tmp:
            model.save(tmp)
        obs_norm.save(self.out / "obs_norm.npz")
        if cost is not None:
            cost.save(self.out / "cost.pt")
        write_card(self.out, spec, config.algo)
