"""Saved plans: written by `plan --out`, read back (and checked) by `apply PLAN.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envsync.errors import EnvsyncError
from envsync.plan import findings, render
from envsync.plan.model import Action, Change, ContextFiles, Plan
from envsync.plan.selection import NameFilter
from envsync.spec.schemas import validator


def write(plan: Plan, path: Path) -> None:
    path.write_text(render.to_json(plan), encoding="utf-8")


MAX_BYTES = 256 * 1024 * 1024  # a plan of 10,000 new environments is some 15 MiB


def read(path: Path) -> Plan:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise EnvsyncError(f"{path}: over {MAX_BYTES // 2**20} MiB: not a plan file envsync wrote")
        doc = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise EnvsyncError(f"{path}: plan file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EnvsyncError(f"{path}: not a readable plan file ({e})") from None
    except RecursionError:
        raise EnvsyncError(f"{path}: not a readable plan file (nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("format_version") not in render.READABLE_VERSIONS:
        found = doc.get("format_version") if isinstance(doc, dict) else None
        raise EnvsyncError(
            f"{path}: plan format version {found!r} is not one this envsync reads "
            f"({render.FORMAT_VERSION}); plan again with this version"
        )
    errors = list(validator("plan").iter_errors(doc))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top level)"
        raise EnvsyncError(f"{path}: invalid plan at {where}: {errors[0].message}")
    return _plan(doc)


def _plan(doc: dict[str, Any]) -> Plan:
    changes = tuple(
        Change(
            **{
                **c,
                "action": Action(c["action"]),
                "diff": tuple(c["diff"]),
                "references": tuple(c.get("references", ())),
                "used_by": tuple(c.get("used_by", ())),
                "context_files": _context_files(c.get("context_files")),
                "adopted": tuple(c.get("adopted", ())),
            }
        )
        for c in doc["changes"]
    )
    problems, suppressed = findings.from_json(doc)
    return Plan(
        target=doc["target"],
        changes=changes,
        commit=doc["commit"],
        created=doc["created"],
        problems=problems,
        suppressed=suppressed,
        selection=NameFilter.from_json(doc.get("selection")),
    )


def _context_files(doc: Any) -> ContextFiles | None:
    return ContextFiles.from_json(doc) if isinstance(doc, dict) else None
