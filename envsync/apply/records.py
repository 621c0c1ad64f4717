"""The last-applied records an apply leaves on containers, written once every version write is
done, with what ARM's write bucket has left.

Writes share one bucket (200, refilled 10 a second): a record per new version would halve the
rate at which versions are made. So versions go first, and a record is written only while the
client's pacer has a token for it at once; the rest are deferred (the summary says how many).
Nothing is lost: a container without an up-to-date record only makes the next plan read that
environment's versions (reads refill 2.5 times faster), and the next apply writes the record.

A record is written from the container as the plan listed it (one PUT, no GET) when the apply
has that container's body at hand: a plan this run made, and one change for that environment
(several would move its latest version under each other). Otherwise it is read first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from envsync.apply.result import ChangeResult, Outcome
from envsync.errors import EnvsyncError, NotFoundError
from envsync.plan import last_applied
from envsync.plan.model import Action
from envsync.spec.model import EnvironmentSpec
from envsync.workspace import Container, Workspace

Specs = Mapping[tuple[str, str | None], EnvironmentSpec]


class Records:
    def __init__(
        self,
        workspace: Workspace,
        specs: Specs,
        ignore_tags: frozenset[str],
        containers: Mapping[str, Container],
    ):
        self.workspace, self.specs, self.ignore_tags = workspace, specs, ignore_tags
        self.containers = containers  # as the plan listed them; empty: read each first

    def write(
        self,
        results: Sequence[ChangeResult],
        pool: ThreadPoolExecutor,
        on_result: Callable[[ChangeResult], None],
    ) -> tuple[list[ChangeResult], int]:
        """`results` with a failed record write turned into a failure, and how many records
        were deferred."""
        changes = Counter(r.change.name for r in results)
        alone = {n for n, count in changes.items() if count == 1} if self.containers else set()
        wanted = [i for i, r in enumerate(results) if self._wanted(r)]

        def one(i: int) -> tuple[int, ChangeResult, bool]:
            result = results[i]
            spare = self.workspace.spare_writes()
            # Every write token is spoken for; a record that adopts versions is written anyway:
            # without it they would never become envsync's.
            deferred = spare is not None and spare < 1 and not result.change.adopted
            got = _deferred(result) if deferred else self._record(result, result.change.name in alone)
            if got is not result or result.change.action is Action.NOOP:
                on_result(got)
            return i, got, deferred

        done = list(results)
        deferred = 0
        for i, got, later in pool.map(one, wanted):
            done[i], deferred = got, deferred + later
        return done, deferred

    def _wanted(self, result: ChangeResult) -> bool:
        change = result.change
        return (
            result.outcome in (Outcome.DONE, Outcome.ALREADY)
            and change.version is not None
            and change.action is not Action.ORPHAN
            and (change.name, change.fingerprint) in self.specs
        )

    def _record(self, result: ChangeResult, known: bool) -> ChangeResult:
        """Write the record on the container, keeping the user's own tags, when the change's
        version is the container's latest: the record describes the latest version, and of
        several versions one apply makes or confirms (git pins more than one) only it counts."""
        change = result.change
        assert change.version is not None
        spec = self.specs[(change.name, change.fingerprint)]
        record = last_applied.record_for(spec, change.version, self.ignore_tags, change.adopted).encode()
        current = self._current(result) if known else None
        try:
            self.workspace.tag_environment(
                spec.name, last_applied.TAG, record, when_latest=change.version, current=current
            )
        except NotFoundError:  # deleted by hand meanwhile: nothing to record on
            return result
        except EnvsyncError as e:
            return replace(result, outcome=Outcome.FAILED, message=f"writing its last-applied record: {e}")
        return result

    def _current(self, result: ChangeResult) -> Container | None:
        """The container as it stands after `result`, from the plan's listing; None: unknown."""
        change = result.change
        listed = self.containers.get(change.name)
        if change.action in (Action.CREATE, Action.NEW_VERSION):
            if result.outcome is not Outcome.DONE:
                return None  # someone else made the version: the container may have moved too
            if listed is None:  # the PUT of its first version made it, bare
                return Container(change.name, change.version, None)
            return replace(listed, latest_version=change.version)
        return listed


def _deferred(result: ChangeResult) -> ChangeResult:
    if result.change.action is Action.NOOP:  # nothing else to say about it
        return replace(result, outcome=Outcome.SKIPPED, message="last-applied record deferred (write limit)")
    return result
