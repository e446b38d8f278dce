"""Write the result tables of README.md and docs/benchmarks.md from the committed results (no
number typed by hand).

    python benchmarks/update_readme.py

Replaces the text between ``<!-- NAME -->`` and ``<!-- /NAME -->``:

* in docs/benchmarks.md: ``experts-table`` (from the agents' cards), and ``disc-step``,
  ``bench-quick``, ``bench-full``, ``bench-quality``, ``bench-fair`` (from the files of those names
  in benchmarks/results/, where they exist);
* in README.md: ``results-summary``, the final normalised return per task and method of our
  methods and the oracle, and their interquartile mean, from benchmarks/results/bench-full.md.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import experts_table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SUMMARY_METHODS = ("gan-gcl", "gcl", "airl", "gail", "bc", "rl")


def fill(path: Path, text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {marker} -->\n).*?(<!-- /{marker} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path.relative_to(ROOT)} has no <!-- {marker} --> section")
    return pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)


def table_rows(markdown: str, header_start: str) -> list[dict[str, str]]:
    """The body rows of the first table whose header row starts with ``header_start``, as cells by column name."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    head = [c.strip() for c in lines[start].strip().strip("|").split("|")]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(head, (c.strip() for c in line.strip().strip("|").split("|")))))
    return rows


def results_summary(bench_full: str) -> str:
    """Task x method table of the full suite's final normalised means, and the IQM row (a task or
    an IQM per protocol where the suite has several)."""
    finals: dict[str, dict[str, str]] = {}
    budgets: dict[str, str] = {}
    rows = table_rows(bench_full, "| task |")
    several = len({r.get("protocol", "native") for r in rows}) > 1
    for r in rows:
        task = f"{r['task']} ({r['protocol']})" if several else r["task"]
        finals.setdefault(task, {})[r["method"]] = r["final normalised"].split()[0]
        budgets[task] = r["budget"]
    iqm = {}
    for r in table_rows(bench_full, "| method |"):
        iqm.setdefault(r.get("protocol", "native"), {})[r["method"]] = r["IQM"].split()[0]
    head = ["task", "env steps", *(f"{m} (oracle)" if m == "rl" else m for m in SUMMARY_METHODS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for task, by_method in finals.items():
        lines.append(f"| {task} | {budgets[task]} | " + " | ".join(by_method.get(m, "–") for m in SUMMARY_METHODS) + " |")
    for protocol, by_method in iqm.items():
        where = f" ({protocol})" if several else ""
        lines.append(f"| IQM, all tasks and seeds{where} | | " + " | ".join(by_method.get(m, "–") for m in SUMMARY_METHODS) + " |")
    return "\n".join(lines)


def main() -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    text = docs.read_text()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        experts_table.main()
    text = fill(docs, text, "experts-table", buf.getvalue())
    for marker, name in (("disc-step", "disc_step.md"), ("bench-quick", "bench-quick.md"), ("bench-full", "bench-full.md"),
                         ("bench-quality", "bench-quality.md"), ("bench-fair", "bench-fair.md")):
        if (RESULTS / name).exists():
            # The file's own title is dropped; the page's section heading stands in for it.
            body = (RESULTS / name).read_text()
            text = fill(docs, text, marker, body.split("\n", 2)[2] if body.startswith("# ") else body)
    docs.write_text(text)

    readme = ROOT / "README.md"
    text = fill(readme, readme.read_text(), "results-summary", results_summary((RESULTS / "bench-full.md").read_text()))
    readme.write_text(text)


if __name__ == "__main__":
    main()
