"""Solve environments: the cache first, then conda (one worker for all), then each pip section
for the Python that conda picked; answers located at the pins to change."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from envsync.solve.cache import AnswerCache
from envsync.solve.model import Answer, Manager, Outcome
from envsync.solve.request import Pin, Request, requests
from envsync.spec.model import EnvironmentSpec
from envsync.spec.problems import Problem
from envsync.spec.solving import SolveSettings


@dataclass(frozen=True)
class SolveRun:
    outcomes: tuple[Outcome, ...]
    without_conda: tuple[str, ...]  # environments with nothing to solve (an image, a Dockerfile)
    solved: int  # answers computed in this run; the rest came from the cache

    @property
    def unsolvable(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.problems)


def solve_specs(
    specs: Sequence[EnvironmentSpec], settings: SolveSettings, root: Path, *, update: bool = False
) -> SolveRun:
    """Every spec's conda part and pip section; `update` ignores remembered answers."""
    asked, without = requests(specs, settings, root)
    cache = AnswerCache(root)
    keys = dict.fromkeys(r.key for r in asked)  # environments with the same content share one
    known = {} if update else {k: a for k in keys if (a := cache.get(k)) is not None}
    todo = [r for r in asked if r.key not in known and not r.problems]
    fresh = _solve(todo, settings, cache) if todo else {}
    for key, answer in fresh.items():
        cache.put(key, answer)
    outcomes = tuple(_outcome(r, known.get(r.key) or fresh.get(r.key), cached=r.key in known) for r in asked)
    return SolveRun(outcomes, tuple(s.name for s in without), len(fresh))


def _solve(todo: Sequence[Request], settings: SolveSettings, cache: AnswerCache) -> dict[str, Answer]:
    from envsync.solve.conda import solve_conda  # only when something is to be solved
    from envsync.solve.pip import uv_binary

    conda = solve_conda(todo, cache.repodata, timeout=settings.timeout)
    needing_pip = {r.key: r for r in todo if r.pip and conda[r.key].failure is None}
    if needing_pip:
        uv_binary()
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = pool.map(lambda r: _pip(r, conda[r.key], settings, cache), needing_pip.values())
        pip = dict(zip(needing_pip, done, strict=True))
    return {key: pip.get(key, answer) for key, answer in conda.items()}


def _pip(request: Request, conda: Answer, settings: SolveSettings, cache: AnswerCache) -> Answer:
    from envsync.solve.pip import resolve_pip

    python = next((p.version for p in conda.packages if p.name == "python"), None)
    if python is None:
        return Answer(failure="a pip: section needs python among the conda dependencies", manager=Manager.PIP)
    found = resolve_pip(request.pip, python, request.platform.pip, settings, cache.uv)
    return Answer(conda.packages + found.packages, found.failure, found.blamed, found.manager)


def _outcome(request: Request, answer: Answer | None, *, cached: bool) -> Outcome:
    problems = request.problems or (_problems(request, answer) if answer is not None else ())
    return Outcome(
        name=request.name,
        path=request.path,
        line=request.line,
        platform=request.platform.subdir,
        answer=answer or Answer(),
        requested=request.requested,
        problems=problems,
        notes=request.notes,
        cached=cached,
        key=request.key,
    )


def _problems(request: Request, answer: Answer) -> tuple[Problem, ...]:
    if answer.failure is None:
        return ()
    pins = request.pip if answer.manager is Manager.PIP else request.conda
    blamed = [p for p in pins if p.name in answer.blamed]
    what = _what(blamed, answer.manager)
    where = request.where.at(blamed[0].key if blamed else ("dependencies",))
    message = f"{request.name}: {what} on {request.platform.subdir}: {answer.failure}"
    return (Problem(*where, message),)


def _what(blamed: Sequence[Pin], manager: Manager) -> str:
    side = "pip requirement" if manager is Manager.PIP else "conda spec"
    if not blamed:
        return f"the {side}s cannot be installed"
    texts = " and ".join(p.text for p in blamed)
    return f"{texts} cannot be installed together" if len(blamed) > 1 else f"{texts} cannot be installed"
