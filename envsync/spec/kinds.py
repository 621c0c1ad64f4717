"""What a YAML that is not an environment is instead: a conda file, a job, a deployment, a
config. A file given to `validate` that is one of those is named as such, in one line,
instead of failing every environment rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Any of these makes a file an environment (perhaps a broken one): its own checks apply.
_ENVIRONMENT_KEYS = frozenset({"image", "build", "conda_file", "inference_config", "os_type", "docker"})
_CONDA_KEYS = frozenset({"dependencies", "channels"})
_JOB_KEYS = frozenset({"command", "jobs", "compute", "inputs", "outputs", "code"})
_DEPLOYMENT_KEYS = frozenset({"endpoint_name", "model", "instance_type", "instance_count"})
_CONFIG_KEYS = frozenset({"targets", "default_target", "environments", "policy"})


def not_an_environment(doc: Mapping[str, Any]) -> str | None:
    """What `doc` is, when it is clearly not an environment YAML (None: it is one, or may be)."""
    keys = {k for k in doc if isinstance(k, str)}
    declared = _declared(doc.get("$schema"))
    if declared is not None:
        return declared
    if keys & _ENVIRONMENT_KEYS:
        return None
    if keys & _CONDA_KEYS:
        return "a conda file (channels and dependencies); an environment uses it with `conda_file: PATH`"
    if keys & _DEPLOYMENT_KEYS:
        return "an Azure ML deployment YAML"
    if keys & _JOB_KEYS or doc.get("type") in ("command", "pipeline", "sweep", "spark"):
        return "an Azure ML job or component YAML"
    if keys & _CONFIG_KEYS:
        return "an envsync configuration (envsync.yaml's keys)"
    return None


def _declared(schema: Any) -> str | None:
    """What a `$schema` other than the environment schema declares the file to be."""
    if not isinstance(schema, str) or "environment" in schema.lower():
        return None
    stem = schema.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json").removesuffix(".schema")
    shown = "".join(c for c in stem[:60] if c.isascii() and (c.isalnum() or c in "._-"))  # repository text
    return f"a '{shown}' YAML (its $schema)" if shown else None
