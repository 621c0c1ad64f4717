"""The GitHub Action and workflows: valid against SchemaStore's schemas, and every envsync
command line they run uses commands and options that exist."""

from __future__ import annotations

import json
import re
import shlex
from importlib.resources import files
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml

from envsync.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / "action.yml"
SCRIPT = ROOT / "action" / "run.sh"  # the action's main step
# check-jsonschema vendors SchemaStore's schemas (github-workflow.json, github-action.json).
VENDOR = files("check_jsonschema.builtin_schemas.vendor")
OPAQUE = {"$ARGS"}  # the action's `args` input: the user's words, unknowable here
_USES = re.compile(r"^(\./.*|[\w.-]+/[\w./-]+@[0-9a-f]{40})$")  # the repo's own action, or a full SHA
# Third-party actions are pinned by commit, the release it is named in a comment (Dependabot's form).
_PINNED_LINE = re.compile(r"^\s*(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


class Yaml12Loader(yaml.SafeLoader):
    """GitHub reads YAML 1.2: `on:` is a key there, not the boolean True of YAML 1.1."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=Yaml12Loader)  # noqa: S506  a SafeLoader subclass


def schema(name: str) -> Any:
    return json.loads(VENDOR.joinpath(name).read_text())


def steps(doc: Any) -> list[dict[str, Any]]:
    if "runs" in doc:
        return list(doc["runs"].get("steps", []))
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def test_the_workflows_are_all_there() -> None:
    assert [p.name for p in WORKFLOWS] == ["apply.yml", "ci.yml", "docs.yml", "drift.yml", "plan.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_schemastore(path: Path) -> None:
    errors = list(jsonschema.Draft7Validator(schema("github-workflows.json")).iter_errors(load(path)))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_action_matches_schemastore() -> None:
    doc = load(ACTION)
    errors = list(jsonschema.Draft7Validator(schema("github-actions.json")).iter_errors(doc))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    assert doc["runs"]["using"] == "composite"
    assert set(doc["inputs"]) >= {
        "command",
        "target",
        "working-directory",
        "args",
        "python-version",
        "comment",
    }
    assert set(doc["outputs"]) >= {"exit-code", "has-changes", "plan-path", "summary", "report-path"}
    assert all(o["value"].startswith("${{ steps.run.outputs.") for o in doc["outputs"].values())


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_pinned_actions_no_secrets_no_expressions_in_scripts(path: Path) -> None:
    text = path.read_text()
    assert "secrets." not in text  # Azure through OIDC federated credentials only
    for step in steps(load(path)):
        if "uses" in step:
            assert _USES.match(step["uses"]), step["uses"]
        # ${{ }} pasted into a script is script injection; inputs travel through env instead.
        assert "${{" not in step.get("run", ""), step["run"]
    pinned = [line for line in text.splitlines() if re.match(r"^\s*(- )?uses: (?!\./)", line)]
    assert all(_PINNED_LINE.match(line) for line in pinned), pinned


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_leave_no_credentials_behind(path: Path) -> None:
    checkouts = [s for s in steps(load(path)) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_the_envsync_workflows_call_the_repositorys_own_action() -> None:
    for name, command in (("plan.yml", "plan"), ("apply.yml", "apply"), ("drift.yml", "drift")):
        doc = load(ROOT / ".github" / "workflows" / name)
        own = [s for s in steps(doc) if s.get("uses") == "./"]
        assert [s["with"]["command"] for s in own] == [command], name
        assert not any("run" in s for s in steps(doc)), f"{name} repeats the action's steps"
    plan = load(ROOT / ".github" / "workflows" / "plan.yml")
    [own] = [s for s in steps(plan) if s.get("uses") == "./"]
    assert own["with"]["args"] == "--changed-since origin/${{ github.base_ref }}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_calls_of_the_own_action_pass_inputs_it_declares(path: Path) -> None:
    # actionlint cannot read a local action's inputs (nor those of actions pinned by SHA).
    inputs = load(ACTION)["inputs"]
    required = {name for name, spec in inputs.items() if spec.get("required")}
    for step in steps(load(path)):
        if step.get("uses") == "./":
            given = set(step.get("with", {}))
            assert given <= set(inputs), given - set(inputs)
            assert required <= given | {n for n in required if "default" in inputs[n]}


def test_the_action_uploads_the_whole_report_and_fails_after_reporting() -> None:
    by_name = {s["name"]: s for s in load(ACTION)["runs"]["steps"]}
    upload = by_name["Upload the whole report"]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["if"].startswith("always()")
    assert upload["with"] == {
        "name": "${{ steps.run.outputs.artifact-name }}",
        "path": "${{ steps.run.outputs.report-dir }}",
        "if-no-files-found": "ignore",
    }
    assert list(by_name)[-1] == "Fail on errors"
    assert (
        by_name["Fail on errors"]["if"]
        == '${{ !contains(fromJSON(\'["0", "2"]\'), steps.run.outputs.exit-code) }}'
    )


def test_plan_apply_and_drift_wiring() -> None:
    plan, apply, drift = (
        load(ROOT / ".github" / "workflows" / n) for n in ("plan.yml", "apply.yml", "drift.yml")
    )
    assert plan["on"] == {"pull_request": None}
    assert plan["permissions"]["pull-requests"] == "write" and plan["permissions"]["id-token"] == "write"
    checkout = next(
        s for s in plan["jobs"]["plan"]["steps"] if s.get("uses", "").startswith("actions/checkout")
    )
    assert checkout["with"]["fetch-depth"] == 0
    assert apply["on"]["push"] == {"branches": ["main"]}
    assert apply["jobs"]["apply"]["concurrency"]["cancel-in-progress"] is False
    assert apply["jobs"]["apply"]["concurrency"]["group"].startswith("envsync-apply-")
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"} and drift["permissions"]["issues"] == "write"


def test_drift_uses_the_action_and_heals_only_when_the_variable_asks() -> None:
    drift, apply = (load(ROOT / ".github" / "workflows" / n)["jobs"] for n in ("drift.yml", "apply.yml"))
    step = next(s for s in drift["drift"]["steps"] if s.get("uses") == "./")
    assert step["with"]["command"] == "drift"
    assert step["with"]["self-heal"] == "${{ vars.ENVSYNC_SELF_HEAL == 'true' }}"
    # A heal is an apply: it joins apply.yml's group for the target, and never cancels one.
    group = drift["drift"]["concurrency"]["group"]
    assert group.startswith("${{ vars.ENVSYNC_SELF_HEAL == 'true' && 'envsync-apply-' || 'envsync-drift-' }}")
    assert group.endswith("${{ matrix.target || 'default' }}")
    assert apply["apply"]["concurrency"]["group"] == "envsync-apply-${{ matrix.target || 'default' }}"
    assert drift["drift"]["concurrency"]["cancel-in-progress"] is False
    inputs = load(ACTION)["inputs"]
    assert inputs["self-heal"]["default"] == "false"


# --- every envsync command line uses commands and options that exist ---------------------------

_KEYWORDS = {"then", "else", "do", "!", "if", "elif", "while", "until", "time"}


def _lines(script: str) -> list[str]:
    return script.replace("\\\n", " ").splitlines()


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _is_separator(token: str) -> bool:
    return bool(token) and all(c in "();&|<>" for c in token)


def _invocations(tokens: list[str]) -> list[list[str]]:
    """The arguments of each `envsync ...` simple command on a line, up to its end or redirect."""
    found = []
    for i, token in enumerate(tokens):
        if token != "envsync":
            continue
        before = tokens[i - 1] if i else None
        assert before is None or _is_separator(before) or before in _KEYWORDS, f"unexpected: {tokens}"
        args = []
        for j, arg in enumerate(tokens[i + 1 :], i + 1):
            redirect_fd = arg.isdigit() and j + 1 < len(tokens) and tokens[j + 1][:1] in "<>"
            if _is_separator(arg) or redirect_fd:
                break
            args.append(arg)
        found.append(args)
    return found


def _command_lines() -> list[Any]:
    scripts = [
        (path.name, step.get("run", "")) for path in [*WORKFLOWS, ACTION] for step in steps(load(path))
    ]
    cases = []
    for name, script in [*scripts, ("action/run.sh", SCRIPT.read_text())]:
        for line in _lines(script):
            if line.lstrip().startswith("#"):
                continue
            for args in _invocations(_tokens(line)):
                cases.append(pytest.param(args, id=f"{name}: envsync {' '.join(args)}"))
    return cases


def _option(command: click.Command, name: str) -> click.Option | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def check_args(args: list[str]) -> list[str]:
    """Problems with an envsync argument list, resolved against the click commands as they are."""
    command: click.Command = cli
    where, problems, i = "envsync", [], 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in OPAQUE:
            continue
        if arg.startswith("-") and arg != "-":
            i = _check_option(command, where, args, i, problems)
        elif isinstance(command, click.Group):
            sub = command.commands.get(arg)
            if sub is None:
                return [*problems, f"`{where}` has no command '{arg}'"]
            command, where = sub, f"{where} {arg}"
        elif not any(isinstance(p, click.Argument) for p in command.params):
            problems.append(f"`{where}` takes no argument '{arg}'")
    if isinstance(command, click.Group):
        problems.append(f"`{where}` needs a command")
    return problems


def _check_option(command: click.Command, where: str, args: list[str], i: int, problems: list[str]) -> int:
    """Check the option args[i - 1] (and its value); returns the index after them."""
    name, _, inline = args[i - 1].partition("=")
    option = _option(command, name)
    takes_value = option is None or not (option.is_flag or option.count)
    has_next = not inline and i < len(args) and (option is not None or not args[i].startswith("-"))
    value = inline or (args[i] if has_next else "")
    if option is None:
        problems.append(f"`{where}` has no option {name}")  # its value would read as a stray argument
    elif takes_value:
        choices = getattr(option.type, "choices", None)
        if choices and "$" not in value and value not in choices:
            problems.append(f"`{where} {name}`: '{value}' is not one of {list(choices)}")
    return i + (1 if takes_value and has_next else 0)


COMMAND_LINES = _command_lines()


def test_command_lines_were_found() -> None:
    # The workflows call the action, whose main step is action/run.sh: every envsync command line
    # lives there, but for the action's preflight step (envsync doctor). A parser that finds
    # nothing would pass vacuously.
    shown = {case.id.split(":")[0] for case in COMMAND_LINES}
    assert shown == {"action/run.sh", "action.yml"}
    assert len(COMMAND_LINES) >= 11


@pytest.mark.parametrize("args", COMMAND_LINES)
def test_command_line_uses_existing_options(args: list[str]) -> None:
    assert check_args(args) == []


def test_the_checker_catches_mistakes() -> None:
    assert check_args(["plan", "--formt", "markdown"]) == ["`envsync plan` has no option --formt"]
    assert check_args(["plan", "--format", "html"])[0].startswith("`envsync plan --format`: 'html'")
    assert check_args(["nope"]) == ["`envsync` has no command 'nope'"]
    assert check_args(["github"]) == ["`envsync github` needs a command"]
    assert check_args(["github", "issue", "--close", "extra"]) == [
        "`envsync github issue` takes no argument 'extra'"
    ]
    assert check_args(["-C", "infra", "validate", "environments/a.yml", "--format=json"]) == []
