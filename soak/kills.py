"""SIGKILL at every request of a 10-environment apply, deterministically: the emulator holds
request N until the apply process is dead, then completes it (the work done, the answer lost).
After each kill, apply runs again and the workspace must converge. When the held request was a
write, the kill is repeated with the commit that added the new environments reverted before the
re-run: whatever the killed apply created of them is an orphan to find and archive, record or
not."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

from harness import (
    IMAGE,
    Envsync,
    Tally,
    commit,
    context_env,
    emulator_secrets,
    image_env,
    new_repo,
    write_env,
)

from envsync.emulator.server import EmulatorHandle, start_emulator

APPLY = ("apply", "--auto-approve", "--prune", "--concurrency", "1")


def repos(tmp: Path, envs: int) -> tuple[Path, Path, Path]:
    """Before: `envs` environments. After: two deleted (orphans), two new, three with new
    content (one a build context), two retagged. Reverted: after, without the two new ones."""
    before = new_repo(tmp / "before", concurrency=1)
    for i in range(envs):
        write(before, i, "v0", "a")
    commit(before, "before")
    after = new_repo(tmp / "after", concurrency=1)
    for i in range(envs - 2):
        write(after, i, "v1" if i < 3 else "v0", "b" if 3 <= i < 5 else "a")
    for i in (envs, envs + 1):
        write(after, i, "v0", "a")
    commit(after, "after")
    reverted = new_repo(tmp / "reverted", concurrency=1)
    shutil.copytree(after / "environments", reverted / "environments", dirs_exist_ok=True)
    for i in (envs, envs + 1):
        (reverted / "environments" / f"env-{i:02d}.yml").unlink()
    commit(reverted, "after, with the new environments reverted")
    return before, after, reverted


def write(root: Path, i: int, content: str, tag: str) -> None:
    name = f"env-{i:02d}"
    if i == 1:  # a build context: its upload is part of the apply
        write_env(root, name, context_env(root, name, content) + f"tags:\n  t: {tag}\n")
    else:
        write_env(root, name, image_env(f"{IMAGE}-{content}", {"t": tag}))


def kills(tmp: Path, envs: int) -> Tally:
    tally = Tally()
    before, after, reverted = repos(tmp, envs)
    baseline = tmp / "baseline.db"
    with start_emulator(baseline, echo_secrets=True) as handle:
        cli = Envsync(handle.url, tally, emulator_secrets(handle))
        if cli.run(before, *APPLY, where="kill baseline").code != 0:
            tally.fail("failed_applies", "the baseline apply failed")
            return tally
    clean = tmp / "clean.db"
    shutil.copy(baseline, clean)
    with start_emulator(clean, echo_secrets=True) as handle:
        cli = Envsync(handle.url, tally, emulator_secrets(handle))
        handle.reset_stats()
        cli.run(after, *APPLY, where="kill count")
        requests = handle.stats().total
    tally.notes.append(f"the apply makes {requests} requests")
    kinds: list[str] = []
    for n in range(1, requests + 1):
        kind = kill_and_rerun(tmp, baseline, n, after, after, tally)
        kinds.append(kind)
        if kind.endswith((".put", ".post")):
            kill_and_rerun(tmp, baseline, n, after, reverted, tally)
    writes = sum(1 for k in kinds if k.endswith((".put", ".post")))
    tally.notes.append(f"{len(kinds)} kills ({writes} after a write, each also re-run reverted)")
    return tally


def kill_and_rerun(tmp: Path, baseline: Path, n: int, root: Path, rerun: Path, tally: Tally) -> str:
    """Kill apply (of `root`) right after its request `n` reached the emulator, then apply
    `rerun` and check convergence; what request `n` did."""
    db = tmp / f"kill-{n}-{rerun.name}.db"
    shutil.copy(baseline, db)
    with start_emulator(db, echo_secrets=True) as handle:
        cli = Envsync(handle.url, tally, emulator_secrets(handle))
        kind = killed_at(cli, handle, root, n, tally)
        where = f"kill at request {n} ({kind}), re-run {rerun.name}"
        result = cli.run(rerun, *APPLY, where=where)
        if result.code != 0:
            tally.fail("failed_applies", where, result.output)
        cli.converged(rerun, db, where)
        tally.count_emulator(handle)
    db.unlink()
    return kind


def killed_at(cli: Envsync, handle: EmulatorHandle, root: Path, n: int, tally: Tally) -> str:
    hold = handle.hold(n)
    proc = cli.start(root, *APPLY)
    deadline = time.monotonic() + 120
    while not hold.wait(0.01):
        if proc.poll() is not None or time.monotonic() > deadline:
            tally.fail("hangs" if proc.poll() is None else "failed_applies", f"apply never sent request {n}")
            proc.kill()
            break
    proc.send_signal(signal.SIGKILL)
    output, _ = proc.communicate()
    if not hold.release(wait=30):
        tally.fail("hangs", f"request {n} never finished after the kill")
    cli.scan(output, f"killed apply (request {n})")
    return hold.request
