"""Exception raised for bad user input."""

from __future__ import annotations


class ScengenError(ValueError):
    """Bad input: a file, column, value or option that scengen cannot accept.

    The message is one line that names the offending argument or file, the bad value, and what is
    allowed. The CLI prints it as ``Error: <message>`` and exits with status 1.
    """
