"""What only the embedded SQLite workspace promises: several processes on one file, the schema
version, curated seeding, monotonic creation times, and the blob API the emulator serves. The
Azure ML rules themselves are in tests/contract (run against this backend too)."""

from __future__ import annotations

import multiprocessing
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from envsync.content.context import context_digest, context_files
from envsync.errors import ConflictError, WorkspaceError
from envsync.workspace import ListView, VersionBody
from envsync.workspace.local.curated import CATALOG
from envsync.workspace.local.workspace import LocalWorkspace

PROCESSES, CREATES = 4, 50
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _worker(path: str, me: int, start: Any, results: Any) -> None:
    """One process: creates everyone makes identically, creates of its own, and contested ones
    (same version, different content). Each starts at its own offset, spreading the contests."""
    outcomes: list[tuple[str, str]] = []
    try:
        start.wait(60)
        ws = LocalWorkspace(path)  # after the barrier: creating the schema is raced too
        for i in ((n + me * CREATES // PROCESSES) % CREATES for n in range(CREATES)):
            ws.create_version("shared", str(i), VersionBody(image=f"img:{i}"))
            ws.create_version(f"own-{me}", str(i), VersionBody(image=f"img:{me}:{i}"))
            try:
                ws.create_version("contested", str(i), VersionBody(image=f"winner:{me}"))
                outcomes.append(("won", str(i)))
            except ConflictError:
                outcomes.append(("lost", str(i)))
            time.sleep(0.001)  # other work, as a real process does: SQLite's lock is not fair
        ws.close()
    except Exception as e:  # anything else is a failure the parent must see, "database is locked" first
        outcomes.append(("error", f"{type(e).__name__}: {e}"))
    results.put((me, outcomes))


def _run_workers(path: Path) -> dict[int, list[tuple[str, str]]]:
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(path), me, start, results)) for me in range(PROCESSES)]
    for p in procs:
        p.start()
    try:
        return dict(results.get(timeout=120) for _ in procs)
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()


def test_processes_sharing_one_file_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "new" / "workspace.db"  # not there yet: the processes race to create it
    outcomes = _run_workers(path)
    assert [o for found in outcomes.values() for o in found if o[0] == "error"] == []
    winners = Counter(v for found in outcomes.values() for kind, v in found if kind == "won")
    assert winners == Counter({str(i): 1 for i in range(CREATES)})  # one create wins, the rest get 409

    ws = LocalWorkspace(path)
    assert sorted(int(v.version) for v in ws.list_versions("shared")) == list(range(CREATES))
    for me in range(PROCESSES):
        own = ws.list_versions(f"own-{me}")
        assert sorted(int(v.version) for v in own) == list(range(CREATES))
        assert all(v.body.image == f"img:{me}:{v.version}" for v in own)
    for v in ws.list_versions("contested"):
        assert ("won", v.version) in outcomes[int((v.body.image or "").rsplit(":", 1)[1])]
    created = [v.created for c in ws.list_environments() if not c.curated for v in ws.list_versions(c.name)]
    assert len(created) == CREATES * (PROCESSES + 2) == len(set(created))
    assert sum(1 for c in ws.list_environments() if c.curated) == len(CATALOG)
    by_time = sorted((v.created, me) for me in range(PROCESSES) for v in ws.list_versions(f"own-{me}"))
    switches = sum(1 for a, b in zip(by_time, by_time[1:], strict=False) if a[1] != b[1])
    assert switches > 4 * PROCESSES  # the processes really wrote in turns, not one after another
    ws.close()


# -- opening and the schema -------------------------------------------------------------------


def test_opening_creates_parent_folders_and_names_its_target(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "workspace.db"
    ws = LocalWorkspace(path)
    assert path.is_file() and ws.target == f"local:{path}"
    ws.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    LocalWorkspace(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match="schema version 99 is newer than this envsync supports"):
        LocalWorkspace(path)


def test_files_that_are_not_workspaces_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(WorkspaceError, match="junk.db"):
        LocalWorkspace(junk)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(WorkspaceError, match="not an envsync workspace"):
        LocalWorkspace(other)


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    LocalWorkspace(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_closed_workspace_raises_a_workspace_error(tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / "workspace.db")
    ws.close()
    with pytest.raises(WorkspaceError):
        ws.get_environment("x")


# -- curated seeding --------------------------------------------------------------------------


def _curated(ws: LocalWorkspace) -> dict[str, list[str]]:
    return {
        c.name: [v.version for v in ws.list_versions(c.name, ListView.ALL)]
        for c in ws.list_environments()
        if c.curated
    }


def test_curated_seeding_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    first = LocalWorkspace(path)
    seeded = _curated(first)
    assert seeded == {env.name: [v for v, _ in reversed(env.versions)] for env in CATALOG}
    first.close()
    second = LocalWorkspace(path)
    assert _curated(second) == seeded
    second.close()


def test_curated_seeding_repairs_a_partial_catalog(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    seeded = _curated(LocalWorkspace(path))
    name = CATALOG[0].name
    with sqlite3.connect(path) as db:  # as if an older envsync had seeded fewer versions
        db.execute("DELETE FROM versions WHERE name = ? AND version = ?", (name, CATALOG[0].versions[-1][0]))
        db.execute("DELETE FROM meta WHERE key = 'curated_seed'")
    assert _curated(LocalWorkspace(path)) == seeded


def test_curated_versions_carry_catalog_images_and_times(tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / "workspace.db")
    env = CATALOG[0]
    version, created = env.versions[-1]
    found = ws.get_version(env.name, version)
    assert found is not None and found.curated and found.created == created
    assert found.body.image == f"{env.image}:{version}"


# -- creation times ---------------------------------------------------------------------------


def test_created_is_utc_with_microseconds_and_strictly_increasing(tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / "workspace.db")
    made = [ws.create_version("t", str(i), VersionBody(image="x")).created for i in range(20)]
    assert all(TIMESTAMP.match(c) for c in made)
    assert made == sorted(made) and len(set(made)) == len(made)


def test_created_stays_monotonic_when_the_clock_steps_back(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    ws = LocalWorkspace(path)
    ws.create_version("t", "1", VersionBody(image="x"))
    future = "2999-01-01T00:00:00.000000Z"  # as if an earlier writer's clock ran far ahead
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'clock'", (future,))
    created = ws.create_version("t", "2", VersionBody(image="x")).created
    assert created == "2999-01-01T00:00:00.000001Z"
    assert [v.version for v in ws.list_versions("t")] == ["2", "1"]


# -- blobs ------------------------------------------------------------------------------------


def test_blob_api(tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / "workspace.db")
    ws.put_blob("c", "LocalUpload/a%b/x_1.txt", b"one", {"k": "v"})
    ws.put_blob("c", "LocalUpload/a%b/y.txt", b"two", {})
    ws.put_blob("c", "LocalUploadX/z.txt", b"three", {})
    ws.put_blob("other", "LocalUpload/a%b/x_1.txt", b"elsewhere", {})
    assert ws.get_blob("c", "LocalUpload/a%b/x_1.txt") == (b"one", {"k": "v"})
    assert ws.list_blobs("c", "LocalUpload/a%b/") == ["LocalUpload/a%b/x_1.txt", "LocalUpload/a%b/y.txt"]
    assert ws.list_blobs("c") == ["LocalUpload/a%b/x_1.txt", "LocalUpload/a%b/y.txt", "LocalUploadX/z.txt"]
    ws.set_blob_metadata("c", "LocalUpload/a%b/y.txt", {"upload_status": "completed"})
    assert ws.get_blob("c", "LocalUpload/a%b/y.txt") == (b"two", {"upload_status": "completed"})
    ws.put_blob("c", "LocalUpload/a%b/y.txt", b"2", {})  # Put Blob replaces metadata too
    assert ws.get_blob("c", "LocalUpload/a%b/y.txt") == (b"2", {})
    assert ws.get_blob("c", "missing") is None
    with pytest.raises(WorkspaceError) as caught:
        ws.set_blob_metadata("c", "missing", {})
    assert caught.value.status == 404


def test_upload_lays_blobs_out_as_az_ml_does(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    (context / "sub").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM python:3.10\n")
    (context / "sub" / "a.txt").write_text("a")
    digest = context_digest(context)
    ws = LocalWorkspace(tmp_path / "workspace.db")
    uri = ws.upload_context(context, digest)
    assert uri == f"https://envsynclocal.blob.core.windows.net/workspaceblobstore/LocalUpload/{digest}/ctx/"
    files = context_files(context)
    prefix = f"LocalUpload/{digest}/ctx/"
    assert ws.list_blobs("workspaceblobstore", prefix) == sorted(prefix + f.relpath for f in files)
    indicator = ws.get_blob("workspaceblobstore", prefix + files[0].relpath)
    assert indicator is not None and indicator[1] == {"upload_status": "completed"}


def test_download_refuses_contexts_stored_elsewhere(tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / "workspace.db")
    uri = f"https://someaccount.blob.core.windows.net/azureml/LocalUpload/{'a' * 64}/ctx/"
    with pytest.raises(WorkspaceError, match="not a folder in the datastore's container"):
        ws.download_context(uri, tmp_path)
