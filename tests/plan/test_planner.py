"""Table-driven tests of the pure planner: values in, a Plan out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from envsync.content.fingerprint import conda_text
from envsync.plan.model import Action, ObservedEnvironment, ObservedState, basis_digest
from envsync.plan.planner import PlanOptions, next_version, plan
from envsync.spec.load import BuildSpec, EnvironmentSpec
from envsync.workspace import FINGERPRINT_PROPERTY, BuildContext, Container, RemoteVersion, VersionBody

ROOT = Path("/repo")
OPTS = PlanOptions(root=ROOT)
CONDA = {
    "name": "py",
    "channels": ["conda-forge"],
    "dependencies": ["python=3.10", {"pip": ["numpy==1.26.4"]}],
}


def spec(name: str = "py", version: str | None = None, **fields: Any) -> EnvironmentSpec:
    fields.setdefault("image", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:1")
    return EnvironmentSpec(name=name, source=ROOT / "environments" / f"{name}.yml", version=version, **fields)


def version(
    v: str, name: str = "py", *, managed: bool = False, archived: bool = False, created: str = "", **body: Any
) -> RemoteVersion:
    body.setdefault("image", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:1")
    props = {FINGERPRINT_PROPERTY: "x" * 64} if managed else {}
    return RemoteVersion(
        name,
        v,
        VersionBody(properties=props, archived=archived, **body),
        created or f"2026-01-{int(v) if v.isdigit() else 1:02d}",
    )


def observed(*versions: RemoteVersion, next_hint: str | None = None) -> ObservedState:
    envs: dict[str, list[RemoteVersion]] = {}
    for v in sorted(versions, key=lambda v: v.created, reverse=True):
        envs.setdefault(v.name, []).append(v)
    containers = {n: Container(n, vs[0].version, next_hint or str(len(vs) + 1)) for n, vs in envs.items()}
    return ObservedState(
        containers=containers,
        environments={n: ObservedEnvironment(n, containers[n], tuple(vs)) for n, vs in envs.items()},
    )


def actions(
    desired: list[EnvironmentSpec], state: ObservedState, options: PlanOptions = OPTS
) -> list[tuple[str, Action, str | None]]:
    return [(c.name, c.action, c.version) for c in plan(desired, state, options).changes]


CASES = [
    ("new environment, no version", [spec()], observed(), [("py", Action.CREATE, "1")]),
    ("new environment, explicit version", [spec(version="5")], observed(), [("py", Action.CREATE, "5")]),
    ("same content is a no-op", [spec()], observed(version("1")), [("py", Action.NOOP, "1")]),
    (
        "tags differ: update in place",
        [spec(tags={"team": "ml"})],
        observed(version("1")),
        [("py", Action.UPDATE, "1")],
    ),
    (
        "description differs: update in place",
        [spec(description="d")],
        observed(version("1")),
        [("py", Action.UPDATE, "1")],
    ),
    (
        "image changed: next version",
        [spec(image="other:2")],
        observed(version("1"), version("2")),
        [("py", Action.NEW_VERSION, "3")],
    ),
    (
        "nextVersion hint wins when higher",
        [spec(image="other:2")],
        observed(version("1"), next_hint="7"),
        [("py", Action.NEW_VERSION, "7")],
    ),
    (
        "non-numeric versions only: 1",
        [spec(image="x")],
        observed(version("22.02-py3"), next_hint="1"),
        [("py", Action.NEW_VERSION, "1")],
    ),
    (
        "explicit version absent: new version",
        [spec(version="3", image="x")],
        observed(version("1"), version("2")),
        [("py", Action.NEW_VERSION, "3")],
    ),
    (
        "explicit version same content: no-op",
        [spec(version="2")],
        observed(version("1", image="x"), version("2")),
        [("py", Action.NOOP, "2")],
    ),
    (
        "explicit version changed content: error",
        [spec(version="2", image="x")],
        observed(version("2")),
        [("py", Action.ERROR, "2")],
    ),
    (
        "explicit version, tags differ: update",
        [spec(version="1", tags={"a": "b"})],
        observed(version("1")),
        [("py", Action.UPDATE, "1")],
    ),
    (
        "orphan: managed env no longer in git",
        [],
        observed(version("1", name="gone", managed=True)),
        [("gone", Action.ORPHAN, "1")],
    ),
    ("unmanaged env not in git is left alone", [], observed(version("1", name="byhand")), []),
    (
        "archived managed version is no orphan",
        [],
        observed(version("1", name="gone", managed=True, archived=True)),
        [],
    ),
    (
        "conda compares semantically",
        [spec(conda=CONDA)],
        observed(
            version(
                "1",
                conda_file="dependencies:\n- python=3.10\n- pip:\n  - numpy==1.26.4\nchannels: [conda-forge]\nname: py\n",
            )
        ),
        [("py", Action.NOOP, "1")],
    ),
    (
        "conda list order matters",
        [spec(conda=CONDA)],
        observed(version("1", conda_file=conda_text({**CONDA, "channels": ["defaults", "conda-forge"]}))),
        [("py", Action.NEW_VERSION, "2")],
    ),
    (
        "defaults applied: /Dockerfile and Linux",
        [spec(image=None, build=BuildSpec("/repo/ctx", "Dockerfile", "a" * 64))],
        observed(
            version(
                "1",
                image=None,
                os_type="Linux",
                build=BuildContext(
                    f"https://acct.blob.core.windows.net/c/LocalUpload/{'a' * 64}/ctx/", "/Dockerfile"
                ),
            )
        ),
        [("py", Action.NOOP, "1")],
    ),
    (
        "build context digest changed",
        [spec(image=None, build=BuildSpec("/repo/ctx", "Dockerfile", "b" * 64))],
        observed(
            version(
                "1",
                image=None,
                build=BuildContext(f"https://a.blob.core.windows.net/c/LocalUpload/{'a' * 64}/ctx/"),
            )
        ),
        [("py", Action.NEW_VERSION, "2")],
    ),
    (
        "windows differs from linux",
        [spec(os_type="windows")],
        observed(version("1")),
        [("py", Action.NEW_VERSION, "2")],
    ),
]


@pytest.mark.parametrize(("desired", "state", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_actions(desired: list[EnvironmentSpec], state: ObservedState, expected: list[Any]) -> None:
    assert actions(desired, state) == expected


def test_changed_content_at_explicit_version_names_fields_and_says_bump() -> None:
    change = plan([spec(version="2", image="x", tags={"a": "b"})], observed(version("2")), OPTS).changes[0]
    assert change.action is Action.ERROR
    assert "image" in change.message and "bump `version` in environments/py.yml" in change.message
    assert "tags" not in change.message.split(";")[0]


def test_all_errors_reported_in_one_run() -> None:
    state = observed(version("1", name="a"), version("1", name="b"))
    result = plan([spec("a", "1", image="x"), spec("b", "1", image="y")], state, OPTS)
    assert [c.name for c in result.errors] == ["a", "b"]


def test_identical_to_older_version_is_new_version_with_note() -> None:
    state = observed(version("1"), version("2", image="other"))
    change = plan([spec()], state, OPTS).changes[0]
    assert (change.action, change.version, change.base_version) == (Action.NEW_VERSION, "3", "2")
    assert "same content as version 1" in change.message


def test_latest_archived_compares_with_latest_active() -> None:
    state = observed(version("1"), version("2", image="other", archived=True))
    assert actions([spec()], state) == [("py", Action.NOOP, "1")]


def test_ignored_tags_are_neither_compared_nor_removed() -> None:
    options = PlanOptions(root=ROOT, ignore_tags=frozenset({"costcenter"}))
    state = observed(version("1", tags={"costcenter": "42", "team": "ml"}))
    assert actions([spec(tags={"team": "ml"})], state, options) == [("py", Action.NOOP, "1")]
    change = plan([spec(tags={"team": "ai"})], state, options).changes[0]
    assert change.action is Action.UPDATE
    assert change.after["tags"] == {"costcenter": "42", "team": "ai"}
    assert change.diff == ("tags.team",)


def test_excluded_names_are_never_planned() -> None:
    options = PlanOptions(root=ROOT, exclude=frozenset({"py", "gone"}))
    state = observed(version("1", name="gone", managed=True))
    assert actions([spec(image="new")], state, options) == []


def test_update_diff_names_tag_fields() -> None:
    change = plan(
        [spec(tags={"a": "1", "b": "2"})], observed(version("1", tags={"a": "0", "c": "3"})), OPTS
    ).changes[0]
    assert change.diff == ("tags.a", "tags.b", "tags.c")


def test_new_version_diff_lists_immutable_fields() -> None:
    change = plan([spec(image="x", description="d")], observed(version("1")), OPTS).changes[0]
    assert change.diff == ("description", "image")


def test_sources_are_repo_relative() -> None:
    assert plan([spec()], observed(), OPTS).changes[0].source == "environments/py.yml"


def test_a_changes_basis_is_its_own_version() -> None:
    one = ObservedEnvironment("py", None, (version("1"),))
    tagged = ObservedEnvironment("py", None, (version("1", tags={"x": "y"}),))
    assert basis_digest(one, "1") != basis_digest(tagged, "1")
    assert basis_digest(one, "1") == basis_digest(ObservedEnvironment("py", None, (version("1"),)), "1")
    # Another version appearing, or changing, leaves version 1's changes valid.
    more = ObservedEnvironment("py", None, (version("2", image="b"), version("1")))
    assert basis_digest(more, "1") == basis_digest(one, "1")
    assert basis_digest(more, "2") != basis_digest(one, "2")


def test_a_new_auto_numbered_version_rests_on_the_latest_active_version() -> None:
    one = ObservedEnvironment("py", None, (version("1"),))
    retagged = ObservedEnvironment("py", None, (version("1", tags={"x": "y"}),))
    newer = ObservedEnvironment("py", None, (version("2", image="b"), version("1")))
    archived = ObservedEnvironment("py", None, (version("1", archived=True),))
    assert basis_digest(one, "2", auto_new=True) == basis_digest(retagged, "2", auto_new=True)
    assert basis_digest(one, "2", auto_new=True) != basis_digest(newer, "2", auto_new=True)
    assert basis_digest(one, "2", auto_new=True) != basis_digest(archived, "2", auto_new=True)


def test_each_change_of_one_environment_rests_on_its_own_version() -> None:
    state = observed(version("1", managed=True), version("2", managed=True), version("3", managed=True))
    orphans = plan([], state, OPTS).changes
    env = state.environment("py")
    assert [c.observed_digest for c in orphans] == [basis_digest(env, v) for v in ("1", "2", "3")]
    assert len({c.observed_digest for c in orphans}) == 3


@pytest.mark.parametrize(
    ("versions", "hint", "expected"),
    [
        ((), None, "1"),
        (("1", "2"), "3", "3"),
        (("1", "9"), "3", "10"),
        (("a", "b"), None, "1"),
        (("2",), "5", "5"),
    ],
)
def test_next_version(versions: tuple[str, ...], hint: str | None, expected: str) -> None:
    env = ObservedEnvironment(
        "py", Container("py", None, hint) if hint else None, tuple(version(v) for v in versions)
    )
    assert next_version(env) == expected


RESTORES = [
    ("explicit version archived", [spec(version="1")], observed(version("1", archived=True)), "1"),
    ("unversioned: its only version archived", [spec()], observed(version("1", archived=True)), "1"),
    (
        "unversioned: the newest with git's content, newer than every active version",
        [spec()],
        observed(
            version("1", image="old"), version("2", archived=True), version("3", image="x", archived=True)
        ),
        "2",
    ),
]


@pytest.mark.parametrize(
    ("desired", "state", "restored"), [c[1:] for c in RESTORES], ids=[c[0] for c in RESTORES]
)
def test_archived_version_git_points_at_is_restored(
    desired: list[EnvironmentSpec], state: ObservedState, restored: str
) -> None:
    change = plan(desired, state, OPTS).changes[0]
    assert (change.action, change.version, change.diff) == (Action.RESTORE, restored, ("archived",))
    assert change.message == "archived while git defines it"


def test_archived_older_than_an_active_version_is_not_restored() -> None:
    """Restoring version 1 would not make it the latest again: git's content needs a new version."""
    state = observed(version("1", archived=True), version("2", image="other"))
    assert actions([spec()], state) == [("py", Action.NEW_VERSION, "3")]


def test_restore_sets_gits_tags_and_keeps_ignored_ones() -> None:
    options = PlanOptions(root=ROOT, ignore_tags=frozenset({"costcenter"}))
    state = observed(version("1", archived=True, tags={"costcenter": "7", "team": "x"}))
    change = plan([spec(version="1", tags={"team": "ml"})], state, options).changes[0]
    assert change.action is Action.RESTORE and change.diff == ("archived", "tags.team")
    assert change.after["tags"] == {"costcenter": "7", "team": "ml"}


def test_archived_environment_is_restored_with_a_note() -> None:
    state = observed(version("1", archived=True), version("2", archived=True))
    whole = replace(state.containers["py"], archived=True)
    env = replace(state.environments["py"], container=whole)
    state = replace(state, containers={"py": whole}, environments={"py": env})
    change = plan([spec(version="1")], state, OPTS).changes[0]
    assert change.action is Action.RESTORE
    assert "the whole environment is archived" in (change.message or "")


def test_archived_orphans_and_hand_made_environments_are_never_restored() -> None:
    state = observed(
        version("1", name="gone", managed=True, archived=True), version("1", name="byhand", archived=True)
    )
    assert actions([], state) == []
