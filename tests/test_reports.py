"""What a CI run posts when the command failed: what failed, where (file:line), and the error."""

from __future__ import annotations

from envsync.gitops import bodies, reports
from envsync.gitops.reports import Outcome

SHA = "1" * 40
ENV = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo/envs", "GITHUB_RUN_ID": "9"}
LOG = [
    "::error file=environments/bad.yml,line=2,col=8,title=envsync plan::environments/bad.yml:2:8: image must be a string, not an integer",
    "::warning file=environments/w.yml,line=4,col=9,title=envsync plan::environments/w.yml:4:9: tag 'hpcx' <is> a number",
    "error: 1 problem in environment files; nothing planned",
]


def test_invalid_yaml_replaces_the_plan_with_a_failure_section() -> None:
    body = reports.compose(Outcome("plan", "prod", 1, "", LOG, SHA), artifact="envsync-plan-prod", env=ENV)
    blob = f"https://github.com/octo/envs/blob/{SHA}"
    assert body == (
        "### :x: envsync plan failed for `prod`\n\n"
        f"Commit `{SHA}`.\n\n"
        "**1 problem in environment files; nothing planned**\n\n"
        f"- :x: [`environments/bad.yml:2:8`]({blob}/environments/bad.yml#L2) image must be a string, not an integer\n"
        f"- :warning: [`environments/w.yml:4:9`]({blob}/environments/w.yml#L4) tag 'hpcx' &lt;is&gt; a number\n\n"
        "Nothing was planned for this commit: fix the problems above and push again.\n"
    )


def test_plain_problem_lines_and_an_unreachable_workspace() -> None:
    plain = [
        "environments/a.yml:3:1: unknown key 'imgae'",
        "error: 1 problem in environment files; nothing planned",
    ]
    body = reports.compose(Outcome("plan", "dev", 1, "", plain), artifact=None, env={})
    assert "- :x: `environments/a.yml:3:1` unknown key 'imgae'" in body
    down = ["error: GET /subscriptions/s/.../environments: ConnectionError: [Errno 111] Connection refused"]
    body = reports.compose(Outcome("plan", "dev", 1, "", down), artifact=None, env={})
    assert (
        "**GET /subscriptions/s/.../environments: ConnectionError: \\[Errno 111] Connection refused**" in body
    )


def test_plan_errors_keep_the_plan_below_the_failure_section() -> None:
    plan_md = "### envsync plan for `prod`\n\n**Plan: 0 orphans, 0 to create, 0 new versions, 0 to update. 1 error.**\n"
    body = reports.compose(Outcome("plan", "prod", 1, plan_md, LOG[:1]), artifact=None, env={})
    failure, plan = body.split("\n\n---\n\n")
    assert failure.startswith("### :x: envsync plan found errors for `prod`")
    assert failure.endswith("The plan below has errors; apply refuses it until they are fixed.")
    assert plan == plan_md


def test_a_crash_shows_the_end_of_the_traceback() -> None:
    log = [
        "Traceback (most recent call last):",
        *[f'  File "x.py", line {i}' for i in range(60)],
        "KeyError: 'x'",
    ]
    body = reports.compose(Outcome("drift", "prod", 3, "", log), artifact=None, env={})
    assert "envsync drift crashed for `prod`" in body and "KeyError: 'x'\n```" in body
    assert "line 20\n" not in body and "line 21\n" in body  # the last 40 lines


def test_success_posts_the_report_and_cuts_it_leaving_room_for_the_marker() -> None:
    rows = "".join(f"| `e{i}` | 1 | edited | x |\n" for i in range(5000))
    body = reports.compose(
        Outcome("drift", "prod", 2, "| a | b | c | d |\n|---|---|---|---|\n" + rows), artifact="a", env=ENV
    )
    assert len(body) <= bodies.MAX_BODY - bodies.MARKER_ROOM and "entries not shown" in body
    assert (
        "The full drift report is in the workflow artifact `a` of [this workflow run](https://github.com/octo/envs/actions/runs/9)"
        in body
    )
