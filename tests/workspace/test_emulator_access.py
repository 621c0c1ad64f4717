"""The emulator's target-level answers: the workspace resource, the caller's permissions, ARM's
refusals, storage's refusals."""

from __future__ import annotations

import pytest
import requests

from envsync.emulator.access import action_of, allowed
from envsync.emulator.options import EmulatorOptions
from envsync.emulator.server import start_emulator
from envsync.errors import EnvsyncError

WS = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
AUTH = {"Authorization": "Bearer emulated"}
API = {"api-version": "2025-12-01"}


@pytest.mark.parametrize(
    ("method", "rest", "action"),
    [
        ("GET", "", "workspaces/read"),
        ("GET", "/environments", "workspaces/environments/read"),
        ("PUT", "/environments/py/versions/1", "workspaces/environments/write"),
        ("POST", "/datastores/workspaceblobstore/listSecrets", "workspaces/datastores/listsecrets/action"),
        ("DELETE", "/environments/py", "workspaces/environments/delete"),
    ],
)
def test_the_action_a_request_needs(method: str, rest: str, action: str) -> None:
    kind = "workspaces"
    assert action_of(method, kind, rest) == f"Microsoft.MachineLearningServices/{action}"


def test_not_actions_take_actions_away_case_insensitively() -> None:
    options = EmulatorOptions(
        principal_actions=("Microsoft.MachineLearningServices/workspaces/*",),
        principal_not_actions=("*/WRITE",),
    )
    assert allowed(options, "Microsoft.MachineLearningServices/workspaces/environments/read")
    assert not allowed(options, "Microsoft.MachineLearningServices/workspaces/environments/write")
    assert not allowed(options, "Microsoft.Storage/storageAccounts/read")


def test_workspace_permissions_and_refusals_over_http() -> None:
    options = {"principal_actions": ("*/read",), "public_network_access": "Disabled", "location": "eastus2"}
    with start_emulator(**options) as handle:  # type: ignore[arg-type]
        workspace = requests.get(handle.url + WS, params=API, headers=AUTH, timeout=5).json()
        grants = requests.get(
            handle.url + WS + "/providers/Microsoft.Authorization/permissions",
            params={"api-version": "2022-04-01"},
            headers=AUTH,
            timeout=5,
        ).json()
        put = requests.put(
            handle.url + WS + "/environments/py/versions/1", params=API, headers=AUTH, timeout=5
        )
        listed = requests.get(handle.url + WS + "/environments", params=API, headers=AUTH, timeout=5)
    assert (workspace["location"], workspace["properties"]["publicNetworkAccess"]) == ("eastus2", "Disabled")
    assert workspace["type"] == "Microsoft.MachineLearningServices/workspaces"
    assert grants == {
        "value": [{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}],
        "nextLink": None,
    }
    assert put.status_code == 403 and put.json()["error"]["code"] == "AuthorizationFailed"
    assert "environments/write' over scope" in put.json()["error"]["message"]
    assert listed.status_code == 403 and "private link" in listed.json()["error"]["message"]


def test_unknown_target_options_are_refused() -> None:
    with pytest.raises(EnvsyncError, match="missing must be one of"):
        EmulatorOptions(missing="tenant").check()
