"""Every rule, table-driven: a good input (no finding) and bad ones, each finding located at the
file, line and column of the offending value. Policies are envsync.yaml text; paths are shown
relative to the repository root."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.policy.conftest import Find

IMG = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1"
DIGEST = "@sha256:" + "a" * 64
E = "environments/e.yml"
DF = "environments/ctx/Dockerfile"


def env(body: str, name: str = "e") -> str:
    return f"name: {name}\n{body}"


def built(dockerfile: str, **extra: str) -> dict[str, str]:
    """e.yml building environments/ctx/ (build.path's value is at 3:9) with this Dockerfile."""
    return {
        E: env("build:\n  path: ctx\n"),
        DF: dockerfile,
        **{f"environments/ctx/{k}": v for k, v in extra.items()},
    }


def pip(*lines: str) -> dict[str, str]:
    """Inline conda whose pip entries start on line 7, column 11."""
    entries = "".join(f"        - {line!r}\n" if " " in line else f"        - {line}\n" for line in lines)
    return {E: env(f"image: {IMG}\nconda_file:\n  dependencies:\n    - python=3.11\n    - pip:\n{entries}")}


def conda(*deps: str, channels: str = "") -> dict[str, str]:
    """A conda file beside e.yml; channels (if any) first, then dependencies."""
    text = (
        (f"channels:\n{channels}" if channels else "")
        + "dependencies:\n"
        + "".join(f"  - {d}\n" for d in deps)
    )
    return {E: env(f"image: {IMG}\nconda_file: e/conda.yml\n"), "environments/e/conda.yml": text}


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]
    expected: list[str] = field(default_factory=list)  # "path:line:col rule"; [] for a good input
    policy: str = ""  # envsync.yaml


CASES = [
    # image-mutable-tag (warning by default)
    Case("mutable-good", {E: env(f"image: {IMG}\n")}),
    Case("mutable-latest", {E: env("image: python:latest\n")}, [f"{E}:2:8 image-mutable-tag"]),
    Case("mutable-untagged", {E: env("image: ubuntu\n")}, [f"{E}:2:8 image-mutable-tag"]),
    Case("mutable-latest-by-digest", {E: env(f"image: python:latest{DIGEST}\n")}),
    Case(
        "mutable-listed-tag",
        {E: env("image: python:stable\n")},
        [f"{E}:2:8 image-mutable-tag"],
        "policy:\n  images:\n    mutable_tags: [stable]\n",
    ),
    Case(
        "mutable-from-arg-default",
        built("ARG TAG=latest\nFROM python:${TAG}\n"),
        [f"{DF}:2:6 image-mutable-tag"],
    ),
    Case("mutable-from-arg-pinned", built("ARG TAG=3.11.9\nFROM python:${TAG}\n")),
    Case("mutable-from-no-default", built("ARG BASE\nFROM ${BASE}\n"), [f"{DF}:2:6 image-mutable-tag"]),
    Case(
        "mutable-stages-are-not-images",
        built(f"FROM {IMG} AS build\nRUN make\nFROM build\nCOPY --from=build /a /a\n"),
    ),
    Case(
        "mutable-copy-from-image",
        built(f"FROM {IMG}\nCOPY --from=busybox /bin/sh /sh\n"),
        [f"{DF}:2:13 image-mutable-tag"],
    ),
    Case(
        "mutable-from-platform-flag",
        built("FROM --platform=linux/amd64 python AS base\n"),
        [f"{DF}:1:29 image-mutable-tag"],
    ),
    # image-digest-required (off by default)
    Case("digest-off-by-default", {E: env(f"image: {IMG}\n")}),
    Case(
        "digest-good",
        {E: env(f"image: {IMG}{DIGEST}\n")},
        policy="policy:\n  rules: {image-digest-required: error}\n",
    ),
    Case(
        "digest-missing",
        {E: env(f"image: {IMG}\n")},
        [f"{E}:2:8 image-digest-required"],
        "policy:\n  images: {require_digest: true}\n",
    ),
    Case(
        "digest-missing-in-from",
        built(f"FROM {IMG}\n"),
        [f"{DF}:1:6 image-digest-required"],
        "policy:\n  rules: {image-digest-required: warning}\n",
    ),
    # image-registry-allowed
    Case("registry-any-by-default", {E: env("image: python:3.11.9\n")}),
    Case(
        "registry-good",
        {E: env(f"image: {IMG}\n")},
        policy="policy:\n  images: {allowed_registries: [mcr.microsoft.com]}\n",
    ),
    Case(
        "registry-docker-hub",
        {E: env("image: python:3.11.9\n")},
        [f"{E}:2:8 image-registry-allowed"],
        "policy:\n  images: {allowed_registries: [mcr.microsoft.com, '*.azurecr.io']}\n",
    ),
    Case(
        "registry-path-glob",
        {E: env("image: mcr.microsoft.com/dotnet/sdk:8.0\n")},
        [f"{E}:2:8 image-registry-allowed"],
        "policy:\n  images: {allowed_registries: ['mcr.microsoft.com/azureml/*']}\n",
    ),
    Case(
        "registry-in-from",
        built("FROM ghcr.io/org/base:1.0\n"),
        [f"{DF}:1:6 image-registry-allowed"],
        "policy:\n  images: {allowed_registries: ['*.azurecr.io']}\n",
    ),
    # pip-unpinned
    Case("pip-good", pip("numpy==1.26.4", "pandas[excel]==2.2.2", "scipy==1.13.0 --hash=sha256:ab12")),
    Case(
        "pip-unpinned",
        pip("numpy>=1.26", "requests", "pandas==2.*"),
        [f"{E}:7:11 pip-unpinned", f"{E}:8:11 pip-unpinned", f"{E}:9:11 pip-unpinned"],
    ),
    # pip-url-unpinned
    Case(
        "pip-url-good",
        pip(
            "git+https://github.com/org/repo.git@" + "0" * 40,
            "pkg @ https://example.com/pkg-1.0.tar.gz#sha256=" + "ab" * 32,
        ),
    ),
    Case(
        "pip-url-moving",
        pip(
            "git+https://github.com/org/repo.git@main",
            "https://example.com/pkg-1.0.tar.gz",
            "-e git+ssh://git@github.com/o/r.git",
        ),
        [f"{E}:7:11 pip-url-unpinned", f"{E}:8:11 pip-url-unpinned", f"{E}:9:11 pip-url-unpinned"],
    ),
    # pip-index-option
    Case("pip-index-good", pip("--pre", "numpy==1.26.4")),
    Case(
        "pip-index-options",
        pip(
            "--extra-index-url https://pypi.example.com/simple",
            "--trusted-host=pypi.example.com",
            "-i https://x",
        ),
        [f"{E}:7:11 pip-index-option", f"{E}:8:11 pip-index-option", f"{E}:9:11 pip-index-option"],
    ),
    # conda-unpinned (in a conda file: located there)
    Case("conda-good", conda("python=3.11", "pip", "numpy=1.26", "scipy 1.13.0", "pandas==2.2.2=py311h_0")),
    Case(
        "conda-unpinned",
        conda("python=3.11", "numpy", "scipy>=1.10", "conda-forge::pandas"),
        [
            "environments/e/conda.yml:3:5 conda-unpinned",
            "environments/e/conda.yml:4:5 conda-unpinned",
            "environments/e/conda.yml:5:5 conda-unpinned",
        ],
    ),
    Case(
        "conda-pip-not-exempt",
        conda("python=3.11", "pip"),
        ["environments/e/conda.yml:3:5 conda-unpinned"],
        "policy:\n  conda: {allow_unpinned: []}\n",
    ),
    # conda-channel-denied
    Case("channel-nothing-denied-by-default", conda("python=3.11", channels="  - defaults\n")),
    Case(
        "channel-good",
        conda("python=3.11", channels="  - conda-forge\n  - nodefaults\n"),
        policy="policy:\n  conda: {denied_channels: [defaults]}\n",
    ),
    Case(
        "channel-denied",
        conda("python=3.11", "anaconda::numpy=1.26", channels="  - defaults\n"),
        [
            "environments/e/conda.yml:2:3 conda-channel-denied",  # no nodefaults: conda adds defaults
            "environments/e/conda.yml:2:5 conda-channel-denied",
            "environments/e/conda.yml:5:5 conda-channel-denied",
        ],
        "policy:\n  conda: {denied_channels: [defaults]}\n",
    ),
    Case(
        "channel-denied-by-url-glob",
        conda("python=3.11", channels="  - https://repo.example.com/conda\n  - nodefaults\n"),
        ["environments/e/conda.yml:2:5 conda-channel-denied"],
        "policy:\n  conda: {denied_channels: ['https://repo.example.com/*']}\n",
    ),
    # python-version-required
    Case("python-good", conda("python 3.11.9")),
    Case("python-range-is-a-version", conda("python>=3.10"), ["environments/e/conda.yml:2:5 conda-unpinned"]),
    Case("python-missing", conda("numpy=1.26"), ["environments/e/conda.yml:2:3 python-version-required"]),
    Case(
        "python-unversioned",
        conda("python", "numpy=1.26"),
        [
            "environments/e/conda.yml:2:5 conda-unpinned",
            "environments/e/conda.yml:2:5 python-version-required",
        ],
    ),
    Case("python-image-only", {E: env(f"image: {IMG}\n")}),
    # tag-required
    Case(
        "tag-good",
        {E: env(f"image: {IMG}\ntags:\n  owner: ml-team\n")},
        policy="policy:\n  tags: {required: {owner: '[a-z-]+'}}\n",
    ),
    Case(
        "tag-missing",
        {E: env(f"image: {IMG}\ntags:\n  team: x\n")},
        [f"{E}:4:3 tag-required"],
        "policy:\n  tags: {required: {owner: '[a-z-]+'}}\n",
    ),
    Case(
        "tag-malformed",
        {E: env(f"image: {IMG}\ntags:\n  owner: ML Team\n")},
        [f"{E}:4:10 tag-required"],
        "policy:\n  tags: {required: {owner: '[a-z-]+'}}\n",
    ),
    Case(
        "tag-no-tags-at-all",
        {E: env(f"image: {IMG}\n")},
        [f"{E}:1:7 tag-required"],
        "policy:\n  tags: {required: [owner]}\n",
    ),
    # description-required (off by default)
    Case("description-off-by-default", {E: env(f"image: {IMG}\n")}),
    Case(
        "description-good",
        {E: env(f"description: what it is for\nimage: {IMG}\n")},
        policy="policy:\n  rules: {description-required: error}\n",
    ),
    Case(
        "description-missing",
        {E: env(f"image: {IMG}\n")},
        [f"{E}:1:7 description-required"],
        "policy:\n  rules: {description-required: error}\n",
    ),
    # name-pattern
    Case(
        "name-good",
        {E: env(f"image: {IMG}\n", name="ml-base")},
        policy="policy:\n  names: {pattern: '[a-z][a-z-]*'}\n",
    ),
    Case(
        "name-bad",
        {E: env(f"image: {IMG}\n", name="ML_base")},
        [f"{E}:1:7 name-pattern"],
        "policy:\n  names: {pattern: '[a-z][a-z-]*'}\n",
    ),
    # context-secret-file
    Case("secret-good", built(f"FROM {IMG}\n", **{"app.py": "print()\n"})),
    Case(
        "secret-files",
        built(f"FROM {IMG}\n", **{".env": "TOKEN=x\n", "keys/id_rsa": "x\n", "tls/server.PEM": "x\n"}),
        [f"{E}:3:9 context-secret-file"] * 3,
    ),
    Case(
        "secret-ignored-by-amlignore", built(f"FROM {IMG}\n", **{".env": "TOKEN=x\n", ".amlignore": ".env\n"})
    ),
    # context-max-size, context-max-files
    Case("size-good", built(f"FROM {IMG}\n", **{"big.bin": "x" * 2000})),
    Case(
        "size-over",
        built(f"FROM {IMG}\n", **{"big.bin": "x" * 2000}),
        [f"{E}:3:9 context-max-size"],
        "policy:\n  context: {max_size_mb: 0.001}\n",
    ),
    Case("files-good", built(f"FROM {IMG}\n", a="1", b="2"), policy="policy:\n  context: {max_files: 3}\n"),
    Case(
        "files-over",
        built(f"FROM {IMG}\n", a="1", b="2"),
        [f"{E}:3:9 context-max-files"],
        "policy:\n  context: {max_files: 2}\n",
    ),
    # severities: a rule turned off finds nothing
    Case(
        "rule-off",
        {E: env("image: python:latest\n")},
        policy="policy:\n  rules: {image-mutable-tag: 'off'}\n",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(find: Find, case: Case) -> None:
    assert find(case.files, case.policy) == sorted(case.expected)


def test_every_rule_has_a_good_and_a_bad_case() -> None:
    from envsync.spec.policy.catalog import RULES

    bad = {line.split()[-1] for c in CASES for line in c.expected}
    # reference-latest: tests/policy/test_policy_cli.py (jobs); solvable: tests/solve (a channel)
    assert bad == {r.id for r in RULES} - {"reference-latest", "solvable"}
