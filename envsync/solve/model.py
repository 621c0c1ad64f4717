"""What a solve says about one environment: the solver's answer, and that answer located."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from envsync.spec.problems import Problem


class Status(str, enum.Enum):
    SOLVABLE = "solvable"
    UNSOLVABLE = "unsolvable"


class Manager(str, enum.Enum):
    CONDA = "conda"
    PIP = "pip"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    manager: Manager = Manager.CONDA
    build: str = ""
    url: str = ""
    channel: str = ""
    subdir: str = ""
    md5: str | None = None
    sha256: str | None = None
    depends: tuple[str, ...] = ()

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> Package:
        return Package(**{**doc, "manager": Manager(doc["manager"]), "depends": tuple(doc["depends"])})

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "manager": self.manager.value, "depends": list(self.depends)}


@dataclass(frozen=True)
class Answer:
    """What the solvers said about one spec, independent of where it is written (so a cached
    answer holds when the file moves): the packages, or why not and which requested names."""

    packages: tuple[Package, ...] = ()
    failure: str | None = None  # the solver's words, one line
    blamed: tuple[str, ...] = ()  # requested names the failure names ("pip:NAME" for pip's)
    manager: Manager = Manager.CONDA  # whose failure

    @property
    def status(self) -> Status:
        return Status.UNSOLVABLE if self.failure is not None else Status.SOLVABLE

    def to_json(self) -> dict[str, Any]:
        return {
            "packages": [p.to_json() for p in self.packages],
            "failure": self.failure,
            "blamed": list(self.blamed),
            "manager": self.manager.value,
        }

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> Answer:
        return Answer(
            packages=tuple(Package.from_json(p) for p in doc["packages"]),
            failure=doc["failure"],
            blamed=tuple(doc["blamed"]),
            manager=Manager(doc["manager"]),
        )


@dataclass(frozen=True)
class Outcome:
    """One environment's solve, located: `problems` are at the lines of the pins to change."""

    name: str
    path: str  # the environment YAML, as shown
    line: int  # of its `name:`
    platform: str
    answer: Answer
    requested: tuple[str, ...] = ()  # the pins' names, in order ("pip:NAME" for pip's)
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # requirements a solve cannot check (local paths, pip options)
    cached: bool = False
    key: str = ""  # the request's: the spec's fingerprint and the solve settings

    @property
    def status(self) -> Status:
        return Status.UNSOLVABLE if self.problems else Status.SOLVABLE

    @property
    def summary(self) -> str:
        """The solved versions of the requested names (in order), then how many in all."""
        by_name = {_key(p): p for p in self.answer.packages}
        shown = [f"{by_name[n].name} {by_name[n].version}" for n in self.requested if n in by_name]
        conda = sum(p.manager is Manager.CONDA for p in self.answer.packages)
        pip = len(self.answer.packages) - conda
        counts = f"{conda} conda package{'s' * (conda != 1)}" + (f", {pip} from pip" if pip else "")
        return f"{', '.join(shown)} ({counts})" if shown else counts


def _key(package: Package) -> str:
    return f"pip:{package.name}" if package.manager is Manager.PIP else package.name
