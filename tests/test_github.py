"""The GitHub client and `envsync github` against a fake GitHub API served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from envsync.cli import cli
from envsync.errors import ExitCode
from envsync.gitops import bodies, github
from envsync.gitops.github import Action, GitHub, GitHubError, Settings
from tests.fake_github import APP_TOKEN, BOT, PAT, REPO, TOKEN, FakeGitHub, serve


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve() as state:
        yield state


@pytest.fixture
def client(fake: FakeGitHub) -> GitHub:
    return GitHub(Settings(repository=REPO, api_url=fake.url, token=TOKEN), backoff=0)


@pytest.fixture
def env(fake: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": fake.url}


PLAN = github.plan_marker("prod")
DRIFT = github.drift_marker("prod")


def test_comment_is_created_then_updated_in_place(fake: FakeGitHub, client: GitHub) -> None:
    first = client.upsert_comment(7, "## Plan\n1 to create", marker=PLAN)
    assert first.action is Action.CREATED and first.url and first.url.startswith(fake.url)
    again = client.upsert_comment(7, "## Plan\nno changes", marker=PLAN)
    assert again == (Action.UPDATED, first.url)
    assert [c["body"] for c in fake.comments[7]] == [f"{PLAN}\n## Plan\nno changes"]


def test_comment_found_on_a_later_page_among_others(fake: FakeGitHub, client: GitHub) -> None:
    for i in range(5):
        fake.comment(7, f"LGTM {i}", author="reviewer")
    fake.comment(7, f"{github.plan_marker('dev')}\ndev plan")
    mine = fake.comment(7, f"{PLAN}\nold prod plan")
    action, _ = client.upsert_comment(7, "new prod plan", marker=PLAN)
    assert action is Action.UPDATED
    bodies = {c["id"]: c["body"] for c in fake.comments[7]}
    assert bodies[mine] == f"{PLAN}\nnew prod plan"
    assert sum("dev plan" in b for b in bodies.values()) == 1 and len(bodies) == 7
    pages = [t for m, t in fake.requests if m == "GET" and "/comments" in t]
    assert len(pages) == 4 and pages[-1].endswith("page=4")  # 7 comments, 2 a page


def test_issue_created_with_label_then_updated(fake: FakeGitHub, client: GitHub) -> None:
    fake.issue("unrelated", "no marker", labels=("envsync-drift",))
    fake.issue("a PR", DRIFT, pr=True)  # the issues listing includes pull requests
    fake.issue("closed earlier", DRIFT, state="closed", labels=("envsync-drift",))
    created = client.upsert_issue("Drift in prod", "2 versions edited", marker=DRIFT)
    assert created.action is Action.CREATED
    number = max(fake.issues)
    assert fake.issues[number]["labels"] == [{"name": "envsync-drift"}]
    assert fake.issues[number]["body"] == f"{DRIFT}\n2 versions edited"
    updated = client.upsert_issue("Drift in prod (3)", "3 versions edited", marker=DRIFT)
    assert updated == (Action.UPDATED, created.url)
    assert (fake.issues[number]["title"], len(fake.issues)) == ("Drift in prod (3)", 4)


def test_issue_closed_with_a_comment_when_drift_is_clean(fake: FakeGitHub, client: GitHub) -> None:
    assert client.upsert_issue("", "clean", marker=DRIFT, close=True) == (Action.NOTHING, None)
    assert [m for m, _ in fake.requests] == ["GET"]
    number = fake.issue("Drift in prod", f"{DRIFT}\nold", labels=("envsync-drift",))
    closed = client.upsert_issue("", "No drift.", marker=DRIFT, close=True)
    assert closed.action is Action.CLOSED
    assert fake.issues[number]["state"] == "closed" and fake.issues[number]["state_reason"] == "completed"
    [last] = fake.bodies(number)
    assert last.startswith("<!-- envsync:closing id=") and last.endswith("-->\nNo drift.")


def test_secondary_rate_limit_is_retried_even_for_post(fake: FakeGitHub, client: GitHub) -> None:
    limited = {"message": "You have exceeded a secondary rate limit."}
    fake.faults = [(503, {}, {"message": "busy"}), (200, {}, []), (403, {"Retry-After": "0"}, limited)]
    assert client.upsert_comment(7, "plan", marker=PLAN).action is Action.CREATED
    assert [m for m, _ in fake.requests] == ["GET", "GET", "POST", "POST"]
    assert len(fake.comments[7]) == 1


def test_forbidden_without_retry_after_fails_at_once_with_a_hint(fake: FakeGitHub, client: GitHub) -> None:
    fake.faults = [(403, {}, {"message": "Resource not accessible by integration"})]
    with pytest.raises(GitHubError, match="not accessible by integration .*pull-requests: write"):
        client.upsert_comment(7, "plan", marker=PLAN)
    assert len(fake.requests) == 1


def test_token_never_in_errors_or_repr(fake: FakeGitHub) -> None:
    wrong = GitHub(Settings(repository=REPO, api_url=fake.url, token=TOKEN + "x"), backoff=0)
    with pytest.raises(GitHubError) as caught:
        wrong.upsert_comment(7, "plan", marker=PLAN)  # the fake echoes the header it got
    assert "401" in str(caught.value) and TOKEN not in str(caught.value)
    assert TOKEN not in repr(wrong) and TOKEN not in repr(wrong.settings)


def test_next_page_on_another_host_is_refused(fake: FakeGitHub, client: GitHub) -> None:
    fake.next_link_host = "http://127.0.0.2:9"
    for i in range(3):
        fake.comment(7, f"c{i}")
    with pytest.raises(GitHubError, match="refusing to follow a next page on another host"):
        client.upsert_comment(7, "plan", marker=PLAN)


def test_long_bodies_are_cut_below_githubs_limit_keeping_the_marker(client: GitHub, fake: FakeGitHub) -> None:
    client.upsert_comment(7, "x" * 100_000, marker=PLAN)
    body = fake.comments[7][0]["body"]
    assert len(body) <= bodies.MAX_BODY == 65_535 and body.startswith(PLAN) and "not shown" in body


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_REPOSITORY": REPO}, "GITHUB_TOKEN is not set"),
        ({"GITHUB_TOKEN": TOKEN}, "GITHUB_REPOSITORY is not set: expected owner/name"),
        ({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "envs"}, "GITHUB_REPOSITORY is 'envs'"),
        (
            {
                "GITHUB_TOKEN": TOKEN,
                "GITHUB_REPOSITORY": REPO,
                "GITHUB_API_URL": "http://ghe.example.com/api/v3",
            },
            "refusing plain http to ghe.example.com",
        ),
        ({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": "ftp://x"}, "not an http"),
    ],
)
def test_settings_from_env_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(GitHubError, match=message):
        Settings.from_env(env)


def test_settings_defaults_and_enterprise() -> None:
    assert (
        Settings.from_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO}).api_url
        == "https://api.github.com"
    )
    enterprise = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": "https://ghe.corp/api/v3/",
    }
    assert Settings.from_env(enterprise).api_url == "https://ghe.corp/api/v3"
    assert Settings.from_env({**enterprise, "GITHUB_API_URL": "http://localhost:8080"}).api_url


def invoke(tmp_path: Path, env: dict[str, str], *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    clean = {"ENVSYNC_TARGET": None, **env}
    return CliRunner().invoke(cli, ["-C", str(tmp_path), "github", *args], env=clean, input=input)


def test_cli_comment_from_stdin_and_file(tmp_path: Path, fake: FakeGitHub, env: dict[str, str]) -> None:
    result = invoke(tmp_path, env, "comment", "--pr", "7", "--body-file", "-", input="## Plan\n")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.output.startswith("created comment http://127.0.0.1:")
    (tmp_path / "plan.md").write_text("## Plan v2\n")
    result = invoke(tmp_path, env, "comment", "--pr", "7", "--body-file", str(tmp_path / "plan.md"))
    assert result.output.startswith("updated comment ")
    # Without --target the marker names the target `envsync plan` would use: the default, local.
    assert fake.comments[7][0]["body"] == f"{github.plan_marker('local')}\n## Plan v2\n"
    assert TOKEN not in result.output


def test_cli_issue_open_then_close(tmp_path: Path, fake: FakeGitHub, env: dict[str, str]) -> None:
    (tmp_path / "drift.md").write_text("1 version edited by hand\n")
    opened = invoke(tmp_path, env, "issue", "--title", "Drift", "--body-file", str(tmp_path / "drift.md"))
    assert opened.exit_code == ExitCode.OK and opened.output.startswith("created issue ")
    closed = invoke(tmp_path, env, "issue", "--close")
    assert closed.exit_code == ExitCode.OK and closed.output.startswith("closed issue ")
    again = invoke(tmp_path, env, "issue", "--close")
    assert again.output == "no open drift issue for target local: nothing to close\n"


def test_cli_errors(tmp_path: Path, env: dict[str, str]) -> None:
    usage = invoke(tmp_path, env, "issue", "--title", "Drift")
    assert usage.exit_code == ExitCode.ERROR and "--body-file are required" in usage.output
    unknown = invoke(tmp_path, env, "comment", "--pr", "7", "--body-file", "-", "-t", "nope", input="x")
    assert unknown.exit_code == ExitCode.ERROR and "unknown target 'nope'" in unknown.output
    no_token = invoke(
        tmp_path, {**env, "GITHUB_TOKEN": ""}, "comment", "--pr", "7", "--body-file", "-", input="x"
    )
    assert no_token.exit_code == ExitCode.ERROR and "error: GITHUB_TOKEN is not set" in no_token.output


# --- 3. envsync edits only its own comment and issue -------------------------------------------


def _client(fake: FakeGitHub, token: str = TOKEN, **kwargs: object) -> GitHub:
    return GitHub(Settings(repository=REPO, api_url=fake.url, token=token, **kwargs), backoff=0)  # type: ignore[arg-type]


def test_a_quoted_or_copied_report_by_someone_else_is_never_edited(fake: FakeGitHub, client: GitHub) -> None:
    quoted = fake.comment(7, f"> {PLAN}\n> old plan\n\nWhy a new version?", author="reviewer")
    copied = fake.comment(7, f"{PLAN}\nold plan, pasted raw by a reviewer", author="reviewer")
    mentioned = fake.comment(7, f"bot text\n{PLAN}\nmarker not first")  # the bot's, marker not first
    done = client.upsert_comment(7, "new plan", marker=PLAN)
    assert done.action is Action.CREATED
    after = {c["id"]: c["body"] for c in fake.comments[7]}
    assert after[quoted].startswith("> ") and after[copied].endswith("pasted raw by a reviewer")
    assert after[mentioned].endswith("marker not first")
    assert fake.comments[7][-1] == {
        **fake.comments[7][-1],
        "body": f"{PLAN}\nnew plan",
        "user": {"login": BOT, "type": "Bot"},
    }
    again = client.upsert_comment(7, "newer plan", marker=PLAN)  # found by author and marker now
    assert again == (Action.UPDATED, done.url) and len(fake.comments[7]) == 4


def test_the_bots_comment_deleted_leaves_the_reviewers_copy_alone(fake: FakeGitHub, client: GitHub) -> None:
    # The reported failure: once the bot's own comment is gone, the reviewer's raw copy was PATCHed.
    copied = fake.comment(7, f"{PLAN}\nold plan", author="reviewer")
    client.upsert_comment(7, "plan", marker=PLAN)
    assert fake.comments[7][0] == {**fake.comments[7][0], "id": copied, "body": f"{PLAN}\nold plan"}
    assert [m for m, t in fake.requests if "/issues/comments/" in t] == []  # no PATCH at all


@pytest.mark.parametrize(
    ("token", "author", "who", "asked"),
    [
        (TOKEN, None, BOT, ["GET /user", "POST /graphql"]),  # GITHUB_TOKEN: an installation token
        (PAT, None, "octocat", ["GET /user"]),  # a person's token: GET /user names them
        (APP_TOKEN, None, "envsync-app[bot]", ["GET /user", "POST /graphql"]),  # a GitHub App
        (APP_TOKEN, "envsync-app[bot]", "envsync-app[bot]", []),  # ENVSYNC_GITHUB_AUTHOR: not asked
    ],
)
def test_identity_per_kind_of_token(
    fake: FakeGitHub, token: str, author: str | None, who: str, asked: list[str]
) -> None:
    client = _client(fake, token, author=author)
    assert client.identity == who
    assert [f"{m} {t}" for m, t in fake.requests] == asked
    fake.comment(7, f"{PLAN}\nby someone else", author="someone")
    mine = fake.comment(7, f"{PLAN}\nold", author=who)
    assert client.upsert_comment(7, "new", marker=PLAN).action is Action.UPDATED
    assert (
        fake.bodies(7) == [f"{PLAN}\nby someone else", f"{PLAN}\nnew"] and fake.comments[7][1]["id"] == mine
    )


def test_identity_falls_back_to_github_actions_when_graphql_is_missing(fake: FakeGitHub) -> None:
    fake.graphql = False  # an Enterprise Server without GraphQL at the expected path
    assert _client(fake).identity == BOT


def test_identity_errors_other_than_403_are_not_guessed_over(fake: FakeGitHub) -> None:
    fake.faults = [(500, {}, {"message": "boom"})] * 6
    with pytest.raises(GitHubError, match="GET /user: 500"):
        _ = _client(fake).identity


def test_drift_issue_by_someone_else_is_never_edited(fake: FakeGitHub, client: GitHub) -> None:
    theirs = fake.issue("Drift?", f"{DRIFT}\ncopied", labels=("envsync-drift",), author="octocat")
    done = client.upsert_issue("Drift in prod", "1 edited", marker=DRIFT)
    assert done.action is Action.CREATED and fake.issues[theirs]["body"] == f"{DRIFT}\ncopied"
    assert client.upsert_issue("", "No drift.", marker=DRIFT, close=True).action is Action.CLOSED
    assert fake.issues[theirs]["state"] == "open"  # only envsync's own issue is closed


# --- 4. POST retried safely; waits capped; reset times people can read -------------------------


def test_a_failed_post_is_retried_after_listing_again(fake: FakeGitHub, client: GitHub) -> None:
    fake.method_faults["POST"] = [(502, {}, {"message": "Bad Gateway"})]  # refused before any work
    assert client.upsert_comment(7, "plan", marker=PLAN).action is Action.CREATED
    calls = [f"{m} {t.split('?')[0]}" for m, t in fake.requests]
    listing, post = "GET /repos/octo/envs/issues/7/comments", "POST /repos/octo/envs/issues/7/comments"
    assert calls == [listing, post, listing, post]
    assert fake.bodies(7) == [f"{PLAN}\nplan"]


def test_a_post_that_worked_but_lost_its_answer_is_not_posted_twice(fake: FakeGitHub, client: GitHub) -> None:
    fake.lost["POST"] = [500]  # GitHub made the comment, then the answer was a 500
    done = client.upsert_comment(7, "plan", marker=PLAN)
    assert done.action is Action.CREATED and done.url == fake.comments[7][0]["html_url"]
    assert fake.bodies(7) == [f"{PLAN}\nplan"]
    assert [m for m, _ in fake.requests].count("POST") == 2  # the viewer query and the one comment


def test_a_lost_issue_post_is_found_again_not_duplicated(fake: FakeGitHub, client: GitHub) -> None:
    fake.lost["POST"] = [503]
    assert client.upsert_issue("Drift", "1 edited", marker=DRIFT).action is Action.CREATED
    assert len(fake.issues) == 1


def test_post_gives_up_after_the_retries_with_githubs_message(fake: FakeGitHub) -> None:
    client = GitHub(Settings(repository=REPO, api_url=fake.url, token=TOKEN), retries=2, backoff=0)
    fake.method_faults["POST"] = [(502, {}, {"message": "Bad Gateway"})] * 3
    with pytest.raises(GitHubError, match=r"^POST /repos/octo/envs/issues/7/comments: 502 Bad Gateway$"):
        client.upsert_comment(7, "plan", marker=PLAN)
    assert [m for m, _ in fake.requests].count("POST") == 3 and 7 not in fake.comments


def test_a_client_error_on_post_is_not_retried(fake: FakeGitHub, client: GitHub) -> None:
    fake.method_faults["POST"] = [(422, {}, {"message": "Validation Failed"})]
    with pytest.raises(GitHubError, match="422 Validation Failed"):
        client.upsert_comment(7, "plan", marker=PLAN)
    assert [m for m, _ in fake.requests].count("POST") == 1


def test_retry_after_over_the_cap_fails_at_once_saying_when(
    fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", slept.append)
    client = GitHub(
        Settings(repository=REPO, api_url=fake.url, token=TOKEN), backoff=0, clock=lambda: 1_777_777_000
    )
    limited = {"message": "You have exceeded a secondary rate limit."}
    fake.faults = [(429, {"Retry-After": "3600"}, limited)]
    with pytest.raises(GitHubError) as caught:
        client.upsert_comment(7, "plan", marker=PLAN)
    assert str(caught.value) == (
        "GET /repos/octo/envs/issues/7/comments: 429 You have exceeded a secondary rate limit. "
        "(GitHub asked to wait 3,600 s before retrying (Retry-After), longer than envsync waits (60 s): "
        "run the job again after 2026-05-03 03:56:40 UTC (in 60 min))"
    )
    assert slept == [] and len(fake.requests) == 1


def test_retry_after_within_the_cap_is_waited_for(fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", slept.append)
    fake.faults = [(429, {"Retry-After": "2"}, {"message": "slow down"})]
    assert _client(fake).upsert_comment(7, "plan", marker=PLAN).action is Action.CREATED
    assert slept == [2.0]


def test_exhausted_rate_limit_names_the_reset_time_in_utc(fake: FakeGitHub) -> None:
    client = GitHub(
        Settings(repository=REPO, api_url=fake.url, token=TOKEN), backoff=0, clock=lambda: 1_777_777_000
    )
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1777777777"}
    fake.faults = [(403, headers, {"message": "API rate limit exceeded for installation ID 1."})]
    with pytest.raises(GitHubError, match=r"it resets at 2026-05-03 03:09:37 UTC \(in 13 min\)\)$"):
        client.upsert_comment(7, "plan", marker=PLAN)
    assert len(fake.requests) == 1  # no retry into a limit that will not lift for minutes


# --- 2. long reports are cut between whole entries, and say where the rest is -----------------


def _details(i: int) -> str:
    return (
        f'\n<details><summary>+ <code>env-{i}:1</code></summary>\n\n```diff\n+ image: "img{i}"\n'
        + "+ pkg\n" * 40
        + "```\n</details>\n"
    )


def test_a_long_plan_is_cut_between_details_blocks_naming_the_artifact(
    fake: FakeGitHub, client: GitHub
) -> None:
    body = "### envsync plan for `prod`\n\n**Plan: 3000 to create**\n" + "".join(
        _details(i) for i in range(3000)
    )
    note = bodies.truncation_note(
        "plan", artifact="envsync-plan-prod", run_url="https://github.com/octo/envs/actions/runs/9"
    )
    client.upsert_comment(7, body, marker=PLAN, note=note)
    posted = fake.bodies(7)[0]
    assert len(posted) <= 65_535 and posted.startswith(PLAN)
    shown, rest = posted.split("\n\n> **")
    assert shown.count("<details>") == shown.count("</details>") > 100 and shown.count("```") % 2 == 0
    hidden = 3000 - shown.count("<details>")
    assert rest == (
        f"{hidden:,} of 3,003 entries not shown**: GitHub caps a comment at 65,535 characters. The full plan "
        "is in the workflow artifact `envsync-plan-prod` of [this workflow run](https://github.com/octo/envs/actions/runs/9) "
        "(text, Markdown and JSON) and in the job log.\n"
    )


def test_a_long_drift_table_is_cut_between_rows(fake: FakeGitHub, client: GitHub) -> None:
    rows = "".join(f"| `env-{i}` | 1 | edited | tags.owner edited outside git |\n" for i in range(3000))
    body = (
        "### envsync drift for `prod`\n\n| environment | version | kind | what |\n|---|---|---|---|\n" + rows
    )
    client.upsert_issue(
        "Drift",
        body,
        marker=DRIFT,
        note=bodies.truncation_note("drift report", artifact="envsync-drift-prod"),
    )
    posted = fake.issues[1]["body"]
    assert 65_000 < len(posted) <= 65_535
    table, note = posted.split("\n\n> **")
    assert all(line.startswith("| ") and line.endswith(" |") for line in table.splitlines()[5:])
    assert "of 3,004 entries not shown" in note and "`envsync-drift-prod`" in note


def test_entries_keep_fences_and_details_whole() -> None:
    text = "# head\n\n```\na\n\nb\n```\n<details>\n<summary>x</summary>\n\n```diff\n</details>\n```\n</details>\nrow\n"
    assert bodies.entries(text) == [
        "# head\n",
        "\n",
        "```\na\n\nb\n```\n",
        "<details>\n<summary>x</summary>\n\n```diff\n</details>\n```\n</details>\n",
        "row\n",
    ]
    assert "".join(bodies.entries(text)) == text
    assert (
        bodies.fit(text, lambda h, t: f"{h}/{t} cut", limit=40) == "# head\n\n```\na\n\nb\n```\n\n2/4 cut\n"
    )
    assert bodies.fit(text, lambda h, t: "never", limit=1000) == text
