"""The documentation stays a user's documentation: every relative link resolves, the README stays
short, nothing points outside the repository, and the task specs hold settings, not results."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_README_LINES = 250
# Built from parts, so that this file does not mention them itself.
OUTSIDE_REFERENCES = ("design" + ".md", ".." + "/shared")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "experiments").rglob("*.md"))]


def prose(text: str) -> str:
    """The text outside code: fenced blocks and inline code spans hold commands, not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(page: Path) -> list[str]:
    return LINK.findall(prose(page.read_text()))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(prose(page.read_text()))}


def tracked_text_files() -> list[Path]:
    try:
        names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files are unknown")
    files = []
    for name in filter(None, names):
        path = ROOT / name
        if not path.is_file():
            continue  # deleted in the working tree, not yet committed
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary: agents, demos, plots
        files.append(path)
    return files


def mentions_outside(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(ref in line for ref in OUTSIDE_REFERENCES):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_the_documentation_pages_exist():
    names = {p.relative_to(ROOT).as_posix() for p in doc_pages()}
    assert {"README.md", "docs/concepts.md", "docs/training.md", "docs/rewards.md", "docs/data.md", "docs/benchmarks.md",
            "experiments/README.md"} <= names


def test_every_relative_link_in_the_docs_resolves():
    broken = []
    for page in doc_pages():
        for target in links(page):
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
                continue  # http(s), mailto and other schemes; anchors within the page
            path, _, fragment = target.partition("#")
            resolved = (page.parent / path).resolve()
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not resolved.exists():
                broken.append(f"{where} does not exist")
            elif not resolved.is_relative_to(ROOT):
                broken.append(f"{where} points outside the repository")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                broken.append(f"{where} has no heading #{fragment}")
    assert not broken, "\n".join(broken)


def test_the_link_check_sees_links_and_skips_code(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See [a](a.md#x) and ![b](img/b.png).\n\n```sh\nls [c](c.md)\n```\nand `[d](d.md)`\n\n## The Python API\n")
    assert links(page) == ["a.md#x", "img/b.png"]
    assert anchors(page) == {"the-python-api"}
    assert slug("The suites: `bench.py`") == "the-suites-benchpy"


def test_the_readme_is_short():
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail into docs/ (at most {MAX_README_LINES})"


def test_no_tracked_file_points_outside_the_repository():
    assert not mentions_outside(tracked_text_files())


def test_task_specs_comment_settings_in_one_line_and_narrate_no_results():
    for spec in sorted((ROOT / "irl_gan" / "envs").glob("*.yaml")):
        lines = spec.read_text().splitlines()
        comments = [i for i, line in enumerate(lines) if line.lstrip().startswith("#")]
        runs = [i for i in comments if i - 1 in comments]
        assert not runs, f"{spec.name}:{runs[0] + 1}: a comment of more than one line; results belong in experiments/"
        for i in comments:
            assert not re.search(r"benchmarks/results|experiments/|\d\.\d+ (normalised|at \d)", lines[i]), f"{spec.name}:{i + 1} narrates a result"
