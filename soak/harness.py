"""What every soak scenario shares: the real `envsync` CLI run in child processes against an
ARM emulator served from this process (so a test can hold request N, change fault rates or
read its counters), git repositories of environment YAMLs, and the checks that fail a run.

A run fails on a traceback (exit 3, or Python's traceback header in the output), a hang (no
exit within the timeout), a leak (a credential in any output), an unconverged workspace
(`plan --refresh --detailed-exitcode` not 0 with "No changes.", or `drift` not 0) or a
duplicate (two versions of one environment holding the same content)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from envsync.content.fingerprint import fingerprint
from envsync.emulator.server import EmulatorHandle
from envsync.workspace import ListView
from envsync.workspace.local.workspace import LocalWorkspace

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1"
TOKEN = f"soak-bearer-{secrets.token_hex(12)}"  # every run's ARM token: it must never print
REMOTE_SIG = f"remote{secrets.token_hex(10)}"  # the SAS signature of a build context given as a URL
WORKSPACE = (
    "/subscriptions/00000000-0000-0000-0000-00000000050a/resourceGroups/rg"
    "/providers/Microsoft.MachineLearningServices/workspaces/soak-ws"
)
CONFIG = (
    "default_target: emu\n"
    "concurrency: {concurrency}\n"
    "targets:\n"
    "  emu: {{type: azureml, subscription_id: 00000000-0000-0000-0000-00000000050a,"
    " resource_group: rg, workspace: soak-ws}}\n"
)
TRACEBACK = "Traceback (most recent call last)"
RAW_SIGNATURE = re.compile(r"sig=(?!<redacted>)[A-Za-z0-9%+/=]{6,}")  # any SAS signature left in clear
APPLIED = re.compile(r"(\d+) (created|new version|updated|restored|archived)")
TIMEOUT = 300.0  # seconds: an envsync run still going after this hangs


@dataclass
class Tally:
    """What a scenario counted; `failures` says what went wrong, and how to replay it."""

    runs: int = 0
    exits: Counter[int] = field(default_factory=Counter)
    duplicates: int = 0
    unconverged: int = 0
    tracebacks: int = 0
    hangs: int = 0
    leaks: int = 0
    failed_applies: int = 0  # applies that should have exited 0 (racers, the re-run after a kill)
    requests: int = 0
    faults: int = 0
    throttled: int = 0
    applied: Counter[str] = field(default_factory=Counter)  # from "Apply complete: ..." lines
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        counts = (
            self.duplicates,
            self.unconverged,
            self.tracebacks,
            self.hangs,
            self.leaks,
            self.failed_applies,
        )
        return any(counts)

    def fail(self, kind: str, where: str, output: str = "") -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.failures.append(f"{kind}: {where}" + (f"\n{_tail(output)}" if output else ""))

    def count_emulator(self, handle: EmulatorHandle) -> None:
        stats = handle.stats()
        self.requests += stats.total
        self.faults += stats.faults
        self.throttled += stats.throttled

    def figures(self) -> str:
        changes = ", ".join(f"{n:,} {what}" for what, n in sorted(self.applied.items())) or "nothing"
        exits = dict(sorted(self.exits.items()))
        return (
            f"{self.runs} envsync runs (exits {exits}; applied {changes}), "
            f"{self.requests:,} requests, {self.faults:,} injected faults, {self.throttled:,} throttled; "
            f"duplicates {self.duplicates}, unconverged {self.unconverged}, tracebacks {self.tracebacks}, "
            f"hangs {self.hangs}, leaks {self.leaks}, failed applies {self.failed_applies}"
        ) + "".join(f"; {note}" for note in self.notes)


@dataclass(frozen=True)
class Result:
    code: int
    output: str


class Envsync:
    """The real CLI (`python -m envsync -C ROOT`) against `url`, each run checked for
    tracebacks, hangs and leaked credentials."""

    def __init__(self, url: str, tally: Tally, known_secrets: list[str]):
        self.url, self.tally, self.secrets = url, tally, known_secrets

    def env(self, **extra: str) -> dict[str, str]:
        base = {"ENVSYNC_ARM_TOKEN": TOKEN, "ENVSYNC_ARM_ENDPOINT": self.url, "NO_COLOR": "1"}
        return {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, **base, **extra}

    def start(self, root: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "envsync", "-C", str(root), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env(**extra),
        )

    def finish(self, proc: subprocess.Popen[str], where: str) -> Result:
        try:
            output, _ = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
            self.tally.fail("hangs", where, output)
            return Result(-1, output)
        return self.checked(Result(proc.returncode, output), where)

    def run(self, root: Path, *args: str, where: str = "", **extra: str) -> Result:
        return self.finish(self.start(root, *args, **extra), f"{where} envsync {' '.join(args)}")

    def checked(self, result: Result, where: str) -> Result:
        """Count a finished run: its exit, and any traceback or credential in its output."""
        self.tally.runs += 1
        self.tally.exits[result.code] += 1
        if result.code == 3:
            self.tally.fail("tracebacks", where, result.output)
        self.scan(result.output, where, traceback=result.code != 3)
        for line in result.output.splitlines():
            if line.startswith("Apply complete:"):
                self.tally.applied.update({what: int(n) for n, what in APPLIED.findall(line) if int(n)})
        return result

    def scan(self, output: str, where: str, *, traceback: bool = True) -> None:
        """Count a traceback or a credential in `output` (that of a killed run, too)."""
        if traceback and TRACEBACK in output:
            self.tally.fail("tracebacks", where, output)
        leaked = [s for s in self.secrets if s and s in output]
        if leaked or RAW_SIGNATURE.search(output):
            self.tally.fail("leaks", f"{where}: {len(leaked)} known secret(s) or a raw SAS signature")

    def converged(self, root: Path, db: Path, where: str) -> bool:
        """The workspace matches git: a refreshed plan has no changes, drift is clean, and no
        environment holds the same content twice. Counts what is not."""
        planned = self.run(root, "plan", "--refresh", "--detailed-exitcode", where=where)
        drift = self.run(root, "drift", where=where)
        ok = planned.code == 0 and "No changes." in planned.output and drift.code == 0
        if not ok:
            self.tally.fail("unconverged", where, planned.output + drift.output)
        twice = duplicates(db)
        if twice:
            self.tally.fail("duplicates", f"{where}: {twice}")
        return ok and not twice


def duplicates(db: Path) -> dict[str, list[str]]:
    """Environments with two versions of the same content, and those versions."""
    ws = LocalWorkspace(db)
    try:
        found: dict[str, list[str]] = {}
        for container in ws.list_environments(ListView.ALL):
            if container.curated:
                continue
            seen: dict[str, str] = {}
            for v in ws.list_versions(container.name, ListView.ALL):
                fp = fingerprint(v.body.content())
                if fp in seen:
                    found.setdefault(container.name, [seen[fp]]).append(v.version)
                seen[fp] = v.version
        return found
    finally:
        ws.close()


def emulator_secrets(handle: EmulatorHandle) -> list[str]:
    """The credentials the emulator hands out (the datastore's SAS signature or account key):
    what an echoing server may quote back, and what no output may show."""
    url = f"{handle.url}{WORKSPACE}/datastores/workspaceblobstore/listSecrets?api-version=2025-12-01"
    doc = requests.post(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).json()
    found = [TOKEN, REMOTE_SIG]
    if doc.get("key"):
        found.append(doc["key"])
    if doc.get("sasToken"):
        found.append(re.search(r"sig=([^&]+)", doc["sasToken"]).group(1))  # type: ignore[union-attr]
    return found


# -- repositories ---------------------------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=soak", "-c", "user.email=soak@envsync.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


def new_repo(root: Path, *, concurrency: int = 4) -> Path:
    (root / "environments").mkdir(parents=True)
    (root / "envsync.yaml").write_text(CONFIG.format(concurrency=concurrency))
    git(root, "init", "-q", "-b", "main")
    return root


def commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)


def write_env(root: Path, name: str, text: str) -> None:
    (root / "environments" / f"{name}.yml").write_text(f"name: {name}\n{text}")


def tags_yaml(tags: dict[str, str]) -> str:
    return "tags:\n" + "".join(f"  {k}: '{v}'\n" for k, v in sorted(tags.items())) if tags else ""


def image_env(image: str, tags: dict[str, str]) -> str:
    return f"image: {image}\n{tags_yaml(tags)}"


def context_env(root: Path, name: str, marker: str) -> str:
    """A build context folder beside the YAML (its digest changes with `marker`)."""
    folder = root / "environments" / f"{name}-context"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(f"FROM python:3.12-slim\n# {marker}\nCOPY requirements.txt .\n")
    (folder / "requirements.txt").write_text("numpy==1.26.4\n")
    return f"build:\n  path: {name}-context\n"


def remote_env(marker: str) -> str:
    """A build context given as a blob URL with a SAS: the SAS must never print."""
    url = f"https://soakacct.blob.core.windows.net/ctx/{marker}/?sv=2023-11-03&sp=r&sig={REMOTE_SIG}"
    return f'build:\n  path: "{url}"\n'


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])


def elapsed(start: float) -> str:
    return f"{time.monotonic() - start:.0f} s"
