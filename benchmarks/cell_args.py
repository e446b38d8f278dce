"""The command line every benchmark cell script shares (benchmarks/peer_imitation.py, benchmarks/oracle.py):
the task, the horizon protocol of its training envs, the budget, the evaluations and the run directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable


def parse_cell_args(script: str, doc: str, steps_help: str, extra: Callable[[argparse.ArgumentParser], None] = lambda p: None) -> tuple[argparse.Namespace, Path | None]:
    """The arguments of a cell script and its last checkpoint (None: none). A checkpoint without
    ``--resume``, or ``--resume`` without one, ends the script with a one-line message."""
    from irl_gan.io import latest_dir
    from irl_gan.protocols import PROTOCOLS

    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True)
    extra(p)
    p.add_argument("--protocol", choices=PROTOCOLS, default="fixed", help="horizon protocol of the training envs (irl_gan.protocols)")
    p.add_argument("--steps", type=int, default=0, help=steps_help)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=100_000)
    p.add_argument("--eval-episodes", type=int, default=5)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--resume", action="store_true", help="go on from OUT/checkpoint")
    a = p.parse_args()
    saved = latest_dir(a.out / "checkpoint")
    if saved and not a.resume:
        sys.exit(f"{script}: {a.out} holds a checkpoint; pass --resume to go on from it, or choose another --out")
    if a.resume and not saved:
        sys.exit(f"{script}: --resume, but {a.out} holds no checkpoint; leave --resume out to start")
    return a, saved
