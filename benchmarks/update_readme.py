"""Write the README's result tables from the committed results (no number typed by hand).

    python benchmarks/update_readme.py

Replaces the text between ``<!-- experts-table -->`` / ``<!-- /experts-table -->`` (from the
agents' cards) and ``<!-- disc-step -->`` / ``<!-- /disc-step -->`` (from
benchmarks/results/disc_step.md).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import experts_table

ROOT = Path(__file__).resolve().parent.parent


def fill(text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {marker} -->\n).*?(<!-- /{marker} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- {marker} --> section")
    return pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        experts_table.main()
    text = fill(text, "experts-table", buf.getvalue())
    disc = ROOT / "benchmarks" / "results" / "disc_step.md"
    if disc.exists():
        text = fill(text, "disc-step", disc.read_text())
    readme.write_text(text)


if __name__ == "__main__":
    main()
