"""The one exception a user can cause.

Every error a user can provoke (bad date range, unknown report, invalid timezone,
unreachable database, malformed configuration) is raised as :class:`TallyError`
with a message that says what is wrong *and* what to do. The CLI prints it on
one line and exits non-zero; no traceback.
"""

from __future__ import annotations


class TallyError(Exception):
    """A user-facing error with a one-line, actionable message."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
