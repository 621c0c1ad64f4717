"""Which versions are envsync's (plan.ownership): pure, values built inline."""

from __future__ import annotations

from envsync.plan import last_applied, ownership
from envsync.plan.model import ObservedEnvironment
from envsync.workspace import Container
from tests.plan.test_planner import version


def env(
    *versions: str, record: last_applied.Record | None = None, managed: frozenset[str] = frozenset()
) -> ObservedEnvironment:
    """Versions newest first; `managed` carry envsync's provenance; `record` on the container."""
    made = tuple(version(v, managed=v in managed) for v in versions)
    tags = {last_applied.TAG: record.encode()} if record is not None else {}
    return ObservedEnvironment(
        "py", Container("py", versions[0] if versions else None, None, tags=tags), made
    )


def record(*adopted: str) -> last_applied.Record:
    return last_applied.Record("2", "f" * 64, "m" * 32, adopted)


def test_before_the_first_apply_nothing_is_owned_and_everything_there_is_to_adopt() -> None:
    found = env("2", "1")
    assert ownership.adopted(found) == frozenset()
    assert not ownership.applied(found)
    assert ownership.to_adopt(found) == ("1", "2")


def test_the_record_lists_what_was_adopted_and_a_later_hand_made_version_is_not() -> None:
    found = env("3", "2", "1", record=record("1", "2"))
    assert ownership.adopted(found) == {"1", "2"}
    assert ownership.to_adopt(found) == ("1", "2")
    assert not ownership.owned(found.versions[0], ownership.adopted(found))


def test_without_a_list_the_versions_older_than_envsyncs_first_are_adopted() -> None:
    # A record from before adoption was recorded, or a record write deferred: 4 came by hand later.
    found = env("4", "3", "2", "1", record=record(), managed=frozenset({"3"}))
    assert ownership.adopted(found) == {"1", "2"}
    assert ownership.adopted(env("4", "3", "2", "1", managed=frozenset({"3"}))) == frozenset()  # no record


def test_records_round_trip_their_adoption_and_ignore_it_when_compared() -> None:
    written = record("1", "2")
    read = last_applied.read(Container("py", "2", None, tags={last_applied.TAG: written.encode()}))
    assert read is not None and read.adopted == ("1", "2")
    assert read == record()  # the fast path compares what git decides, not what was adopted
    assert '"adopted"' not in record().encode()
    assert last_applied.archived("2", written.adopted).adopted == ("1", "2")
