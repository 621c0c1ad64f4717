"""envsync.yaml's policy: defaults, the top level replacing them, targets that can only tighten,
and every bad policy reported at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsync.config import load
from envsync.errors import ConfigError
from envsync.spec.policy.catalog import RULES, Level
from envsync.spec.policy.settings import DEFAULT_POLICY
from envsync.spec.schemas import schema

TARGET = "targets:\n  prod:\n    type: local\n    policy:\n"


def config_with(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "envsync.yaml").write_text(text)
    return load(tmp_path)


def test_no_default_is_an_error_so_upgrades_never_break_a_clean_repo() -> None:
    assert all(rule.default is not Level.ERROR for rule in RULES)
    assert DEFAULT_POLICY.level("image-mutable-tag") is Level.WARNING
    assert DEFAULT_POLICY.level("image-digest-required") is Level.OFF


def test_the_schema_lists_exactly_the_catalog_rules() -> None:
    rules = schema("config")["$defs"]["policy"]["properties"]["rules"]["properties"]
    assert list(rules) == [r.id for r in RULES]


def test_a_target_without_a_policy_gets_the_top_levels(tmp_path: Path) -> None:
    config = config_with(
        tmp_path, "policy:\n  rules: {pip-unpinned: error}\ntargets:\n  dev: {type: local}\n"
    )
    assert config.policy("dev") is config.policy(None)
    assert config.policy("dev").level("pip-unpinned") is Level.ERROR
    assert config.policy_key("dev") == "dev" and config.policy_key(None) == ""


def test_a_target_tightens(tmp_path: Path) -> None:
    config = config_with(
        tmp_path,
        "policy:\n"
        "  images: {allowed_registries: ['mcr.microsoft.com/*', '*.azurecr.io'], mutable_tags: [stable]}\n"
        "  conda: {denied_channels: [defaults], allow_unpinned: [pip, setuptools]}\n"
        "  tags: {required: {owner: '.+'}}\n"
        "  names: {pattern: '[a-z-]+'}\n"
        "  context: {max_size_mb: 50, max_files: 100, secret_files: ['*.pem']}\n"
        + TARGET
        + "      rules: {image-mutable-tag: error, image-digest-required: warning}\n"
        "      images: {allowed_registries: ['mcr.microsoft.com/azureml/*', 'prod.azurecr.io'], require_digest: true}\n"
        "      conda: {denied_channels: [anaconda], allow_unpinned: [pip]}\n"
        "      tags: {required: {owner: '[a-z-]+', cost-center: 'CC-[0-9]+'}}\n"
        "      names: {pattern: 'prod-.*'}\n"
        "      context: {max_size_mb: 10, max_files: 20, secret_files: ['.env']}\n",
    )
    top, prod = config.policy(None), config.policy("prod")
    assert (prod.level("image-mutable-tag"), prod.level("image-digest-required")) == (
        Level.ERROR,
        Level.ERROR,
    )
    assert prod.allowed_registries == ("mcr.microsoft.com/azureml/*", "prod.azurecr.io")
    assert prod.mutable_tags == {"latest", "stable"}
    assert prod.denied_channels == {"defaults", "anaconda"} and prod.allow_unpinned == {"pip"}
    assert prod.required_tags == {"owner": (".+", "[a-z-]+"), "cost-center": ("CC-[0-9]+",)}
    assert prod.name_patterns == ("[a-z-]+", "prod-.*")
    assert (prod.max_context_mb, prod.max_context_files, set(prod.secret_files)) == (
        10,
        20,
        {"*.pem", ".env"},
    )
    assert top.level("image-mutable-tag") is Level.WARNING and top.max_context_mb == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "policy:\n  rules: {pip-unpinned: error}\n" + TARGET + "      rules: {pip-unpinned: warning}\n",
            "envsync.yaml:7:29: targets.prod.policy.rules.pip-unpinned: 'warning' is looser than the top "
            "level's 'error'; a target's policy can only tighten the top-level policy",
        ),
        (
            TARGET + "      rules: {image-mutable-tag: 'off'}\n",
            "envsync.yaml:5:34: targets.prod.policy.rules.image-mutable-tag: 'off' is looser than the top "
            "level's 'warning'",
        ),
        (
            "policy:\n  images: {allowed_registries: [mcr.microsoft.com]}\n"
            + TARGET
            + "      images:\n        allowed_registries: [mcr.microsoft.com, docker.io]\n",
            "envsync.yaml:8:49: targets.prod.policy.images.allowed_registries.1: 'docker.io' is not inside "
            "['mcr.microsoft.com']",
        ),
        (
            TARGET + "      conda: {allow_unpinned: [pip, numpy]}\n",
            "envsync.yaml:5:37: targets.prod.policy.conda.allow_unpinned.1: 'numpy' is not exempt at the top level",
        ),
        (
            TARGET + "      context: {max_files: 20000}\n",
            "envsync.yaml:5:28: targets.prod.policy.context.max_files: 20000 is over the top level's 10000",
        ),
        (
            "policy:\n  rules: {pip-unpined: error}\n",
            "envsync.yaml:2:11: policy.rules: unknown key 'pip-unpined' (did you mean 'pip-unpinned'?)",
        ),
        (
            "policy:\n  rules: {pip-unpinned: fatal}\n",
            "envsync.yaml:2:25: policy.rules.pip-unpinned: 'fatal' is not one of",
        ),
        (
            "policy:\n  names: {pattern: '[a-z'}\n",
            "envsync.yaml:2:20: policy.names.pattern: '[a-z' is not a 'regex'",
        ),
        ("policy:\n  image: {}\n", "envsync.yaml:2:3: policy: unknown key 'image' (did you mean 'images'?)"),
        (
            TARGET + "      context: {max_size_mb: 0}\n",
            "envsync.yaml:5:30: targets.prod.policy.context.max_size_mb: 0 is less than or equal",
        ),
    ],
)
def test_a_bad_policy_is_a_located_config_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        config_with(tmp_path, text)
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize(
    ("outer", "inner", "inside"),
    [
        ("mcr.microsoft.com", "mcr.microsoft.com/azureml/*", True),
        ("mcr.microsoft.com", "mcr.microsoft.com", True),
        ("*.azurecr.io", "prod.azurecr.io", True),
        ("*.azurecr.io", "prod.azurecr.io/team/*", True),
        ("mcr.microsoft.com/*", "mcr.microsoft.com/azureml/*", True),
        ("mcr.microsoft.com/azureml/*", "mcr.microsoft.com", False),  # the whole registry is wider
        ("mcr.microsoft.com", "docker.io/library/*", False),
    ],
)
def test_a_narrower_registry_glob_is_inside_a_wider_one(
    tmp_path: Path, outer: str, inner: str, inside: bool
) -> None:
    text = f"policy:\n  images: {{allowed_registries: ['{outer}']}}\n{TARGET}      images: {{allowed_registries: ['{inner}']}}\n"
    if inside:
        assert config_with(tmp_path, text).policy("prod").allowed_registries == (inner,)
    else:
        with pytest.raises(ConfigError, match="is not inside"):
            config_with(tmp_path, text)
