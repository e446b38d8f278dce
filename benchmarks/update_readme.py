"""Write the README's result tables from the committed results (no number typed by hand).

    python benchmarks/update_readme.py

Replaces the text between ``<!-- experts-table -->`` / ``<!-- /experts-table -->`` (from the
agents' cards), and between ``<!-- NAME -->`` / ``<!-- /NAME -->`` for disc-step, bench-quick,
bench-full, bench-quality and known-reward (from the files of the same names in benchmarks/results/).
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
    results = ROOT / "benchmarks" / "results"
    for marker, name in (("disc-step", "disc_step.md"), ("bench-quick", "bench-quick.md"), ("bench-full", "bench-full.md"),
                         ("bench-quality", "bench-quality.md"),
                         ("known-reward", "known_reward.md")):
        if (results / name).exists():
            # The file's own title is dropped; the README's section heading stands in for it.
            body = (results / name).read_text()
            text = fill(text, marker, body.split("\n", 2)[2] if body.startswith("# ") else body)
    readme.write_text(text)


if __name__ == "__main__":
    main()
