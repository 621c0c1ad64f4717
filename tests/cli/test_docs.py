"""Docs that cannot rot: every command has help and is in the README; the README's config
example is valid config."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from envsync.cli import cli
from envsync.spec.schemas import validator

README = (Path(__file__).parents[2] / "README.md").read_text()


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize(("name", "command"), commands(cli), ids=[n for n, _ in commands(cli)])
def test_every_command_has_help_and_is_in_the_readme(name: str, command: click.Command) -> None:
    assert command.help, f"envsync {name} has no help"
    assert f"envsync {name}" in README, f"README.md does not mention `envsync {name}`"


def test_readme_config_example_is_valid_config() -> None:
    example = re.search(r"## Configuration.*?```yaml\n(.*?)```", README, re.S)
    assert example is not None
    assert list(validator("config").iter_errors(yaml.safe_load(example.group(1)))) == []


def test_readme_starts_with_exactly_two_commands() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 2
    assert "pytest" in lines[1]
