"""ARM's refusals, as ARM words them, become one line naming the fix."""

from __future__ import annotations

import pytest

from envsync.errors import NotFoundError, WorkspaceError
from envsync.http.session import HttpOptions, StaticTokenCredential
from envsync.workspace.azure.arm_errors import hint, parent_missing, role_for
from envsync.workspace.azure.workspace import AzureMLWorkspace
from tests.workspace.recorder import Answer, recording, sequence

WS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"
ACTION = "Microsoft.MachineLearningServices/workspaces/environments/versions/write"
REFUSED = (
    "The client 'ci@example.com' with object id '11111111-2222-3333-4444-555555555555' does not have "
    f"authorization to perform action '{ACTION}' over scope '{WS}/environments/py/versions/1' or the "
    "scope is invalid. If access was recently granted, please refresh your credentials."
)


def error(code: str, message: str, status: int) -> Answer:
    return Answer(status, {"error": {"code": code, "message": message}})


def client(url: str) -> AzureMLWorkspace:
    return AzureMLWorkspace(url + WS, StaticTokenCredential("t0ken-for-tests"), http=HttpOptions(retries=0))


def test_authorization_failed_names_the_action_and_a_role_that_grants_it() -> None:
    from envsync.workspace import VersionBody

    refused = sequence(error("AuthorizationFailed", REFUSED, 403))
    with recording(refused) as server, pytest.raises(WorkspaceError) as info:
        client(server.url).create_version("py", "1", VersionBody(image="img"))
    assert str(info.value) == (
        "PUT environments/py/versions/1: 403 AuthorizationFailed: principal "
        f"11111111-2222-3333-4444-555555555555 may not perform {ACTION}: grant it AzureML Data Scientist "
        f"on {WS} (see docs/connecting-to-azure.md)"
    )


def test_a_missing_resource_group_is_an_error_not_an_empty_workspace() -> None:
    """A 404 on the list used to read as "no environments": a plan would create them all."""
    missing = error("ResourceGroupNotFound", "Resource group 'rg' could not be found.", 404)
    with recording(sequence(missing)) as server, pytest.raises(WorkspaceError) as info:
        list(client(server.url).list_environments())
    assert not isinstance(info.value, NotFoundError)
    assert str(info.value) == (
        "GET environments: 404 ResourceGroupNotFound: Resource group 'rg' could not be found.; "
        "check the target's resource_group in envsync.yaml (`az group list`)"
    )


def test_a_missing_environment_is_still_just_absent() -> None:
    absent = error("UserError", "Environment py not found.", 404)
    with recording(sequence(absent)) as server:
        assert client(server.url).get_environment("py") is None


@pytest.mark.parametrize(
    ("code", "message", "words"),
    [
        ("SubscriptionNotFound", "The subscription 's' could not be found.", "subscription_id"),
        (
            "ResourceNotFound",
            "The Resource 'Microsoft.MachineLearningServices/workspaces/w' under resource group 'rg' was not found.",
            "no workspace 'w' there",
        ),
        (
            "ResourceNotFound",
            "The Resource 'Microsoft.MachineLearningServices/registries/r' under resource group 'rg' was not found.",
            "no registry 'r' there",
        ),
    ],
)
def test_404s_say_which_part_of_the_target_is_wrong(code: str, message: str, words: str) -> None:
    assert parent_missing(404, code, message)
    assert words in hint(404, code, message)


def test_private_link_and_tenant_refusals_have_their_fix() -> None:
    private = "Access to workspace was denied based on workspace private link configuration."
    assert "closed to public network access" in hint(403, "UserError", private)
    assert "az login --tenant" in hint(401, "InvalidAuthenticationTokenTenant", "wrong issuer")


def test_roles_for_actions() -> None:
    assert role_for("Microsoft.MachineLearningServices/registries/assets/write") == "AzureML Registry User"
    assert role_for("Microsoft.MachineLearningServices/workspaces/environments/read").startswith("Reader")
    assert role_for(ACTION) == "AzureML Data Scientist"
