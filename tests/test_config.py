"""envsync.yaml: defaults, targets, and a clear located error for every bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsync.config import DEFAULT_GLOBS, load
from envsync.errors import ConfigError, ExitCode
from tests.helpers import run, sample_repo


def write(root: Path, text: str) -> Path:
    (root / "envsync.yaml").write_text(text)
    return root


def test_no_config_means_defaults(tmp_path: Path) -> None:
    config = load(tmp_path)
    assert config.environments == DEFAULT_GLOBS
    assert config.target(None).path == tmp_path / ".envsync" / "workspace.db"
    assert config.target_names() == ["local"]


def test_full_config(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            """
environments: envs/*.yml
default_target: dev
targets:
  dev: {type: azureml, subscription_id: s, resource_group: rg, workspace: ws-dev, endpoint: "http://127.0.0.1:1"}
  scratch: {type: local, path: scratch/x.db}
concurrency: 4
ignore_tags: [costcenter]
exclude: [old]
protected: [base]
""",
        )
    )
    assert config.environments == ("envs/*.yml",)
    dev = config.target(None)
    assert (dev.kind, dev.workspace, dev.endpoint) == ("azureml", "ws-dev", "http://127.0.0.1:1")
    assert dev.arm_id.endswith(
        "/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws-dev"
    )
    assert config.target("scratch").path == tmp_path / "scratch" / "x.db"
    assert config.target_names() == ["dev", "scratch"]
    assert (config.concurrency, config.ignore_tags, config.exclude, config.protected) == (
        4,
        frozenset({"costcenter"}),
        frozenset({"old"}),
        frozenset({"base"}),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("concurrency: 0\n", "envsync.yaml:1:14: concurrency: 0 is less than the minimum of 1"),
        (
            "concurency: 4\n",
            "envsync.yaml:1:1: (top level): unknown key 'concurency' (did you mean 'concurrency'?)",
        ),
        (
            "targets:\n  dev: {type: azureml}\n",
            "envsync.yaml:2:8: targets.dev: 'subscription_id' is a required property",
        ),
        (
            "targets:\n  dev: {type: azur}\n",
            "envsync.yaml:2:15: targets.dev.type: 'azur' is not one of ['local', 'azureml', 'registry']",
        ),
        (
            "targets:\n  dev: {type: local, pth: x}\n",
            "envsync.yaml:2:22: targets.dev: unknown key 'pth' (did you mean 'path'?)",
        ),
        (
            "targets:\n  dev: {type: azureml, subscription_id: s, resource_group: r, workspace: x}\n",
            "envsync.yaml:2:74: targets.dev.workspace: 'x' is not a valid workspace name: use 3-33 letters, "
            "digits, '-' and '_', starting with a letter or digit",
        ),
        (
            "targets:\n  reg: {type: registry, subscription_id: s, resource_group: r}\n",
            "envsync.yaml:2:8: targets.reg: 'registry' is a required property",
        ),
        (
            "targets:\n  reg: {type: registry, subscription_id: s, resource_group: r, registry: a.b}\n",
            "envsync.yaml:2:74: targets.reg.registry: 'a.b' is not a valid registry name: use 3-33 letters",
        ),
        (
            "targets:\n  reg: {type: registry, subscription_id: s, resource_group: r, registry: abc, workspace: w}\n",
            "envsync.yaml:2:79: targets.reg: unknown key 'workspace'",
        ),
        (
            "targets:\n  reg: {type: registry, subscription_id: s, resource_group: r, registry: abc, environments: []}\n",
            "envsync.yaml:2:93: targets.reg.environments: [] is not valid",
        ),
        ("default_target: prod\n", "envsync.yaml: default_target 'prod' is not a configured target"),
        ("ignore_tags: costcenter\n", "envsync.yaml:1:14: ignore_tags: 'costcenter' is not of type 'array'"),
        ("- a\n- b\n", "envsync.yaml:1:1: the config must be a mapping"),
        (
            "targets:\n  dev: {type: azureml, subscription_id: s, resource_group: r, workspace: abc, "
            "api_version: v1}\n",
            "envsync.yaml:2:92: targets.dev.api_version: 'v1' is not an ARM api-version: a date, YYYY-MM-DD",
        ),
        ("targets:\n  -bad: {type: local}\n", "envsync.yaml:2:3: targets: '-bad' is not a valid target name"),
        ("targets: {dev: [\n", "envsync.yaml:2:1: invalid YAML"),
    ],
)
def test_bad_config_is_a_located_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(write(tmp_path, text))
    assert str(error.value).startswith(message), str(error.value)
    assert "does not match" not in str(error.value)  # a rule in words, never a raw regex


def test_unknown_target_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown target 'prod' \(configured: local\)"):
        load(tmp_path).target("prod")


def test_bad_config_through_the_cli_is_one_line_and_exit_1(tmp_path: Path) -> None:
    write(sample_repo(tmp_path), "concurrency: many\n")
    result = run(tmp_path, "plan")
    assert result.exit_code == ExitCode.ERROR
    assert result.output.strip().splitlines() == [
        "error: envsync.yaml:1:14: concurrency: 'many' is not of type 'integer'"
    ]


def test_registry_target_and_its_share_of_the_environments(tmp_path: Path) -> None:
    sample_repo(tmp_path)
    (tmp_path / "environments" / "extra").mkdir()
    (tmp_path / "environments" / "extra" / "x.yml").write_text("name: x\nimage: y\n")
    config = load(
        write(
            tmp_path,
            """
targets:
  dev: {type: azureml, subscription_id: s, resource_group: rg, workspace: ws-dev}
  shared: {type: registry, subscription_id: s, resource_group: rg, registry: org-reg, endpoint: "http://127.0.0.1:1", operation_timeout: 90}
  gpu: {type: registry, subscription_id: s, resource_group: rg, registry: gpu-reg, environments: [environments/torch.yml, "environments/extra/*.yml"]}
""",
        )
    )
    shared = config.target("shared")
    assert (shared.kind, shared.registry, shared.workspace, shared.environments) == (
        "registry",
        "org-reg",
        "",
        None,
    )
    assert shared.operation_timeout == 90 and config.target("gpu").operation_timeout is None
    assert (
        shared.arm_id
        == "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/registries/org-reg"
    )
    assert shared.describe() == f"shared ({shared.arm_id})"
    assert config.target_names() == ["dev", "shared", "gpu"]

    class Spec:
        def __init__(self, path: Path):
            self.source = path

    specs = [Spec(p) for p in sorted((tmp_path / "environments").rglob("*.yml"))]
    assert config.specs_for(shared, specs) == tuple(specs)
    assert config.specs_for(config.target("dev"), specs) == tuple(specs)
    chosen = config.specs_for(config.target("gpu"), specs)
    assert sorted(s.source.relative_to(tmp_path).as_posix() for s in chosen) == [
        "environments/extra/x.yml",
        "environments/torch.yml",
    ]
