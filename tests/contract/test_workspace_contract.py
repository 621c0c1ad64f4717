"""The Workspace contract: Azure ML's rules for environments (azureml-api.md §2, §3, §7), run
against every backend in `conftest.BACKENDS`. Only the `Workspace` protocol is used here."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from envsync.content.context import context_digest
from envsync.content.fingerprint import context_from_uri
from envsync.errors import ConflictError, NotFoundError, WorkspaceError
from envsync.workspace import BuildContext, Container, ListView, VersionBody, Workspace
from envsync.workspace.local.curated import CATALOG

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
CONDA = "name: py\nchannels:\n- conda-forge\ndependencies:\n- python=3.11\n- pip\n"
ROUTES = {
    "livenessRoute": {"path": "/health", "port": 5001},
    "readinessRoute": {"path": "/ready", "port": 5001},
    "scoringRoute": {"path": "/score", "port": 5001},
}
CONTEXT_URI = f"https://acct.blob.core.windows.net/azureml/LocalUpload/{'ab' * 32}/docker/"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")
CONFLICT = "Environment {} with version {} is already registered and cannot be changed."
TIMESTAMP_VERSION = re.compile(r"^\d{4}(-\d\d){5}-\d{7}$")  # 2022-09-14-20-33-51-5820890
FOR = {"name": "ctx-env", "version": "1"}  # the version a context is uploaded for (registries ask)


def body(**fields: object) -> VersionBody:
    return VersionBody(**{"image": IMAGE, **fields})  # type: ignore[arg-type]


def versions(workspace: Workspace, name: str, view: ListView = ListView.ACTIVE) -> list[str]:
    return [v.version for v in workspace.list_versions(name, view)]


def expect_next(container: Container | None, want: str, timestamps: bool) -> None:
    """`container`'s nextVersion is `want`, or, where the backend answers as the service may,
    a timestamp read at answer time (docs/real-service.md): the planner counts for itself then."""
    assert container is not None
    if timestamps:
        assert TIMESTAMP_VERSION.match(container.next_version or ""), container.next_version
    else:
        assert container.next_version == want


def stable(container: Container | None) -> Container | None:
    """`container` without its nextVersion where that is a timestamp (it moves between reads)."""
    if container is None or not TIMESTAMP_VERSION.match(container.next_version or ""):
        return container
    return replace(container, next_version=None)


def curated_name(workspace: Workspace) -> str:
    return next(c.name for c in workspace.list_environments(ListView.ALL) if c.curated)


# -- create, get, list ------------------------------------------------------------------------


def test_a_new_workspace_holds_only_curated_environments(workspace: Workspace, holds_curated: bool) -> None:
    containers = list(workspace.list_environments(ListView.ALL))
    if not holds_curated:  # a new registry holds nothing at all
        assert containers == []
        return
    assert containers and all(c.curated for c in containers)
    for c in containers:
        found = workspace.list_versions(c.name, ListView.ALL)
        assert found and all(v.curated for v in found)
        assert c.latest_version == found[0].version


def test_curated_versions_look_like_the_catalog(workspace: Workspace, holds_curated: bool) -> None:
    if not holds_curated:  # a registry holds none: a curated name resolves to nothing there
        assert workspace.get_environment(CATALOG[0].name) is None
        return
    name = curated_name(workspace)
    assert name.startswith("AzureML")
    version = workspace.list_versions(name)[0]
    assert version.curated and version.body.image is not None
    assert version.body.image.startswith("mcr.microsoft.com/azureml/curated/")


def test_create_then_get_round_trips_every_field(workspace: Workspace) -> None:
    sent = VersionBody(
        image=IMAGE,
        conda_file=CONDA,
        os_type="linux",
        inference_config=ROUTES,
        description="serving",
        tags={"team": "ml", "empty": ""},
        properties={"envsync.fingerprint": "f" * 64},
    )
    created = workspace.create_version("serve", "1", sent)
    assert (created.name, created.version, created.curated, created.archived) == ("serve", "1", False, False)
    # The service hands condaFile back as JSON text (docs/real-service.md): the same content.
    assert created.body.content() == sent.content()
    assert replace(created.body, conda_file=CONDA) == sent
    assert workspace.get_version("serve", "1") == created
    assert ISO_UTC.match(created.created)


def test_create_with_a_build_context(workspace: Workspace) -> None:
    sent = VersionBody(build=BuildContext(CONTEXT_URI, "docker/Dockerfile.gpu"), os_type="windows")
    created = workspace.create_version("built", "1", sent)
    assert created.body.build == BuildContext(CONTEXT_URI, "docker/Dockerfile.gpu")
    assert created.body.image is None and created.body.os_type == "windows"
    assert created.body.content() == sent.content()


def test_first_version_creates_the_container(workspace: Workspace, timestamps: bool) -> None:
    assert workspace.get_environment("fresh") is None
    workspace.create_version("fresh", "1", body())
    container = workspace.get_environment("fresh")
    assert container is not None
    assert (container.name, container.latest_version) == ("fresh", "1")
    expect_next(container, "2", timestamps)
    assert not container.archived and not container.curated
    assert "fresh" in [c.name for c in workspace.list_environments()]


def test_missing_things_read_as_absent(workspace: Workspace) -> None:
    workspace.create_version("here", "1", body())
    assert workspace.get_environment("nowhere") is None
    assert workspace.get_version("nowhere", "1") is None
    assert workspace.get_version("here", "2") is None
    assert workspace.list_versions("nowhere") == []
    assert workspace.list_versions("nowhere", ListView.ALL) == []


def test_versions_are_listed_newest_first_across_pages(workspace: Workspace) -> None:
    order = ["3", "1", "10", "2", "b", "a", "7", "11"]  # creation order, not numeric or text order
    for v in order:
        workspace.create_version("paged", v, body(image=f"img:{v}"))
    assert versions(workspace, "paged") == order[::-1]
    assert [v.body.image for v in workspace.list_versions("paged")] == [f"img:{v}" for v in order[::-1]]
    created = [v.created for v in workspace.list_versions("paged")]
    assert created == sorted(created, reverse=True) and len(set(created)) == len(created)


def test_environments_are_listed_once_each_across_pages(workspace: Workspace) -> None:
    names = [f"env-{i}" for i in range(8)]
    for name in names:
        workspace.create_version(name, "1", body())
    listed = [c.name for c in workspace.list_environments() if not c.curated]
    assert sorted(listed) == names


def test_versions_are_case_sensitive(workspace: Workspace) -> None:
    workspace.create_version("case", "v1", body(image="lower"))
    workspace.create_version("case", "V1", body(image="upper"))
    assert sorted(versions(workspace, "case")) == ["V1", "v1"]


# -- immutability -----------------------------------------------------------------------------


def test_identical_create_replaces_mutable_fields_and_keeps_properties(workspace: Workspace) -> None:
    first = workspace.create_version(
        "same", "1", body(description="a", tags={"x": "1"}, properties={"envsync.source": "a.yml"})
    )
    again = workspace.create_version(
        "same", "1", body(description="b", tags={"y": "2"}, properties={"envsync.source": "b.yml"})
    )
    assert (again.body.description, dict(again.body.tags)) == ("b", {"y": "2"})
    assert dict(again.body.properties) == {"envsync.source": "a.yml"}
    assert again.created == first.created
    assert versions(workspace, "same", ListView.ALL) == ["1"]


@pytest.mark.parametrize(
    ("stored", "resent"),
    [
        pytest.param(
            VersionBody(build=BuildContext(CONTEXT_URI)),
            VersionBody(build=BuildContext(CONTEXT_URI, "./Dockerfile")),
            id="dockerfile-default",
        ),
        pytest.param(body(os_type="linux"), body(os_type="Linux"), id="os-type-case"),
        pytest.param(
            body(conda_file=CONDA),
            body(
                conda_file="# a comment\ndependencies: [python=3.11, pip]\nchannels: [conda-forge]\nname: py\n"
            ),
            id="conda-formatting",
        ),
        pytest.param(
            VersionBody(build=BuildContext(CONTEXT_URI)),
            VersionBody(build=BuildContext(CONTEXT_URI.rstrip("/"))),
            id="context-trailing-slash",
        ),
    ],
)
def test_identical_content_compares_after_defaults(
    workspace: Workspace, stored: VersionBody, resent: VersionBody
) -> None:
    workspace.create_version("defaults", "1", stored)
    workspace.create_version("defaults", "1", resent)
    assert versions(workspace, "defaults") == ["1"]


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(body(image="python:3.12"), id="image"),
        pytest.param(body(conda_file=CONDA.replace("3.11", "3.12")), id="conda"),
        pytest.param(body(os_type="windows"), id="os-type"),
        pytest.param(body(inference_config=ROUTES), id="inference-config"),
        pytest.param(VersionBody(build=BuildContext(CONTEXT_URI)), id="image-to-build"),
    ],
)
def test_different_content_at_an_existing_version_is_409(workspace: Workspace, changed: VersionBody) -> None:
    original = workspace.create_version("fixed", "4", body(conda_file=CONDA, tags={"t": "1"}))
    with pytest.raises(ConflictError, match=re.escape(CONFLICT.format("fixed", "4"))) as caught:
        workspace.create_version("fixed", "4", changed)
    assert (caught.value.status, caught.value.code) == (409, "UserError")
    assert workspace.get_version("fixed", "4") == original


def test_a_different_build_context_is_409(workspace: Workspace) -> None:
    workspace.create_version("ctx", "1", VersionBody(build=BuildContext(CONTEXT_URI)))
    other = CONTEXT_URI.replace("ab" * 32, "cd" * 32)
    with pytest.raises(ConflictError, match=re.escape(CONFLICT.format("ctx", "1"))):
        workspace.create_version("ctx", "1", VersionBody(build=BuildContext(other)))
    with pytest.raises(ConflictError):
        workspace.create_version("ctx", "1", VersionBody(build=BuildContext(CONTEXT_URI, "Dockerfile.cpu")))


# -- update -----------------------------------------------------------------------------------


def test_update_version_keeps_content_properties_and_archived_flag(workspace: Workspace) -> None:
    workspace.create_version("upd", "1", body(conda_file=CONDA, properties={"envsync.commit": "abc"}))
    workspace.set_archived("upd", "1", True)
    updated = workspace.update_version("upd", "1", description="new", tags={"owner": "ana"})
    assert (updated.body.description, dict(updated.body.tags)) == ("new", {"owner": "ana"})
    assert updated.archived and dict(updated.body.properties) == {"envsync.commit": "abc"}
    assert updated.body.content() == body(conda_file=CONDA).content()
    assert workspace.get_version("upd", "1") == updated
    cleared = workspace.update_version("upd", "1", description=None, tags={})
    assert cleared.body.description is None and dict(cleared.body.tags) == {}


def test_update_of_a_missing_version_is_not_found(workspace: Workspace) -> None:
    workspace.create_version("upd", "1", body())
    with pytest.raises(NotFoundError):
        workspace.update_version("upd", "2", description="x", tags={})
    with pytest.raises(NotFoundError):
        workspace.update_version("nowhere", "1", description="x", tags={})


def test_update_environment_replaces_description_and_tags_only(
    workspace: Workspace, timestamps: bool
) -> None:
    workspace.create_version("cont", "1", body())
    workspace.create_version("cont", "2", body(image="b"))
    workspace.update_environment("cont", description="first", tags={"old": "1"})
    workspace.set_archived("cont", None, True)
    updated = workspace.update_environment(
        "cont", description="team env", tags={"envsync.last-applied": "{}"}
    )
    assert (updated.description, dict(updated.tags)) == ("team env", {"envsync.last-applied": "{}"})
    assert (updated.latest_version, updated.archived) == ("2", True)
    expect_next(updated, "3", timestamps)
    assert stable(workspace.get_environment("cont")) == stable(updated)
    assert versions(workspace, "cont", ListView.ARCHIVED) == ["2", "1"]


def test_update_environment_of_a_missing_one_is_not_found(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError):
        workspace.update_environment("nowhere", description=None, tags={})
    with pytest.raises(NotFoundError):
        workspace.tag_environment("nowhere", "k", "v")


def test_tag_environment_sets_one_tag_and_keeps_the_rest(workspace: Workspace) -> None:
    workspace.create_version("tagged", "1", body())
    workspace.set_archived("tagged", None, True)
    workspace.update_environment("tagged", description="team env", tags={"owner": "me", "k": "old"})
    updated = workspace.tag_environment("tagged", "k", "new")
    assert (updated.description, dict(updated.tags)) == ("team env", {"owner": "me", "k": "new"})
    assert (updated.latest_version, updated.archived) == ("1", True)
    again = workspace.tag_environment("tagged", "k", "new")
    assert stable(again) == stable(updated) == stable(workspace.get_environment("tagged"))


def test_tag_environment_when_latest_writes_only_on_that_version(workspace: Workspace) -> None:
    workspace.create_version("pinned", "2", body())
    workspace.create_version("pinned", "1", body(image="other"))  # created last: the latest
    kept = workspace.tag_environment("pinned", "k", "v2", when_latest="2")
    assert "k" not in kept.tags and kept.latest_version == "1"
    assert workspace.tag_environment("pinned", "k", "v1", when_latest="1").tags["k"] == "v1"


# -- archive and restore ----------------------------------------------------------------------


def test_archived_version_leaves_active_lists_but_still_exists(workspace: Workspace) -> None:
    workspace.create_version("arc", "1", body(image="one"))
    workspace.create_version("arc", "2", body(image="two"))
    workspace.set_archived("arc", "1", True)
    assert versions(workspace, "arc") == ["2"]
    assert versions(workspace, "arc", ListView.ARCHIVED) == ["1"]
    assert versions(workspace, "arc", ListView.ALL) == ["2", "1"]
    found = workspace.get_version("arc", "1")
    assert found is not None and found.archived
    with pytest.raises(ConflictError, match=re.escape(CONFLICT.format("arc", "1"))):
        workspace.create_version("arc", "1", body(image="other"))


def test_restore_a_version(workspace: Workspace) -> None:
    workspace.create_version("arc", "1", body())
    workspace.set_archived("arc", "1", True)
    workspace.set_archived("arc", "1", False)
    assert versions(workspace, "arc") == ["1"]


def test_identical_create_sets_the_archived_flag_it_sends(workspace: Workspace) -> None:
    """A PUT replaces the whole body: re-sending without isArchived restores (azureml-api.md §3)."""
    workspace.create_version("resend", "1", body())
    workspace.set_archived("resend", "1", True)
    assert not workspace.create_version("resend", "1", body()).archived
    assert workspace.create_version("resend", "1", body(archived=True)).archived


def test_archived_container_hides_all_its_versions(workspace: Workspace) -> None:
    for v in ("1", "2"):
        workspace.create_version("box", v, body(image=v))
    workspace.create_version("other", "1", body())
    workspace.set_archived("box", None, True)
    assert "box" not in [c.name for c in workspace.list_environments()]
    assert [c.name for c in workspace.list_environments(ListView.ARCHIVED)] == ["box"]
    assert "box" in [c.name for c in workspace.list_environments(ListView.ALL)]
    container = workspace.get_environment("box")
    assert container is not None and container.archived
    assert versions(workspace, "box") == []
    assert versions(workspace, "box", ListView.ARCHIVED) == ["2", "1"]
    assert all(v.archived for v in workspace.list_versions("box", ListView.ALL))
    assert versions(workspace, "other") == ["1"]


def test_a_version_cannot_be_restored_while_its_container_is_archived(workspace: Workspace) -> None:
    workspace.create_version("box", "1", body())
    workspace.set_archived("box", None, True)
    with pytest.raises(WorkspaceError) as caught:
        workspace.set_archived("box", "1", False)
    assert not isinstance(caught.value, (NotFoundError, ConflictError))
    assert versions(workspace, "box") == []
    workspace.set_archived("box", None, False)
    assert versions(workspace, "box") == ["1"]
    container = workspace.get_environment("box")
    assert container is not None and not container.archived


def test_restoring_an_active_container_leaves_archived_versions_alone(workspace: Workspace) -> None:
    workspace.create_version("box", "1", body(image="one"))
    workspace.create_version("box", "2", body(image="two"))
    workspace.set_archived("box", "1", True)
    workspace.set_archived("box", None, False)
    assert versions(workspace, "box") == ["2"]


def test_archived_container_still_refuses_different_content(workspace: Workspace) -> None:
    workspace.create_version("box", "1", body())
    workspace.set_archived("box", None, True)
    with pytest.raises(ConflictError):
        workspace.create_version("box", "1", body(image="different"))


def test_archive_of_missing_things_is_not_found(workspace: Workspace) -> None:
    workspace.create_version("here", "1", body())
    with pytest.raises(NotFoundError):
        workspace.set_archived("here", "9", True)
    with pytest.raises(NotFoundError):
        workspace.set_archived("nowhere", "1", True)
    with pytest.raises(NotFoundError):
        workspace.set_archived("nowhere", None, True)


# -- latest and next version ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "latest", "next_version"),
    [
        (["1", "2", "3"], "3", "4"),
        (["5", "2"], "2", "6"),  # latest is the last created, not the highest
        (["1", "2", "10"], "10", "11"),  # numeric, not text order
        (["foo", "bar", "baz"], "baz", "1"),  # nothing numeric: the counter starts at 1
        (["3", "v4", "1.5", "2024-01"], "2024-01", "4"),  # only plain integers count
        (["007"], "007", "8"),
    ],
)
def test_latest_and_next_version(
    workspace: Workspace, created: list[str], latest: str, next_version: str, timestamps: bool
) -> None:
    for v in created:
        workspace.create_version("count", v, body(image=f"img:{v}"))
    container = workspace.get_environment("count")
    assert container is not None and container.latest_version == latest
    expect_next(container, next_version, timestamps)
    listed = next(c for c in workspace.list_environments() if c.name == "count")
    assert stable(listed) == stable(container)


def test_archived_versions_still_count_for_next_version(workspace: Workspace, timestamps: bool) -> None:
    for v in ("1", "2"):
        workspace.create_version("count", v, body(image=v))
    workspace.set_archived("count", "2", True)
    container = workspace.get_environment("count")
    expect_next(container, "3", timestamps)


# -- curated ----------------------------------------------------------------------------------


def _assert_read_only(caught: pytest.ExceptionInfo[WorkspaceError]) -> None:
    # Curated names may hold dots ("…-pytorch-2.2-cuda12.1"), which the REST spec's PUT pattern
    # refuses: a service that checks the spec first answers 400 before its read-only rule.
    if caught.value.status == 400:
        assert "does not match ^[a-zA-Z0-9]" in str(caught.value)
        return
    assert caught.value.status == 403
    assert "curated environments are read-only" in str(caught.value)


def test_curated_environments_refuse_every_write(workspace: Workspace, holds_curated: bool) -> None:
    if not holds_curated:  # a registry holds none: a curated name resolves to nothing there
        assert workspace.get_environment(CATALOG[0].name) is None
        return
    name = curated_name(workspace)
    version = workspace.list_versions(name)[0]
    with pytest.raises(WorkspaceError) as caught:
        workspace.create_version(name, "999", body())
    _assert_read_only(caught)
    with pytest.raises(WorkspaceError) as caught:
        workspace.create_version(name, version.version, version.body)
    _assert_read_only(caught)
    with pytest.raises(WorkspaceError) as caught:
        workspace.update_version(name, version.version, description="mine", tags={})
    _assert_read_only(caught)
    with pytest.raises(WorkspaceError) as caught:
        workspace.set_archived(name, version.version, True)
    _assert_read_only(caught)
    with pytest.raises(WorkspaceError) as caught:
        workspace.set_archived(name, None, True)
    _assert_read_only(caught)
    with pytest.raises(WorkspaceError) as caught:
        workspace.update_environment(name, description="mine", tags={})
    _assert_read_only(caught)
    assert workspace.get_version(name, version.version) == version
    assert workspace.get_version(name, "999") is None


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "-leading-dash",
        "_leading",
        "has.dot",
        "has space",
        "a/b",
        "ümlaut",
        "x" * 256,
        "AzureML-mine",
        "Microsoft-x",
        "trailing-newline\n",
    ],
)
def test_invalid_or_reserved_names_are_refused(workspace: Workspace, name: str) -> None:
    with pytest.raises(WorkspaceError) as caught:
        workspace.create_version(name, "1", body())
    assert (caught.value.status, caught.value.code) == (400, "UserError")
    assert workspace.get_environment(name) is None


@pytest.mark.parametrize("version", ["1-<VERSION>", "../x", "a#b", "v 1", "latest", "2\n", ".1", "a:b"])
def test_versions_the_service_refuses_are_refused(workspace: Workspace, version: str) -> None:
    with pytest.raises(WorkspaceError) as caught:
        workspace.create_version("env", version, body())
    assert (caught.value.status, caught.value.code) == (400, "UserError"), caught.value
    assert workspace.get_environment("env") is None


@pytest.mark.parametrize("version", ["1", "22.02-py3", "v2_beta", "1.10", "x" * 255])
def test_versions_the_service_takes_are_accepted(workspace: Workspace, version: str) -> None:
    assert workspace.create_version("env", version, body()).version == version


@pytest.mark.parametrize("name", ["a", "0", "A-b_9", "x" * 255, "azure-ml", "MyAzureML"])
def test_valid_names_are_accepted(workspace: Workspace, name: str) -> None:
    assert workspace.create_version(name, "1", body()).name == name


# -- build contexts ---------------------------------------------------------------------------


def _context(root: Path) -> Path:
    context = root / "docker"
    (context / "sub").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM python:3.10\n")
    (context / "requirements.txt").write_text("numpy\n")
    (context / "sub" / "A.txt").write_text("x")
    return context


def test_upload_context_is_content_addressed(blob_workspace: Workspace, tmp_path: Path) -> None:
    context = _context(tmp_path)
    digest = context_digest(context)
    uri = blob_workspace.upload_context(context, digest, **FOR)
    assert uri.startswith("https://") and uri.endswith(f"/LocalUpload/{digest}/docker/")
    assert context_from_uri(uri) == digest
    dest = tmp_path / "back"
    dest.mkdir()
    blob_workspace.download_context(uri, dest, **FOR)
    assert (dest / "sub" / "A.txt").read_text() == "x"
    assert context_digest(dest) == digest


def test_upload_of_a_digest_already_there_is_a_no_op(blob_workspace: Workspace, tmp_path: Path) -> None:
    context = _context(tmp_path)
    digest = context_digest(context)
    uri = blob_workspace.upload_context(context, digest, **FOR)
    (context / "requirements.txt").write_text("pandas\n")  # same digest claimed: nothing is sent
    assert blob_workspace.upload_context(context, digest, **FOR) == uri
    dest = tmp_path / "back"
    dest.mkdir()
    blob_workspace.download_context(uri, dest, **FOR)
    assert (dest / "requirements.txt").read_text() == "numpy\n"


def test_an_uploaded_context_can_build_a_version(blob_workspace: Workspace, tmp_path: Path) -> None:
    context = _context(tmp_path)
    uri = blob_workspace.upload_context(context, context_digest(context), name="built", version="1")
    created = blob_workspace.create_version("built", "1", VersionBody(build=BuildContext(uri)))
    assert created.body.content().context == context_digest(context)


def test_download_of_a_context_never_uploaded_fails(blob_workspace: Workspace, tmp_path: Path) -> None:
    context = _context(tmp_path)
    uri = blob_workspace.upload_context(context, context_digest(context), **FOR)
    with pytest.raises(WorkspaceError, match="no build context blobs"):
        blob_workspace.download_context(uri.replace(context_digest(context), "0" * 64), tmp_path, **FOR)


# -- threads ----------------------------------------------------------------------------------


def test_one_workspace_serves_many_threads(workspace: Workspace) -> None:
    """The planner reads versions from a thread pool; writers may run alongside."""

    def work(i: int) -> int:
        workspace.create_version(f"t{i % 4}", str(i), body(image=f"img:{i}"))
        workspace.create_version("shared", "1", body())
        return len(workspace.list_versions(f"t{i % 4}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(n >= 1 for n in pool.map(work, range(32)))
    assert sorted(int(v) for n in range(4) for v in versions(workspace, f"t{n}")) == list(range(32))
    assert versions(workspace, "shared") == ["1"]
