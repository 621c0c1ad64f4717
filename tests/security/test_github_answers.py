"""GitHub API answers are type-checked too: a comment listing or a created comment of the wrong
shape is a GitHubError naming the field and the request, never a traceback, and nothing is
posted to a path a mistyped id would make up."""

from __future__ import annotations

from typing import Any

import pytest

from envsync.gitops.github import GitHub, GitHubError, Settings
from tests.hostile import HostileServer, json_answer

LISTING = "GET /repos/o/r/issues/7/comments"
MARKER = "<!-- envsync:plan -->"
ROWS: dict[str, tuple[Any, str]] = {
    "listing-object": ({"comments": []}, f"{LISTING}: expected a JSON list"),
    "item-string": (["hi"], f"{LISTING}: expected a JSON object, got str"),
    "id-missing": ([{"body": "x"}], f"{LISTING}: the answer's 'id' is missing, expected int"),
    "id-path": (
        [{"id": "1/../../../orgs/x", "body": MARKER}],
        f"{LISTING}: the answer's 'id' is str, expected int",
    ),
    "body-number": ([{"id": 1, "body": 5}], f"{LISTING}: the answer's 'body' is int, expected str"),
    "user-list": (
        [{"id": 1, "body": MARKER, "user": []}],
        f"{LISTING}: the answer's 'user' is list, expected dict",
    ),
    "login-number": (
        [{"id": 1, "body": MARKER, "user": {"login": 3}}],
        f"{LISTING}: the answer's 'user.login' is int",
    ),
}


@pytest.mark.parametrize(("listing", "message"), list(ROWS.values()), ids=list(ROWS))
def test_a_malformed_comment_listing_is_one_github_error(
    hostile: HostileServer, listing: Any, message: str
) -> None:
    hostile.script({r"/repos/o/r/issues/7/comments$": json_answer(listing)})
    client = GitHub(Settings(repository="o/r", api_url=hostile.url, token="t" * 20, author="me"), backoff=0)
    with pytest.raises(GitHubError) as caught:
        client.upsert_comment(7, "plan", marker=MARKER)
    assert str(caught.value).startswith(message), str(caught.value)
    assert [s.method for s in hostile.seen] == ["GET"]  # nothing patched or posted


def test_a_created_comment_with_a_mistyped_url_is_one_github_error(hostile: HostileServer) -> None:
    hostile.script(
        {
            r"GET /repos/o/r/issues/7/comments$": json_answer([]),
            r"POST /repos/o/r/issues/7/comments$": json_answer({"id": 1, "html_url": ["x"]}, 201),
        }
    )
    client = GitHub(Settings(repository="o/r", api_url=hostile.url, token="t" * 20, author="me"), backoff=0)
    with pytest.raises(GitHubError, match=r"the answer's 'html_url' is list, expected str"):
        client.upsert_comment(7, "plan", marker=MARKER)
