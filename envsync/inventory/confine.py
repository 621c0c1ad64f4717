"""What `import` may write, given that names, versions and URLs come from the endpoint.

An environment's name becomes a file name, so it must be one the service itself accepts
(mfe.json 2025-12-01: `^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$` on PUT, so no `/`, `.` or `..`);
every path is resolved (symlinks followed) and must stay inside `--out`; a URL kept in a YAML
loses any credential it carries (a SAS's `sig`/`sv`/`se`…, a password), since the YAML goes
into git.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path

from envsync.errors import EnvsyncError
from envsync.http.redact import redact, url_identity
from envsync.text.escape import terminal
from envsync.workspace import RemoteVersion
from envsync.workspace.names import NAME_RULE, valid_name

VERSION_MAX = 255


class UnsafeImport(EnvsyncError):
    """The endpoint answered something import will not turn into files."""


def check_name(name: object, where: str) -> str:
    """`name` if it can be a file name under --out (the service's own pattern)."""
    if not isinstance(name, str) or not valid_name(name):
        raise UnsafeImport(
            f"{where}: environment name {_shown(name)} is not one the service allows "
            f"({NAME_RULE}): it cannot become a file name; nothing imported"
        )
    return name


def check_version(version: object, where: str) -> str:
    """`version` if it can be written as a YAML string: non-empty, short, no control characters."""
    ok = isinstance(version, str) and 0 < len(version) <= VERSION_MAX
    if not ok or any(unicodedata.category(c).startswith("C") for c in str(version)):
        raise UnsafeImport(
            f"{where}: version {_shown(version)} is not a printable string of 1-{VERSION_MAX} "
            "characters; nothing imported"
        )
    return str(version)


def inside(out: Path, rel: str) -> Path:
    """`out/rel`, refused unless it resolves (symlinks followed) inside `out` and is no symlink."""
    root = out.resolve()
    path = out / rel
    if path.is_symlink():
        raise UnsafeImport(f"{path}: is a symlink, and import never writes through one; nothing imported")
    resolved = path.resolve()
    if not resolved.is_relative_to(root) or resolved == root:
        raise UnsafeImport(f"{path}: resolves to {resolved}, outside {root}; nothing imported")
    return path


def credential_free(url: str) -> tuple[str, bool]:
    """`url` without userinfo or a credential-carrying query, and whether one was dropped."""
    kept = url_identity(url)
    return kept, kept != url


def scrubbed(version: RemoteVersion) -> tuple[RemoteVersion, tuple[str, ...]]:
    """`version` with every credential `redact` recognises (a SAS signature, a URL's password,
    a bearer token, an account key) masked in the text import writes: its description, tag
    values and conda file (a pip index URL with a token is the usual one). A note says which."""
    body, found = version.body, []

    def masked(text: str | None, field: str) -> str | None:
        cleaned = None if text is None else redact(text)
        if cleaned != text:
            found.append(field)
        return cleaned

    description = masked(body.description, "description")
    tags = {key: masked(value, f"tag {key}") or "" for key, value in body.tags.items()}
    conda = masked(body.conda_file, "conda file")
    if not found:
        return version, ()
    note = (
        f"{version.name}:{version.version}: its {', '.join(found)} carried what looks like a credential; "
        "written masked (a conda file so changed plans as a new version: keep credentials in pip.conf or the "
        "build's secrets instead)"
    )
    cleaned = replace(body, description=description, tags=tags, conda_file=conda)
    return replace(version, body=cleaned), (note,)


def _shown(value: object) -> str:
    # Escaped for a terminal, so the name cannot forge output lines (cli escapes again: harmless).
    text = f"'{terminal(value)}'" if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:79] + "…"
