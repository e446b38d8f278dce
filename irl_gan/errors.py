"""The one exception type that reaches the user as a one-line message, and how a polite stop
(SIGTERM) reaches long-running work."""

import contextlib


class UserError(Exception):
    """Bad input from the user: a missing file, a malformed dataset, an unknown task.

    The CLI prints ``irl-gan: error: <message>`` and exits with status 2. The message
    names the problem and, where there is one, the fix.
    """

    exit_code = 2


class TrainingStopped(UserError):
    """A run stopped before its end (diverged numerics, Ctrl-C, SIGTERM); the message says what
    was saved and how to go on. Exit status 3, or 130 for Ctrl-C and 143 for SIGTERM."""

    exit_code = 3


class Terminated(Exception):
    """SIGTERM arrived inside ``sigterm_raises``: `kill`, or a cluster scheduler's stop."""


def stop_reason(exc: BaseException) -> tuple[str, int]:
    """What to tell the user, and the exit status, for a run stopped by Ctrl-C or SIGTERM."""
    return ("terminated (SIGTERM)", 143) if isinstance(exc, Terminated) else ("interrupted", 130)


@contextlib.contextmanager
def sigterm_raises():
    """Within the block, SIGTERM raises ``Terminated``, so long work can save itself as it does
    on Ctrl-C (in the main thread; elsewhere nothing changes)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
