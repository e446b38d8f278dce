"""Atomic file writes: a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes it private; the result gets ordinary permissions
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_csv(path: str | os.PathLike, rows: list[dict], fieldnames: list[str]) -> None:
    """Rows as CSV under a header; a field a row lacks is left empty, one not named is dropped."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fieldnames, restval="", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary directory beside ``path``; on success it replaces ``path``.

    A directory of several files (a checkpoint) cannot be renamed over a full one in one step,
    so the swap goes through ``PATH.old``: at every instant ``PATH`` or ``PATH.old`` is a whole
    earlier version, which :func:`latest_dir` finds. A process killed at any moment leaves at
    most an unfinished temporary directory, removed by the next call.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tmp.chmod(0o777 & ~_umask())
    old = path.with_name(path.name + ".old")
    if path.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


def latest_dir(path: str | os.PathLike) -> Path | None:
    """The whole directory :func:`atomic_dir` last wrote at ``path``, or None if there is none."""
    path = Path(path)
    for candidate in (path, path.with_name(path.name + ".old")):
        if candidate.is_dir():
            return candidate
    return None


LOCK_NAME = ".lock"
_held: dict = {}  # directory -> its open lock file, held until the process exits, however it exits


def hold_dir(path: str | os.PathLike, what: str = "run") -> None:
    """Claim ``path`` (created if need be) for this process until it exits; a second irl-gan
    writing into the same directory gets a one-line error instead of interleaving checkpoints.

    An advisory ``flock`` on ``PATH/.lock``: the kernel drops it when the process ends, killed
    or not, so a stale lock file never blocks a later run.
    """
    import fcntl

    from irl_gan.errors import UserError

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    key = path.resolve()
    if key in _held:
        return
    f = open(path / LOCK_NAME, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        pid = f.read().strip() or "?"
        f.close()
        raise UserError(f"{path} is in use by another irl-gan process (pid {pid}); wait for that {what} to end or stop it, "
                        "or choose another --out") from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    _held[key] = f
