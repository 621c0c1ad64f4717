"""Every policy rule: its stable id, its default severity, and what it protects against.

Ids are public: they appear in output, in `policy.rules`, and in suppression comments, so they
never change. No default is `error`: upgrading envsync must not fail a repository that planned
cleanly before; a config turns rules into errors.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(str, enum.Enum):
    """A rule's severity; `policy.rules` in envsync.yaml sets it."""

    OFF = "off"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Level.OFF: 0, Level.WARNING: 1, Level.ERROR: 2}


@dataclass(frozen=True)
class Rule:
    id: str
    family: str  # images, python, metadata, context, references
    default: Level
    protects: str  # what goes wrong without it, one line
    fix: str  # what to do about a finding, one line
    parameters: str = ""  # the policy keys that tune it


RULES: tuple[Rule, ...] = (
    Rule(
        "image-mutable-tag",
        "images",
        Level.WARNING,
        "a base image named by a moving tag (:latest, or none) builds differently on each workspace",
        "pin a version tag or a digest (image@sha256:...)",
        "images.mutable_tags",
    ),
    Rule(
        "image-digest-required",
        "images",
        Level.OFF,
        "a tag can be re-pushed: only a digest (@sha256:...) names the same bytes everywhere",
        "append @sha256:<digest> to the image (docker buildx imagetools inspect prints it)",
        "images.require_digest",
    ),
    Rule(
        "image-registry-allowed",
        "images",
        Level.WARNING,
        "base images pulled from registries nobody vetted",
        "pull from an allowed registry, or a vetted mirror of the image",
        "images.allowed_registries",
    ),
    Rule(
        "pip-unpinned",
        "python",
        Level.WARNING,
        "a pip requirement without == (or a hash) installs whatever is newest at build time",
        "write name==version, or add --hash=sha256:...",
    ),
    Rule(
        "pip-url-unpinned",
        "python",
        Level.WARNING,
        "a git+ requirement without a commit hash, or a file URL without #sha256=, can change",
        "pin git+ URLs to a full commit hash (@<40 hex>); add #sha256= to file URLs",
    ),
    Rule(
        "pip-index-option",
        "python",
        Level.WARNING,
        "--index-url, --extra-index-url, --find-links, --trusted-host: dependency confusion",
        "drop the option: set indexes in the image's pip config, or use a proxy that owns the names",
    ),
    Rule(
        "conda-unpinned",
        "python",
        Level.WARNING,
        "a conda package without =version lets the solver pick a different one in each build",
        "write name=version (or list the package in conda.allow_unpinned)",
        "conda.allow_unpinned",
    ),
    Rule(
        "conda-channel-denied",
        "python",
        Level.WARNING,
        "channels the organisation may not use (Anaconda's defaults, under its terms of service)",
        "use an allowed channel (conda-forge), and list nodefaults when defaults is denied",
        "conda.denied_channels",
    ),
    Rule(
        "python-version-required",
        "python",
        Level.WARNING,
        "a conda spec without python=X.Y gets whichever Python the solver picks",
        "add python=3.X to the conda dependencies",
    ),
    Rule(
        "solvable",
        "python",
        Level.OFF,
        "a conda spec or pip section that cannot be installed: the image build fails on the first job",
        "change the pins the message names (envsync solve shows the whole solve); plan checks it",
    ),
    Rule(
        "tag-required",
        "metadata",
        Level.WARNING,
        "environments nobody owns: required tags (owner, cost centre) missing or malformed",
        "add the tag, with a value its pattern accepts",
        "tags.required",
    ),
    Rule(
        "description-required",
        "metadata",
        Level.OFF,
        "environments nobody can tell apart in the studio's list",
        "add a description saying what the environment is for",
    ),
    Rule(
        "name-pattern",
        "metadata",
        Level.WARNING,
        "environment names outside the team's naming scheme",
        "rename the environment (a new name is a new environment in Azure ML)",
        "names.pattern",
    ),
    Rule(
        "context-secret-file",
        "context",
        Level.WARNING,
        "secrets (.env, *.pem, id_rsa...) uploaded with a build context, readable by the workspace",
        "delete the file from the context, or list it in .amlignore",
        "context.secret_files",
    ),
    Rule(
        "context-max-size",
        "context",
        Level.WARNING,
        "data or models swept into a build context: slow uploads, one copy per version",
        "list data, models and build output in .amlignore",
        "context.max_size_mb",
    ),
    Rule(
        "context-max-files",
        "context",
        Level.WARNING,
        "a build context with a virtualenv or a dataset in it",
        "list virtualenvs, datasets and caches in .amlignore",
        "context.max_files",
    ),
    Rule(
        "reference-latest",
        "references",
        Level.OFF,
        "a job or deployment on @latest of a managed environment runs whatever the next apply creates",
        "reference azureml:NAME:VERSION in the job or deployment",
    ),
)

BY_ID = {rule.id: rule for rule in RULES}
