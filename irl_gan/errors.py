"""The one exception type that reaches the user as a one-line message."""


class UserError(Exception):
    """Bad input from the user: a missing file, a malformed dataset, an unknown task.

    The CLI prints ``irl-gan: error: <message>`` and exits with status 2. The message
    names the problem and, where there is one, the fix.
    """

    exit_code = 2
