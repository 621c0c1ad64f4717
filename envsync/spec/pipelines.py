"""Where a pipeline names environments: each step's `environment:`, an inline component's, and
those of nested pipelines (a step whose inline component, or the step itself, holds `jobs:`).

az ml's pipeline job YAML (`type: pipeline`, pipelineJob.schema.json) keeps its steps under
`jobs.<step>`; a step may run a command with its own `environment:`, or an inline `component:`
(a mapping) that names one, or be a pipeline itself. Components in files of their own
(`component: ./train.yml`) are found by the scan as any other YAML with an `environment:`.
Pure: key paths out of a loaded document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from envsync.spec.yamlio import Key

MAX_NESTING = 16  # pipelines within pipelines; the YAML reader bounds depth too


def step_environments(data: Any) -> Iterator[tuple[Key, str]]:
    """(key path of an `environment:` value, dotted step name) for every step of a pipeline job
    or pipeline component. Other YAMLs with `jobs:` (a GitHub workflow's `jobs.<job>.environment`
    is a deployment environment) have no steps."""
    if isinstance(data, dict) and data.get("type") == "pipeline":
        yield from _steps(data, (), "", 0)


def _steps(node: Any, at: Key, prefix: str, depth: int) -> Iterator[tuple[Key, str]]:
    jobs = node.get("jobs") if isinstance(node, dict) else None
    if not isinstance(jobs, dict) or depth > MAX_NESTING:
        return
    for name, step in jobs.items():
        if not isinstance(step, dict):
            continue
        here, shown = (*at, "jobs", name), f"{prefix}{name}"
        if "environment" in step:
            yield (*here, "environment"), shown
        component = step.get("component")
        if isinstance(component, dict):
            if "environment" in component:
                yield (*here, "component", "environment"), shown
            yield from _steps(component, (*here, "component"), f"{shown}.", depth + 1)
        yield from _steps(step, here, f"{shown}.", depth + 1)
