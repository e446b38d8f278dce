"""The one exception type that reaches the user as a one-line message."""


class UserError(Exception):
    """Bad input from the user: a missing file, a malformed dataset, an unknown task.

    The CLI prints ``irl-gan: error: <message>`` and exits with status 2. The message
    names the problem and, where there is one, the fix.
    """

    exit_code = 2


class TrainingStopped(UserError):
    """A run stopped before its end (diverged numerics, Ctrl-C); the message says what was
    saved and how to go on. Exit status 3, or 130 for an interrupt."""

    exit_code = 3
