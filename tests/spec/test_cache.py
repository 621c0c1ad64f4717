"""The validation cache: unchanged files cost a lookup, and a run with it finds exactly what a run
without it finds, whatever changed in between (real git repositories, real SQLite files)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git
import pytest

from envsync.commands.common import App
from envsync.commands.reporting import load_checked
from envsync.errors import SpecError
from envsync.spec import load as load_module
from envsync.spec.load import LoadResult
from envsync.spec.store import FILE, Store
from tests.helpers import commit, write_context, write_env

CACHE = Path(".envsync") / FILE


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files each run actually loads (a cache miss), in order."""
    seen: list[Path] = []
    real = load_module.load_file

    def counting(path: Path, **kwargs: Any) -> Any:
        seen.append(path)
        return real(path, **kwargs)

    monkeypatch.setattr(load_module, "load_file", counting)
    return seen


def load(root: Path) -> LoadResult:
    """One run's load, as a command does it (a fresh walk and git snapshot)."""
    return App(root).load_all()


def summary(result: LoadResult) -> tuple[object, ...]:
    specs = tuple(
        (s.name, s.version, s.fingerprint, s.description, dict(s.tags), str(s.source), s.build)
        for s in result.specs
    )
    return specs, tuple(str(p) for p in result.problems)


def uncached(root: Path, monkeypatch: pytest.MonkeyPatch) -> LoadResult:
    with monkeypatch.context() as patch:
        patch.setenv("ENVSYNC_NO_CACHE", "1")
        patch.setattr("envsync.spec.store._OPENED", {})
        return load(root)


def test_a_second_run_parses_nothing_and_finds_the_same(
    git_sample: git.Repo, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(git_sample.working_dir)
    first = load(root)
    assert len(parses) == 3 and (root / CACHE).is_file()
    parses.clear()
    second = load(root)
    assert parses == []
    assert summary(second) == summary(first) == summary(uncached(root, monkeypatch))
    assert second.specs[0].fingerprint == first.specs[0].fingerprint
    assert not git_sample.is_dirty(untracked_files=True)  # .envsync/ keeps itself out of git


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "uncommitted"])
def test_an_edited_file_is_loaded_again(
    git_sample: git.Repo, parses: list[Path], monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    root = Path(git_sample.working_dir)
    load(root)
    parses.clear()
    write_env(root, "base-cpu", version="1", description="edited", tags={"team": "ml"})
    if committed:
        commit(git_sample, "edit")
    got = load(root)
    assert [p.name for p in parses] == ["base-cpu.yml"]
    assert {s.name: s.description for s in got.specs}["base-cpu"] == "edited"
    assert summary(got) == summary(uncached(root, monkeypatch))


def test_a_broken_file_stays_broken_from_the_cache(git_sample: git.Repo, parses: list[Path]) -> None:
    root = Path(git_sample.working_dir)
    (root / "environments" / "bad.yml").write_text("name: bad\nimage: [unclosed\n")
    first = load(root)
    parses.clear()
    second = load(root)
    assert parses == [] and first.errors and [str(p) for p in second.errors] == [str(p) for p in first.errors]
    with pytest.raises(SpecError, match="1 problem in environment files"):
        load_checked(App(root), annotate=False, title="plan")


def test_an_edited_conda_file_reloads_the_environment_using_it(
    tmp_path: Path, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = git.Repo.init(tmp_path, initial_branch="main")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "conda.yaml").write_text("dependencies:\n  - python=3.10\n")
    write_env(tmp_path, "py", conda_file="conda.yaml")
    commit(repo, "seed")
    first = load(tmp_path)
    (tmp_path / "environments" / "conda.yaml").write_text("dependencies:\n  - python=3.11\n")
    parses.clear()
    second = load(tmp_path)
    assert sorted(p.name for p in parses) == ["conda.yaml", "py.yml"]
    assert first.specs[0].fingerprint != second.specs[0].fingerprint
    assert summary(second) == summary(uncached(tmp_path, monkeypatch))
    (tmp_path / "environments" / "conda.yaml").unlink()  # now missing: an error, not a stale hit
    assert [p.message for p in load(tmp_path).errors] == ["conda file 'conda.yaml' not found"]


def context_digest_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    from envsync.content import context

    calls: list[Path] = []
    real = context.context_digests

    def counting(folder: Path) -> Any:
        calls.append(folder)
        return real(folder)

    monkeypatch.setattr(context, "context_digests", counting)
    return calls


CONTEXT_EDITS: dict[str, Callable[[Path], None]] = {
    "edited file": lambda ctx: (ctx / "requirements.txt").write_text("numpy==2.0.0\n"),
    "untracked file": lambda ctx: (ctx / "extra.txt").write_text("x"),
    "ignored file": lambda ctx: (ctx / "cache.pyc").write_text("x"),
    "empty folder": lambda ctx: (ctx / "empty").mkdir(),
    "deleted file": lambda ctx: (ctx / "requirements.txt").unlink(),
}


@pytest.mark.parametrize("edit", CONTEXT_EDITS, ids=list(CONTEXT_EDITS))
def test_a_build_context_is_named_by_git_only_while_clean(
    git_sample: git.Repo, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    root = Path(git_sample.working_dir)
    (root / ".gitignore").write_text(".envsync/\n*.json\n*.pyc\n")
    commit(git_sample, "ignore pyc")
    calls = context_digest_calls(monkeypatch)
    first = load(root)
    assert len(calls) == 1
    calls.clear()
    assert summary(load(root)) == summary(first) and calls == []  # clean: its tree names it
    CONTEXT_EDITS[edit](root / "environments" / "torch")
    got = load(root)
    assert len(calls) == 1, "a context git cannot vouch for is hashed again"
    assert summary(got) == summary(uncached(root, monkeypatch))
    if edit != "empty folder":  # an empty folder changes az ml's object hash only
        assert _torch(got).build != _torch(first).build


def _torch(result: LoadResult) -> Any:
    return next(s for s in result.specs if s.name == "torch")


def test_a_context_shared_by_two_commits_is_hashed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = git.Repo.init(tmp_path, initial_branch="main")
    write_context(tmp_path, "ctx")
    write_env(tmp_path, "a", build={"path": "ctx"})
    write_env(tmp_path, "b", build={"path": "ctx"}, description="b")
    commit(repo, "seed")
    calls = context_digest_calls(monkeypatch)
    got = load(tmp_path)
    assert len(calls) == 1 and got.specs[0].build == got.specs[1].build


def test_outside_git_with_the_opt_out_files_are_hashed(tmp_path: Path, parses: list[Path]) -> None:
    write_env(tmp_path, "a")
    App(tmp_path, no_git=True).load_all()
    parses.clear()
    App(tmp_path, no_git=True).load_all()
    assert parses == []
    write_env(tmp_path, "a", description="changed")
    assert App(tmp_path, no_git=True).load_all().specs[0].description == "changed"


def test_outside_git_nothing_is_written(tmp_path: Path, parses: list[Path]) -> None:
    write_env(tmp_path, "a")
    (tmp_path / "envsync.yaml").write_text("concurrency: 4\n")
    assert load(tmp_path).specs and load(tmp_path).specs
    assert len(parses) == 2  # no cache: loaded afresh each time
    assert not (tmp_path / ".envsync").exists()


def test_a_corrupt_cache_file_is_rebuilt(git_sample: git.Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(git_sample.working_dir)
    expected = summary(load(root))
    monkeypatch.setattr("envsync.spec.store._OPENED", {})
    (root / CACHE).write_bytes(b"this is not a database" * 100)
    assert summary(load(root)) == expected
    rows = sqlite3.connect(root / CACHE).execute("SELECT kind, count(*) FROM entries GROUP BY kind")
    assert dict(rows.fetchall()) == {"spec": 3, "context": 1}


def test_a_damaged_row_is_a_miss(git_sample: git.Repo, parses: list[Path]) -> None:
    root = Path(git_sample.working_dir)
    expected = summary(load(root))
    with sqlite3.connect(root / CACHE) as db:
        db.execute("UPDATE entries SET value = replace(value, 'Base image', 'Forged') WHERE kind = 'spec'")
    parses.clear()
    assert summary(load(root)) == expected
    assert [p.name for p in parses] == ["base-cpu.yml"]


def test_rows_of_another_envsync_are_never_used(git_sample: git.Repo, parses: list[Path]) -> None:
    root = Path(git_sample.working_dir)
    load(root)
    other = Store.open(root / ".envsync", "another envsync version")
    assert other is not None and other.read("spec") == {}  # it dropped this version's rows
    rows = [("spec", "environments/base-cpu.yml", "k", "{}")]
    other.write(rows)  # ... and writes its own, racing this version
    parses.clear()
    load(root)
    assert len(parses) == 3


def test_concurrent_runs_share_the_file(git_sample: git.Repo) -> None:
    root = Path(git_sample.working_dir)
    expected = summary(load(root))
    (root / CACHE).unlink()
    results: list[tuple[object, ...]] = []

    def run() -> None:
        store = Store.open(root / ".envsync", "shared")  # each thread its own connection
        from envsync.gitops.index import GitKeys
        from envsync.spec.cache import SpecCache

        app = App(root)
        cache = SpecCache(app.config.root, GitKeys(app.git, app.files), store)
        results.append(summary(load_module.load_all(app.config, cache=cache, files=app.files)))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_no_cache_when_disabled_or_unwritable(
    git_sample: git.Repo, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(git_sample.working_dir)
    monkeypatch.setenv("ENVSYNC_NO_CACHE", "1")
    load(root)
    assert not (root / ".envsync").exists()
    monkeypatch.delenv("ENVSYNC_NO_CACHE")
    (root / ".envsync").write_text("a file where the folder should be")
    parses.clear()
    assert summary(load(root)) == summary(load(root))
    assert len(parses) == 6


def test_a_config_that_passed_is_not_validated_again(
    git_sample: git.Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(git_sample.working_dir)
    (root / "envsync.yaml").write_text("concurrency: 4\n")
    assert App(root).config.concurrency == 4
    monkeypatch.setattr("envsync.config.validator", lambda name: pytest.fail("validated again"))
    assert App(root).config.concurrency == 4
    (root / "envsync.yaml").write_text("concurrency: many\n")
    with pytest.raises(pytest.fail.Exception):
        App(root).config  # noqa: B018  changed: validated afresh


def test_every_field_of_a_result_is_stored() -> None:
    """A field added to a spec (a policy verdict, say) must be stored too, or the cache would
    hand back results without it: until loaded.py stores it, the cache stores nothing."""
    from envsync.spec import loaded

    assert loaded.STORABLE


def test_policy_verdicts_come_back_from_the_cache_and_follow_the_policy(
    git_sample: git.Repo, parses: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(git_sample.working_dir)
    write_env(root, "latest", image="python:latest")
    (root / "envsync.yaml").write_text("policy:\n  rules:\n    image-mutable-tag: error\n")
    first = load(root).with_policy("")
    assert [p.rule for p in first.errors] == ["image-mutable-tag"]
    parses.clear()
    second = load(root).with_policy("")
    assert parses == [] and [str(p) for p in second.problems] == [str(p) for p in first.problems]
    assert [str(p) for p in uncached(root, monkeypatch).with_policy("").problems] == [
        str(p) for p in first.problems
    ]
    (root / "envsync.yaml").write_text('policy:\n  rules:\n    image-mutable-tag: "off"\n')
    parses.clear()
    third = load(root).with_policy("")
    assert len(parses) == 4 and not third.errors  # another policy: every result made again
