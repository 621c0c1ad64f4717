"""Exit codes and the error hierarchy. `cli.py` is the only place that maps them to exits."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2  # Terraform's --detailed-exitcode convention: changes pending, or drift found
    INTERNAL = 3  # a bug: pre-commit's convention
    INTERRUPTED = 130


class EnvsyncError(Exception):
    """A known failure. The message is one line and names file[:line] where one is known."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, details: tuple[str, ...] = ()):
        super().__init__(message)
        self.details = details  # one line each, printed before the message (e.g. every problem)


class SpecError(EnvsyncError):
    """An environment YAML (or a file it references) is invalid."""


class ConfigError(EnvsyncError):
    """envsync.yaml is invalid."""


class WorkspaceError(EnvsyncError):
    """A workspace backend refused or failed a request."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class NetworkError(WorkspaceError):
    """No answer: DNS, a refused or timed-out connection, TLS, a deadline passed."""


class CredentialError(EnvsyncError):
    """No credential could sign in, or Azure AD refused it (the message names which and the fix)."""


class NotFoundError(WorkspaceError):
    """The asset does not exist (HTTP 404)."""


class ConflictError(WorkspaceError):
    """An existing version would have to change its immutable content (HTTP 409)."""


class StalePlanError(EnvsyncError):
    """A saved plan no longer matches the workspace it was made from."""


class GitError(EnvsyncError):
    """A git operation failed (bad ref, not a repository, dirty tree refused)."""


class SolveError(EnvsyncError):
    """A solve could not run: a channel or index unreachable, the solver missing or too slow."""
