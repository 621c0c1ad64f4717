"""Docs that cannot rot: the README stays a short front page that starts with the two set-up
commands; the site (docs/, MkDocs) builds strictly, documents every command and option (its
reference is generated from click's help) and every envsync.yaml key (generated from the schema),
and its configuration example is valid config."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest
import yaml

from envsync.cli import cli
from envsync.spec.schemas import validator
from tests.docs_pages import DOCS, README, ROOT, everything, page


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix}{name} ")
    return found


COMMANDS = commands(cli)


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site as `mkdocs build --strict` makes it: a broken link or a missing page fails here."""
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def built(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text()


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help_and_is_in_the_docs(name: str, command: click.Command) -> None:
    assert command.help, f"envsync {name} has no help"
    assert f"envsync {name}" in everything(), f"no page of the docs mentions `envsync {name}`"


def test_the_command_reference_has_every_command_and_option(site: Path) -> None:
    reference = built(site, "commands")
    for name, command in COMMANDS:
        assert f"envsync {name}" in reference, name
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert opt in reference, f"envsync {name} {opt}"


def test_every_config_key_has_a_description_and_is_in_the_reference(site: Path) -> None:
    schema = json.loads((ROOT / "schemas" / "config.schema.json").read_text())
    module = hooks()
    defs = schema["$defs"]
    branches = [b for _, b in module._target_branches(defs)]
    rows = [row for s in (schema, *branches, defs["policy"]) for row in module.schema_rows(s, defs)]
    assert not [key for key, _, text in rows if not text], "schema keys without a description"
    reference = built(site, "configuration")
    assert all(f"<code>{key}</code>" in reference for key, _, _ in rows)


def test_the_action_reference_lists_every_input_and_output(site: Path) -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    reference = built(site, "github-actions")
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"<code>{name}</code>" in reference, name


def test_an_unknown_generator_marker_fails_the_build() -> None:
    with pytest.raises(KeyError):
        hooks().expand("<!-- generated: no-such-table -->")


def test_the_config_example_is_valid_config() -> None:
    example = re.search(r"```yaml\n(.*?)```", page("configuration.md"), re.S)
    assert example is not None
    assert list(validator("config").iter_errors(yaml.safe_load(example.group(1)))) == []


def test_readme_starts_with_exactly_two_commands() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 2
    assert "pytest" in lines[1]


def test_readme_is_a_short_front_page_whose_links_resolve() -> None:
    assert len(README.splitlines()) < 200
    for target in re.findall(r"\]\(((?!https?:|#)[^)#]+)", README):
        assert (ROOT / target).exists(), target
