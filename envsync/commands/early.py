"""A plan's target opened before git's YAMLs load, its reading already under way."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envsync.commands.common import App, Opened
    from envsync.commands.planning import PlanRequest
    from envsync.gitops.state import Guess
    from envsync.plan.run import EarlyRead


class EarlyTarget:
    """A target opened before git's YAMLs load, already being read (for --changed-since, the
    names its changed YAMLs hold), so the reading overlaps the parsing."""

    def __init__(self, app: App, opened: Opened, request: PlanRequest, guessed: Guess | None):
        from envsync.plan.run import start_early

        self.opened = opened
        self.early: EarlyRead | None = None
        exact = request.select.exact
        if not request.changed_since and exact is not None:  # --name without globs: just those
            self.early = start_early(app.config, opened.workspace, refresh=True, only=exact)
        elif not request.changed_since:
            self.early = start_early(app.config, opened.workspace, refresh=request.refresh)
        elif guessed is not None:
            self.early = start_early(app.config, opened.workspace, refresh=True, only=guessed.names)
