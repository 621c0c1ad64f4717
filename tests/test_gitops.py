"""gitops on real git repositories in tmp_path, with a pinned identity."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import git
import pytest

from envsync import config
from envsync.errors import GitError
from envsync.gitops import changes
from envsync.gitops import git as gitops
from envsync.spec.load import load_all
from tests.helpers import commit

ENVS = {
    "environments/base.yml": "name: base\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\n",
    "environments/sk.yml": "name: sk\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\n"
    "conda_file: sk/conda.yml\n",
    "environments/sk/conda.yml": "name: sk-conda\nchannels: [conda-forge]\ndependencies: [python=3.10]\n",
    "environments/torch.yml": "name: torch\nbuild:\n  path: torch\n",
    "environments/torch/Dockerfile": "FROM python:3.11-slim\nCOPY requirements.txt .\n",
    "environments/torch/requirements.txt": "numpy==1.26.4\n",
}


@pytest.fixture(autouse=True)
def _identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The same identity and no user or system git config, on every machine."""
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "envsync tests")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "tests@envsync.invalid")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def write(top: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    r = git.Repo.init(tmp_path / "repo", initial_branch="main")
    write(Path(r.working_dir), ENVS)
    commit(r, "seed")
    return r


def top(repo: git.Repo) -> Path:
    return Path(repo.working_dir)


def names(specs: object) -> list[str]:
    return sorted(s.name for s in specs)  # type: ignore[attr-defined]


def specs(root: Path):  # type: ignore[no-untyped-def]
    loaded = load_all(config.load(root))
    assert not loaded.errors, loaded.errors
    return loaded.specs


def test_repo_at_searches_parents_and_is_none_outside(repo: git.Repo, tmp_path: Path) -> None:
    found = gitops.repo_at(top(repo) / "environments" / "torch")
    assert found is not None and Path(found.working_dir) == top(repo)
    outside = tmp_path / "plain"
    outside.mkdir()
    assert gitops.repo_at(outside) is None


def test_committed_change_on_a_branch(repo: git.Repo) -> None:
    repo.git.checkout(b="feature")
    (top(repo) / "environments/base.yml").write_text("name: base\nimage: other:1\n")
    commit(repo, "bump base")
    changed = changes.changed_paths(top(repo), "main")
    assert changed.changed == ("environments/base.yml",)
    assert changed.deleted == ()
    assert changed.base == repo.commit("main").hexsha


def test_merge_base_ignores_commits_that_landed_on_the_base_branch(repo: git.Repo) -> None:
    repo.git.checkout(b="feature")
    (top(repo) / "environments/base.yml").write_text("name: base\nimage: other:1\n")
    commit(repo, "feature change")
    repo.git.checkout("main")
    (top(repo) / "environments/torch.yml").write_text("name: torch\nbuild:\n  path: torch\ndescription: d\n")
    commit(repo, "main moved on")
    repo.git.checkout("feature")
    # Like a pull request: only what the branch did, not main's newer commit shown reverted.
    assert changes.changed_paths(top(repo), "main").changed == ("environments/base.yml",)


@pytest.mark.parametrize("ref", ["HEAD~1", "v1", "SHA"])
def test_refs_by_expression_tag_and_sha(repo: git.Repo, ref: str) -> None:
    seed = repo.head.commit.hexsha
    repo.create_tag("v1")
    (top(repo) / "environments/base.yml").write_text("name: base\nimage: other:1\n")
    commit(repo, "change")
    changed = changes.changed_paths(top(repo), seed if ref == "SHA" else ref)
    assert changed.changed == ("environments/base.yml",)
    assert changed.base == seed


def test_staged_unstaged_and_untracked_all_count(repo: git.Repo) -> None:
    (top(repo) / "environments/base.yml").write_text("name: base\nimage: staged:1\n")
    repo.git.add("environments/base.yml")
    (top(repo) / "environments/sk.yml").write_text(ENVS["environments/sk.yml"] + "description: edit\n")
    write(top(repo), {"environments/new.yml": "name: new\nimage: x:1\n"})
    changed = changes.changed_paths(top(repo), "HEAD")
    assert changed.changed == ("environments/base.yml", "environments/new.yml", "environments/sk.yml")
    assert names(changes.select_affected(specs(top(repo)), changed, top(repo))) == ["base", "new", "sk"]


def test_ignored_files_do_not_count(repo: git.Repo) -> None:
    write(top(repo), {".gitignore": "*.log\n"})
    commit(repo, "ignore logs")
    write(top(repo), {"environments/build.log": "noise\n"})
    assert changes.changed_paths(top(repo), "HEAD").changed == ()


def test_rename_is_a_delete_plus_an_add(repo: git.Repo) -> None:
    repo.git.checkout(b="rename")
    repo.git.mv("environments/base.yml", "environments/base-cpu.yml")
    commit(repo, "rename")
    changed = changes.changed_paths(top(repo), "main")
    assert changed.changed == ("environments/base-cpu.yml",)
    assert changed.deleted == ("environments/base.yml",)
    assert names(changes.select_affected(specs(top(repo)), changed, top(repo))) == ["base"]
    # The name lives on in the new file: not an environment that went away.
    assert changes.deleted_environment_names(top(repo), changed, top(repo), defined={"base"}) == ()
    assert changes.deleted_environment_names(top(repo), changed, top(repo)) == ("base",)


def test_uncommitted_move_is_a_delete_plus_an_untracked_add(repo: git.Repo) -> None:
    shutil.move(top(repo) / "environments/base.yml", top(repo) / "environments/b.yml")
    changed = changes.changed_paths(top(repo), "HEAD")
    assert (changed.changed, changed.deleted) == (("environments/b.yml",), ("environments/base.yml",))


def test_deleted_environment_names_read_the_yaml_at_the_merge_base(repo: git.Repo) -> None:
    repo.git.checkout(b="cleanup")
    repo.git.rm("-r", "environments/torch.yml", "environments/torch")
    write(top(repo), {"environments/sk.yml": "name: sk\nimage: x:1\n"})  # conda file no longer used
    repo.git.rm("environments/sk/conda.yml")
    write(top(repo), {"environments/broken.yml": "name: [unclosed\n"})
    commit(repo, "broken file")
    repo.git.rm("environments/broken.yml")
    commit(repo, "cleanup")
    changed = changes.changed_paths(top(repo), "main")
    assert "environments/sk/conda.yml" in changed.deleted  # has a `name`, but is no environment
    assert changes.deleted_environment_names(top(repo), changed, top(repo)) == ("torch",)


def test_conda_file_changed_on_its_own(repo: git.Repo) -> None:
    write(top(repo), {"environments/sk/conda.yml": ENVS["environments/sk/conda.yml"].replace("3.10", "3.11")})
    changed = changes.changed_paths(top(repo), "HEAD")
    assert changed.changed == ("environments/sk/conda.yml",)
    assert names(changes.select_affected(specs(top(repo)), changed, top(repo))) == ["sk"]


def test_build_context_file_changed_on_its_own(repo: git.Repo) -> None:
    write(top(repo), {"environments/torch/requirements.txt": "numpy==2.0.0\n"})
    changed = changes.changed_paths(top(repo), "HEAD")
    assert names(changes.select_affected(specs(top(repo)), changed, top(repo))) == ["torch"]


def test_a_sibling_with_a_common_prefix_is_not_the_context(repo: git.Repo) -> None:
    write(top(repo), {"environments/torchvision/x.txt": "x\n"})
    changed = changes.changed_paths(top(repo), "HEAD")
    assert changes.select_affected(specs(top(repo)), changed, top(repo)) == ()


def test_untracked_new_environment(repo: git.Repo) -> None:
    write(top(repo), {"environments/team/new.yml": "name: new\nimage: x:1\n"})
    changed = changes.changed_paths(top(repo), "HEAD")
    assert changed.changed == ("environments/team/new.yml",)
    assert names(changes.select_affected(specs(top(repo)), changed, top(repo))) == ["new"]


@pytest.mark.parametrize("ref", ["nope", "origin/main", "HEAD~5", "0" * 40])
def test_bad_ref(repo: git.Repo, ref: str) -> None:
    with pytest.raises(GitError, match=f"^unknown git ref '{ref}'$"):
        changes.changed_paths(top(repo), ref)


def test_envsync_root_in_a_subfolder(tmp_path: Path) -> None:
    r = git.Repo.init(tmp_path / "mono", initial_branch="main")
    write(Path(r.working_dir), {f"infra/{k}": v for k, v in ENVS.items()} | {"app/main.py": "print()\n"})
    commit(r, "seed")
    root = Path(r.working_dir) / "infra"
    write(root, {"environments/torch/Dockerfile": "FROM python:3.12-slim\n"})
    changed = changes.changed_paths(top(r), "HEAD")
    assert changed.changed == ("infra/environments/torch/Dockerfile",)
    assert names(changes.select_affected(specs(root), changed, root)) == ["torch"]


def test_provenance_clean_and_dirty(repo: git.Repo) -> None:
    head = repo.head.commit.hexsha
    yml = top(repo) / "environments/sk.yml"
    assert gitops.provenance(repo, top(repo), yml) == gitops.Provenance(head, "environments/sk.yml", False)
    write(top(repo), {"plan.json": "{}"})  # CI output outside the environments: still clean
    assert not gitops.provenance(repo, top(repo), yml).dirty
    write(top(repo), {"environments/new.yml": "name: new\nimage: x:1\n"})
    assert gitops.provenance(repo, top(repo), yml).commit == head + "-dirty"
    (top(repo) / "environments/new.yml").unlink()
    write(top(repo), {"README.md": "tracked files anywhere count\n"})
    repo.git.add("README.md")
    assert gitops.provenance(repo, top(repo), Path("environments/sk.yml")).dirty
    assert gitops.is_dirty(repo)


def test_provenance_outside_git(tmp_path: Path) -> None:
    found = gitops.provenance(None, tmp_path, tmp_path / "environments/a.yml")
    assert found == gitops.Provenance(None, "environments/a.yml", False)


@pytest.mark.parametrize(
    ("path", "pattern", "expected"),
    [
        ("environments/a.yml", "environments/**/*.yml", True),
        ("environments/x/y/a.yml", "environments/**/*.yml", True),
        ("environments/a.yaml", "environments/**/*.yml", False),
        ("environments/x/a.yml", "environments/*.yml", False),
        ("other/a.yml", "environments/**/*.yml", False),
        ("a.yml", "**/*.yml", True),
        ("environments/.hidden.yml", "environments/*.yml", True),
        ("environments/a.yml", "./environments/a.yml", True),
    ],
)
def test_glob_match(path: str, pattern: str, expected: bool) -> None:
    assert changes.glob_match(path, pattern) is expected


def test_a_shallow_clone_without_the_merge_base_says_so(repo: git.Repo, tmp_path: Path) -> None:
    repo.git.checkout(b="feature")
    write(top(repo), {"environments/base.yml": "name: base\nimage: other:1\n"})
    commit(repo, "feature")
    repo.git.checkout("main")
    write(top(repo), {"environments/torch/requirements.txt": "numpy==2.0.0\n"})
    commit(repo, "main moved on")
    # What actions/checkout does by default: depth 1.
    shallow = git.Repo.clone_from(
        f"file://{top(repo)}", tmp_path / "shallow", depth=1, no_single_branch=True, branch="feature"
    )
    with pytest.raises(GitError, match="no common history .*fetch-depth: 0"):
        changes.changed_paths(top(shallow), "origin/main")


def test_provenance_from_many_threads_at_once(repo: git.Repo) -> None:
    # apply records provenance from its worker threads; a shared git pipe used to deadlock here.
    from concurrent.futures import ThreadPoolExecutor

    yml = top(repo) / "environments/sk.yml"
    pool = ThreadPoolExecutor(max_workers=8)
    try:  # a deadlock fails the test after the timeout instead of hanging the run
        found = list(pool.map(lambda _: gitops.provenance(repo, top(repo), yml), range(32), timeout=30))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert {p.commit for p in found} == {repo.head.commit.hexsha}
