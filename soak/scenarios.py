"""Soak scenarios: applies under injected faults with repository edits in between, racing
applies, and credentials in every place they can hide. (SIGKILL at every request: `kills.py`.)"""

from __future__ import annotations

import random
from pathlib import Path

import requests
from harness import (
    IMAGE,
    TOKEN,
    WORKSPACE,
    Envsync,
    Tally,
    commit,
    context_env,
    emulator_secrets,
    image_env,
    new_repo,
    remote_env,
    tags_yaml,
    write_env,
)

from envsync.emulator.server import EmulatorHandle, start_emulator


class Model:
    """A repository of environments that changes a little each round, the way a team edits it:
    new content, new tags, a YAML deleted, a deleted one brought back, a new one. Content only
    ever moves forward (a fresh image tag or context), so two versions of one environment holding
    the same content can only be a bug; a YAML brought back comes back exactly as deleted."""

    def __init__(self, root: Path, rng: random.Random, count: int):
        self.root, self.rng = root, rng
        self.texts: dict[str, str] = {}
        self.deleted: dict[str, str] = {}
        self.made = 0
        for _ in range(count):
            self.add()

    def add(self) -> None:
        name = f"env-{self.made:02d}"
        kind = ("context", "remote", "image", "image")[self.made % 4] if self.made < 8 else "image"
        self.made += 1
        self._write(name, kind, f"{name}-v0", {"team": "soak"})

    def edit(self, round_: int) -> list[str]:
        """3 or 4 random edits; what they were."""
        done = []
        for _ in range(self.rng.choice((3, 4))):
            what = self.rng.choice(("bump", "bump", "retag", "retag", "delete", "readd", "add"))
            live = sorted(self.texts)
            if what == "add" or (what != "readd" and len(live) < 3):
                self.add()
                done.append("add")
            elif what == "readd" and self.deleted:
                name = self.rng.choice(sorted(self.deleted))
                self.texts[name] = self.deleted.pop(name)
                (self.root / "environments" / f"{name}.yml").write_text(self.texts[name])
                done.append(f"readd {name}")
            elif what in ("bump", "retag"):
                name = self.rng.choice(live)
                kind = self.texts[name].split("# kind: ")[1].split("\n")[0]
                marker = f"{name}-r{round_}-{self.rng.randrange(10**6)}"
                self._write(name, kind, marker if what == "bump" else self._marker(name), {"team": marker})
                done.append(f"{what} {name}")
            elif what == "delete" and live:
                name = self.rng.choice(live)
                self.deleted[name] = self.texts.pop(name)
                (self.root / "environments" / f"{name}.yml").unlink()
                done.append(f"delete {name}")
        return done

    def _marker(self, name: str) -> str:
        return self.texts[name].split("# marker: ")[1].split("\n")[0]

    def _write(self, name: str, kind: str, marker: str, tags: dict[str, str]) -> None:
        if kind == "context":
            body = context_env(self.root, name, marker) + tags_yaml(tags)
        elif kind == "remote":
            body = remote_env(marker) + tags_yaml(tags)
        else:
            body = image_env(f"{IMAGE}-{marker}", tags)
        text = f"# kind: {kind}\n# marker: {marker}\n{body}"
        write_env(self.root, name, text)
        self.texts[name] = (self.root / "environments" / f"{name}.yml").read_text()


def apply_until_done(cli: Envsync, root: Path, where: str, attempts: int = 3) -> int:
    """`apply --auto-approve --prune`, again while it exits non-zero (a request that ran out of
    retries under faults); how many runs it took, 0 if it never succeeded."""
    for attempt in range(1, attempts + 1):
        if cli.run(root, "apply", "--auto-approve", "--prune", where=f"{where} try {attempt}").code == 0:
            return attempt
    return 0


def faults(
    tmp: Path, seeds: range, applies: int, envs: int, fault_rate: float, throttle_rate: float
) -> Tally:
    """Per seed: a fresh emulator injecting 5xx, resets and 429s (draws keyed by request order),
    `applies` applies with edits between them (one request at a time, so a seed replays
    exactly), and after each, with faults off, the convergence checks."""
    tally = Tally()
    reruns = 0
    for seed in seeds:
        rng = random.Random(seed)
        db, root = tmp / f"faults-{seed}.db", new_repo(tmp / f"faults-{seed}", concurrency=1)
        model = Model(root, rng, envs)
        with start_emulator(
            db, isolate=False, retry_after=0, seed=seed, echo_secrets=True, page_size=4
        ) as handle:
            cli = Envsync(handle.url, tally, emulator_secrets(handle))
            for round_ in range(applies):
                edits = model.edit(round_) if round_ else ["seed"]
                commit(root, f"round {round_}: {', '.join(edits)}")
                where = f"faults --seed {seed} (round {round_}: {', '.join(edits)})"
                handle.set_faults(fault_rate=fault_rate, throttle_rate=throttle_rate)
                took = apply_until_done(cli, root, where)
                handle.set_faults()
                reruns += max(0, took - 1)
                if not took:
                    tally.fail("unconverged", f"{where}: apply never exited 0")
                cli.converged(root, db, where)
            tally.count_emulator(handle)
    tally.notes.append(f"{reruns} applies re-run after running out of retries")
    return tally


def race(tmp: Path, seed: int, rounds: int, racers: int, envs: int) -> Tally:
    """`racers` applies of one repository at once, `rounds` times with edits in between; each
    must exit 0, and the workspace must hold one version per content."""
    tally = Tally()
    rng = random.Random(seed)
    db, root = tmp / "race.db", new_repo(tmp / "race", concurrency=4)
    model = Model(root, rng, envs)
    with start_emulator(db, isolate=False, latency_ms=5, echo_secrets=True, seed=seed) as handle:
        cli = Envsync(handle.url, tally, emulator_secrets(handle))
        for round_ in range(rounds):
            edits = model.edit(round_) if round_ else ["seed"]
            commit(root, f"round {round_}")
            where = f"race --seed {seed} round {round_} ({', '.join(edits)})"
            procs = [cli.start(root, "apply", "--auto-approve", "--prune") for _ in range(racers)]
            results = [cli.finish(p, f"{where} racer {i}") for i, p in enumerate(procs)]
            for i, result in enumerate(results):
                if result.code != 0:
                    tally.fail("failed_applies", f"{where} racer {i} exited {result.code}", result.output)
            cli.converged(root, db, where)
        tally.count_emulator(handle)
    return tally


def secrets(tmp: Path, seed: int) -> Tally:
    """Every command against an emulator that echoes the request's credentials back in its
    errors, throttled until requests run out of retries and their errors reach the output;
    with the datastore's SAS or account key in play, a build context given as a URL with a SAS,
    and an ARM endpoint carrying a password."""
    tally = Tally()
    for secrets_type in ("Sas", "AccountKey"):
        db, root = tmp / f"secrets-{secrets_type}.db", new_repo(tmp / f"secrets-{secrets_type}")
        Model(root, random.Random(seed), 4)
        commit(root, "seed")
        # Retry-After 1: a 429 costs the client a second, not its exponential backoff.
        options = {"secrets_type": secrets_type, "echo_secrets": True, "retry_after": 1, "seed": seed}
        with start_emulator(db, isolate=False, **options) as handle:
            cli = Envsync(handle.url, tally, emulator_secrets(handle))
            scanner_sees_an_echo(cli, handle, tally)
            where = f"secrets {secrets_type}"
            for rates, commands in phases(tmp / f"imported-{secrets_type}"):
                handle.set_faults(**rates)
                for args in commands:
                    cli.run(root, *args, where=where)
            tally.count_emulator(handle)
            password = f"pw-{seed}-never-printed"
            cli.secrets.append(password)
            for scheme in ("http", "https", "ftp"):
                endpoint = f"{scheme}://soak:{password}@127.0.0.1:{handle.url.rsplit(':', 1)[1]}"
                result = cli.run(root, "plan", where=f"{where} endpoint", ENVSYNC_ARM_ENDPOINT=endpoint)
                if result.code != 1:
                    tally.fail("failed_applies", f"endpoint with a password ({scheme}) exited {result.code}")
    tally.notes.append(f"{tally.exits.get(1, 0)} runs ended in an error message, every one scanned")
    return tally


def phases(imported: Path) -> list[tuple[dict[str, float], list[list[str]]]]:
    """Fault rates, and the commands run under them: throttled until the errors show (an empty
    workspace, then an applied one), calm to apply, then faults that retries absorb."""
    dead = {"throttle_rate": 0.97}
    return [
        (
            dead,
            [
                ["plan"],
                ["apply", "--auto-approve"],
                ["plan", "--format", "json"],
                ["list", "--format", "json"],
            ],
        ),
        ({}, [["apply", "--auto-approve"]]),
        (
            dead,
            [
                ["show", "env-01"],
                ["show", "env-00", "--format", "json"],
                ["drift"],
                ["import", "--out", str(imported)],
            ],
        ),
        (
            {"fault_rate": 0.3, "throttle_rate": 0.2},
            [
                ["plan", "--format", "markdown"],
                ["drift"],
                ["show", "env-01"],
                ["apply", "--auto-approve", "--prune"],
            ],
        ),
    ]


def scanner_sees_an_echo(cli: Envsync, handle: EmulatorHandle, tally: Tally) -> None:
    """The scan must be able to fail: an echoing answer, scanned raw, shows a credential."""
    url = f"{handle.url}{WORKSPACE}/environments/none?api-version=2025-12-01"
    raw = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).text
    probe = Tally()
    Envsync(handle.url, probe, cli.secrets).scan(raw, "the scanner's self-test")
    if not probe.leaks:
        tally.fail("leaks", "the scanner missed the token in an echoing answer: the scan proves nothing")
