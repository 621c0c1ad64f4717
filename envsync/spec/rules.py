"""The rules of an environment YAML that a JSON Schema cannot express.

Files exist and stay in bounds, conda specs have conda's shape, YAML-typed versions and tags
become the strings Azure stores. Each check reports into the file's `Report` and returns the
resolved value, or None when it found an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from envsync.content.confine import inside, lexically_inside
from envsync.content.fingerprint import SafeLoader, normalize_dockerfile_path
from envsync.http.redact import redact_url
from envsync.spec.conda import check_conda
from envsync.spec.problems import TEMPLATE_HINT, Finding, Problem, Report, is_templated, with_hint, yaml_kind
from envsync.spec.yamlio import Key, YamlDocument, YamlError, load_yaml
from envsync.text.escape import has_control
from envsync.workspace import names

ReadFile = Callable[[Path], str]
SourceText = Callable[[Key], str | None]
_REMOTE = re.compile(r"^https?://", re.IGNORECASE)
LEGACY_FILE_PREFIX = "file:"


def source_text(read: Callable[[], str]) -> SourceText:
    """Look up the source text of a plain scalar by key path (`2.10`, where YAML reads 2.1).

    `read` gives the document's text; it is read and parsed only if a lookup happens.
    """
    root: list[yaml.Node | None] = []

    def lookup(key: Key) -> str | None:
        if not root:
            root.append(yaml.compose(read(), Loader=SafeLoader))
        node = root[0]
        for part in key:
            pairs = node.value if isinstance(node, yaml.MappingNode) else []
            node = next((v for k, v in pairs if getattr(k, "value", None) == part), None)
        return node.value if isinstance(node, yaml.ScalarNode) else None

    return lookup


def version_of(report: Report, value: Any, source: SourceText) -> str | None:
    """The version as az ml sends it, `str(value)`, warning where that surprises."""
    if value is None or isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None  # absent, or a type error the schema reported
    version = str(value)
    if not isinstance(value, str):
        text = source(("version",)) or version
        # YAML reads 1.10 as 1.1 and 010 as 8; az ml then sends str() of the number.
        if isinstance(value, float) or text != version:
            report.warn(("version",), f"version {text} is a YAML number, sent as '{version}': quote it")
    problem = names.version_problem(version)
    if problem is not None:  # the service would refuse it: an error, never a created version
        if is_templated(version):
            problem = f"version {version!r} holds an unsubstituted template placeholder: fill it in first"
        report.error(("version",), problem)
        return None
    return version


def tags_of(report: Report, tags: Any, source: SourceText) -> dict[str, str]:
    """String tags. Numbers and booleans become their YAML source text, with a warning.

    ARM models tags as map<string,string>, but az ml sends a YAML number as a JSON number,
    after the YAML parser already turned `hpcx: 2.10` into 2.1. envsync keeps what the author
    wrote: the source text `"2.10"` (`str(value)` only if the text cannot be found).
    """
    if not isinstance(tags, dict):
        return {}
    found: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str):
            report.error(("tags", str(key)), f"tag name {key} must be a string: quote it", at_key=True)
        elif has_control(key):
            why = f"tag name {key!r} holds a control character or line break"
            report.error(("tags", key), why, at_key=True)
        elif isinstance(value, str) and has_control(value):
            report.error(("tags", key), f"tag '{key}' holds a control character or line break: {value!r}")
        elif isinstance(value, str):
            found[key] = value
        elif isinstance(value, (bool, int, float)):
            text = source(("tags", key)) or str(value)
            report.warn(
                ("tags", key),
                f"tag '{key}' is {yaml_kind(value)} ({value!r}), kept as its source text '{text}': quote it",
            )
            found[key] = text
    return found


def resolve_conda(
    report: Report,
    value: Any,
    base: Path,
    *,
    root: Path,
    display: Callable[[Path], str],
    read_file: ReadFile | None,
) -> tuple[Any, Path | None, YamlDocument | None]:
    """(parsed conda spec, conda file or None, its document); conda problems are located in
    the conda file. A conda file outside `root` is an error, and is never read."""
    if isinstance(value, dict):
        for f in check_conda(value):
            report.add(Finding(("conda_file", *f.key), f.message, f.severity, f.at_key))
        return value, None, None
    if not isinstance(value, str):
        return None, None, None
    path = conda_path(value, base)
    if not confined(path, root, on_disk=read_file is None):
        report.error(("conda_file",), f"conda file '{value}' is outside the repository: it must be inside it")
        return None, None, None
    if value.startswith(LEGACY_FILE_PREFIX):
        report.warn(
            ("conda_file",),
            f"the '{LEGACY_FILE_PREFIX}' prefix is 2021 preview syntax that current az ml does not "
            f"understand: write conda_file: {value[len(LEGACY_FILE_PREFIX) :]}",
        )
    doc = _load_conda(report, value, path, display, read_file)
    if doc is None:
        return None, None, None
    conda_report = Report(doc)
    for finding in check_conda(doc.data):
        conda_report.add(finding)
    report.problems.extend(conda_report.problems)
    return doc.data, path, doc


def confined(path: Path, root: Path, *, on_disk: bool = True) -> bool:
    """Whether `path` is inside `root`: symlinks resolved for a file on disk, `..` folded for one
    read from git (where no link is followed)."""
    return inside(path, root) if on_disk else lexically_inside(path, root)


def conda_path(value: str, base: Path) -> Path:
    """The conda file `value` names: relative to the YAML's folder (escaping that folder is
    legitimate, escaping the repository is not: `confined`)."""
    relative = value[len(LEGACY_FILE_PREFIX) :] if value.startswith(LEGACY_FILE_PREFIX) else value
    return Path(os.path.normpath(base / relative))


def _load_conda(
    report: Report, value: str, path: Path, display: Callable[[Path], str], read_file: ReadFile | None
) -> YamlDocument | None:
    missing = with_hint(f"conda file '{value}' not found", value)
    try:
        text = read_file(path) if read_file else None
    except OSError:
        report.error(("conda_file",), missing)
        return None
    try:
        return load_yaml(path, display=display(path), text=text)
    except YamlError as e:
        if e.reason == "file not found":
            report.error(("conda_file",), missing)
        elif e.reason == "is a folder, not a file":
            report.error(("conda_file",), f"conda file '{value}' is a folder, not a file")
        else:
            report.problems.append(Problem(e.path, e.line, e.col, f"conda file: {e.reason}"))
        return None


def is_remote(path: str) -> bool:
    return _REMOTE.match(path) is not None


def context_folder(build: dict[str, Any], base: Path) -> Path | None:
    """The local build context folder `build` names, or None (remote, or not a string)."""
    raw = build.get("path", build.get("local_path"))
    if not isinstance(raw, str) or is_remote(raw):
        return None
    return Path(os.path.normpath(base / raw))


def resolve_build(report: Report, build: Any, base: Path, root: Path) -> tuple[str, str] | None:
    """(context folder or URL, dockerfile path) once the context and its Dockerfile check out;
    a context outside `root` is an error, and is never listed or hashed."""
    if not isinstance(build, dict):
        return None
    key: Key = ("build", "path" if "path" in build else "local_path")
    if "local_path" in build:
        report.warn(
            ("build", "local_path"),
            "build.local_path is the pre-GA name of build.path, which current az ml rejects: "
            "rename it to path (envsync accepts both)",
            at_key=True,
        )
    raw, dockerfile = build.get(key[1]), build.get("dockerfile_path", "Dockerfile")
    if not isinstance(raw, str) or not isinstance(dockerfile, str):
        return None
    if is_remote(raw):
        return raw, normalize_dockerfile_path(dockerfile)  # already uploaded: nothing local to check
    if "://" in raw:
        shown = redact_url(raw)  # a password in the URL never shows
        report.error(key, f"build context '{shown}': only local folders and http(s) URLs are supported")
        return None
    folder = Path(os.path.normpath(base / raw))
    if not confined(folder, root):
        report.error(key, f"build context '{raw}' is outside the repository: it must be inside it")
        return None
    if not _is_context(report, key, raw, folder):
        return None
    df_key: Key = ("build", "dockerfile_path") if "dockerfile_path" in build else key
    if not _dockerfile_ok(report, df_key, folder, dockerfile, raw):
        return None
    return str(folder), normalize_dockerfile_path(dockerfile)


def _is_context(report: Report, key: Key, raw: str, folder: Path) -> bool:
    if not folder.exists():
        report.error(key, with_hint(f"build context folder '{raw}' not found", raw))
        return False
    if not folder.is_dir():
        report.error(key, f"build context '{raw}' is a file: build.path must name the Dockerfile's folder")
        return False
    return True


def _dockerfile_ok(report: Report, key: Key, folder: Path, dockerfile: str, context: str) -> bool:
    relative = normalize_dockerfile_path(dockerfile)
    lexical = Path(os.path.normpath(folder / relative))
    if not lexical.is_relative_to(folder):
        report.error(key, f"dockerfile_path '{dockerfile}' is outside the build context '{context}'")
        return False
    if not lexical.is_file():
        message = f"Dockerfile '{relative}' not found in build context '{context}'"
        report.error(key, with_hint(message, dockerfile))
        return False
    if not lexical.resolve().is_relative_to(folder.resolve()):
        # Docker cannot follow a link out of the context, and az ml would upload the target.
        report.error(key, f"Dockerfile '{relative}' is a symlink to outside the build context '{context}'")
        return False
    return True


def inference_config(config: Any) -> dict[str, Any] | None:
    """`{liveness_route: {path, port}, ...}` → the REST shape `{livenessRoute: {...}, ...}`."""
    if not isinstance(config, dict):
        return None
    return {_camel(name): {"path": r["path"], "port": int(r["port"])} for name, r in config.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def yaml_reason(error: YamlError, read: Callable[[], str]) -> str:
    """The YAML error's reason, plus the placeholder hint when its line looks templated."""
    # Templated files often stop being YAML at all (`version: {{V}}` is a flow mapping as key).
    try:
        lines = read().splitlines()
    except (OSError, UnicodeDecodeError):
        return error.reason
    line = lines[error.line - 1] if 0 < error.line <= len(lines) else ""
    return f"{error.reason} ({TEMPLATE_HINT})" if is_templated(line) else error.reason


def identity(data: dict[str, Any]) -> tuple[str, str | None] | None:
    """(name, version) as written, for the one-file-per-version rule; even in an invalid file."""
    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str):
        return None
    ok = isinstance(version, (str, int, float)) and not isinstance(version, bool)
    return name, str(version) if ok else None


def inputs(data: dict[str, Any], base: Path, root: Path) -> tuple[Path, ...]:
    """The conda file and local build context `data` names, valid or not, when inside `root`
    (the cache checks inputs by reading them)."""
    found: list[Path | None] = []
    if isinstance(data.get("conda_file"), str):
        found.append(conda_path(data["conda_file"], base))
    if isinstance(data.get("build"), dict):
        found.append(context_folder(data["build"], base))
    return tuple(p for p in found if p is not None and confined(p, root))
