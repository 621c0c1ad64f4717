"""Which files of a build context changed since the version a plan compares it with.

A workspace keeps a context as one digest; the files behind it are known only where they came
from. A version envsync created records its git commit (`envsync.commit`), so the old files are
that commit's tree under the context folder, compared with what an upload would send now (the
context walked as az ml walks it). Where that cannot be known (a version made outside envsync,
a commit missing from a shallow clone, no git) the change says why, rather than guess."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from envsync.content.context import context_files
from envsync.content.walk import ignore_spec
from envsync.errors import EnvsyncError
from envsync.gitops.changes import relative_to_top, run
from envsync.gitops.index import find_top
from envsync.plan.model import Action, Change, ContextFiles, ObservedState, Plan
from envsync.workspace import COMMIT_PROPERTY

SHOWN_COMMIT = 12  # hex digits of a commit in a message


def created(folder: Path) -> ContextFiles:
    """A new context: every file an upload sends is added."""
    try:
        return ContextFiles(added=tuple(sorted(_current(folder))), basis="a new build context")
    except EnvsyncError as e:
        return ContextFiles(unknown=str(e))


def since(top: Path | None, folder: Path, commit: str | None, version: str) -> ContextFiles:
    """`folder`'s files now against the same folder at `commit` (a version's envsync.commit)."""
    if commit is None:
        return ContextFiles(unknown=f"version {version} was not created by envsync from git")
    if top is None:
        return ContextFiles(unknown="not a git repository here")
    sha, dirty = commit.removesuffix("-dirty"), commit.endswith("-dirty")
    shown = sha[:SHOWN_COMMIT]
    rel = relative_to_top(folder, top)
    if rel is None:
        return ContextFiles(unknown="the build folder is outside the git repository")
    rel = "" if rel == "." else rel
    try:
        run(top, "cat-file", "-e", f"{sha}^{{commit}}")
    except EnvsyncError:
        return ContextFiles(
            unknown=f"commit {shown} is not in this clone (fetch its history, e.g. fetch-depth: 0)"
        )
    try:
        old, now = _filtered(folder, _tree(top, sha, rel)), _current(folder)
        touched = _touched(top, sha, rel)
    except EnvsyncError as e:  # an unreadable context: the plan reports it where it loads
        return ContextFiles(unknown=str(e))
    basis = f"commit {shown}" + (", which had uncommitted changes then: approximate" if dirty else "")
    return ContextFiles(
        added=tuple(sorted(now - old)),
        removed=tuple(sorted(old - now)),
        modified=tuple(sorted(now & old & touched)),
        basis=basis,
    )


def _current(folder: Path) -> set[str]:
    return {f.relpath for f in context_files(folder)}


def _tree(top: Path, sha: str, rel: str) -> set[str]:
    listed = run(top, "ls-tree", "-r", "-z", "--name-only", "--full-tree", sha, "--", _spec(rel))
    return {_below(p, rel) for p in listed.split("\0") if p}


def _touched(top: Path, sha: str, rel: str) -> set[str]:
    """Paths whose working-tree content differs from `sha`'s (git's stat cache makes it cheap)."""
    listed = run(top, "diff", "-z", "--name-only", "--no-renames", sha, "--", _spec(rel))
    return {_below(p, rel) for p in listed.split("\0") if p}


def _filtered(folder: Path, paths: set[str]) -> set[str]:
    """`paths`, without what the context's ignore file leaves out of an upload."""
    spec = ignore_spec(folder)
    return {p for p in paths if spec is None or not spec.match_file(p)}


def _spec(rel: str) -> str:
    return f"{rel}/" if rel else "."


def _below(path: str, rel: str) -> str:
    return path[len(rel) + 1 :] if rel else path


REMOTE = "a remote build context (a URL): its files cannot be compared"


def annotate(plan: Plan, observed: ObservedState, root: Path) -> Plan:
    """`plan`, each change of a build context carrying which of its files changed."""
    found = {}
    top: list[Path | None] = []  # looked up once, on the first change that needs it
    for change in plan.changes:
        if _context_changed(change):
            if not top:
                top.append(find_top(root))
            found[id(change)] = _files(change, observed, root, top[0])
    if not found:
        return plan
    changes = tuple(replace(c, context_files=found[id(c)]) if id(c) in found else c for c in plan.changes)
    return replace(plan, changes=changes)


def _context_changed(change: Change) -> bool:
    build = (change.after or {}).get("build")
    if build is None or change.action in (Action.NOOP, Action.ORPHAN, Action.UPDATE, Action.RESTORE):
        return False
    old = (change.before or {}).get("build")
    return old is None or old.get("context") != build.get("context")


def _files(change: Change, observed: ObservedState, root: Path, top: Path | None) -> ContextFiles:
    build = (change.after or {})["build"]
    if "path" not in build:
        return ContextFiles(unknown=REMOTE)
    folder = root / build["path"]
    base = observed.environment(change.name).get(change.base_version) if change.base_version else None
    if base is None or base.body.build is None:
        return created(folder)
    commit = base.body.properties.get(COMMIT_PROPERTY)
    return since(top, folder, commit, base.version)
