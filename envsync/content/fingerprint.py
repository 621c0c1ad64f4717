"""Canonical immutable content of an environment version, and its sha256 fingerprint.

Both sides of a comparison produce a `Content`: a spec loaded from git, and a version read back
from a workspace (whose conda text is parsed and whose contextUri is reduced to its digest).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from envsync.http.redact import redact_url, url_identity

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


FINGERPRINT_VERSION = "envsync-fp-1"
DEFAULT_DOCKERFILE = "Dockerfile"

# az ml uploads contexts to .../LocalUpload/<digest>/<dirname>/ (sha256 since 2022, md5 before).
_CONTEXT_DIGEST = re.compile(r"/(?:LocalUpload|az-ml-artifacts)/([0-9a-f]{64}|[0-9a-f]{32})/", re.IGNORECASE)


@dataclass(frozen=True)
class Content:
    """What Azure ML treats as a version's immutable content, normalised for comparison."""

    image: str | None = None
    conda: Any = None  # the parsed conda spec: key order and comments never matter
    context: str | None = None  # build-context digest, or the URI of a remote context
    dockerfile_path: str | None = None  # set only with a build context
    os_type: str = "linux"
    inference_config: Any = None  # REST shape: {"livenessRoute": {"path", "port"}, ...}


_CONTENT_FIELDS = tuple(f.name for f in fields(Content))  # asdict's deep copy is not needed to dump


def fingerprint(content: Content) -> str:
    """sha256 over a canonical JSON form of `content`."""
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def canonical_json(content: Content) -> str:
    doc = {"v": FINGERPRINT_VERSION, **{f: getattr(content, f) for f in _CONTENT_FIELDS}}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def conda_text(conda: Any) -> str:
    """The conda spec as azure-ai-ml sends it in `condaFile`: YAML, keys sorted, block style."""
    return yaml.dump(conda, Dumper=yaml.SafeDumper, sort_keys=True)


def parse_conda_text(text: str | None) -> Any:
    """A workspace's `condaFile` text back to a value; unparseable text compares as itself."""
    if text is None:
        return None
    try:
        return safe_load(text)
    except yaml.YAMLError:
        return text


def normalize_dockerfile_path(path: str | None) -> str:
    """`/Dockerfile`, `./Dockerfile`, `Dockerfile` and absent all mean the same file."""
    if not path:
        return DEFAULT_DOCKERFILE
    cleaned = path.replace("\\", "/")
    while cleaned.startswith(("./", "/")):
        cleaned = cleaned[2:] if cleaned.startswith("./") else cleaned[1:]
    return cleaned or DEFAULT_DOCKERFILE


def normalize_os_type(os_type: str | None) -> str:
    # The REST enum is Linux/Windows, the SDK sends lower case; the service parses either.
    return (os_type or "linux").lower()


def context_from_uri(uri: str | None) -> str | None:
    """The content digest in an az-ml-style contextUri, else the URI itself (trailing / kept
    off) without its credentials: the blob path names the content, so rotating the SAS in its
    query string (or a password in it) is no new content.

    The service may hand a contextUri back in another form than the one sent: without its
    trailing slash, percent-encoded, or as a datastore URI (`azureml://…/datastores/…/paths/
    LocalUpload/<digest>/…`); each names the same digest."""
    if uri is None:
        return None
    return _digest_in(uri) or url_identity(uri).rstrip("/")


def context_display(uri: str) -> str:
    """A contextUri as outputs show it: its digest, or the URL with any SAS shown as
    `?<sas redacted>` and any userinfo masked."""
    return _digest_in(uri) or redact_url(uri.rstrip("/"))


def _digest_in(uri: str) -> str | None:
    path = unquote(urlsplit(uri).path) if "://" in uri else uri
    match = _CONTEXT_DIGEST.search(path if path.endswith("/") else path + "/")
    return match.group(1).lower() if match else None


def without_nulls(value: Any) -> Any:
    """`value` with every null member of its mappings dropped, at any depth: the service
    answers with nullable fields the client never sent (`inferenceConfig.startupRoute`)."""
    if isinstance(value, Mapping):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


def normalize_inference_config(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    cleaned = without_nulls(dict(config)) if config else None
    return cleaned or None


def safe_load(text: str) -> Any:
    """`yaml.safe_load`, through libyaml when available, bounded in depth and in alias expansion
    (`content.yamlbound`; past a bound, a yaml.YAMLError like any other unloadable text)."""
    from envsync.content import yamlbound

    return yamlbound.load(text)
