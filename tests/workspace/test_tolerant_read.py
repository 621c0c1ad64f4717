"""What the service may add to or reshape in its answers is read tolerantly (issue: apply's
read-back demanded an exact echo): nulls it adds, fields envsync does not model, other forms of
the same contextUri. A resent body carries only what a PUT may carry."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from envsync.content.fingerprint import context_from_uri, fingerprint
from envsync.workspace import BuildContext, VersionBody
from envsync.workspace.azure import armjson

DIGEST = "279bb1013415ea89ed9a5730fe2b6837228efc7fabfb0f1d60b90d865f2464a3"
ROUTES = {
    "livenessRoute": {"path": "/health", "port": 5001},
    "readinessRoute": {"path": "/ready", "port": 5001},
    "scoringRoute": {"path": "/score", "port": 5001},
}
SENT = VersionBody(
    build=BuildContext(f"https://acct.blob.core.windows.net/azureml/LocalUpload/{DIGEST}/docker/"),
    inference_config=ROUTES,
    description="d",
    tags={"team": "ml"},
)


def answered(**overrides: Any) -> dict[str, Any]:
    props = armjson.version_request(SENT)["properties"]
    props.update(environmentType="UserCreated", provisioningState="Succeeded", autoRebuild="Disabled")
    props.update(overrides)
    return {"name": "1", "properties": props}


@pytest.mark.parametrize(
    "uri",
    [
        f"https://acct.blob.core.windows.net/azureml/LocalUpload/{DIGEST}/docker/",
        f"https://acct.blob.core.windows.net/azureml/LocalUpload/{DIGEST}/docker",
        f"https://acct.blob.core.windows.net/azureml/LocalUpload/{DIGEST.upper()}/docker/",
        f"https://acct.blob.core.windows.net/azureml/LocalUpload%2F{DIGEST}%2Fdocker%2F",
        f"azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/LocalUpload/{DIGEST}/docker/",
        f"https://acct.blob.core.windows.net/azureml/LocalUpload/{DIGEST}/docker/?sv=2025-01-01&sig=abc",
    ],
)
def test_every_form_of_an_uploaded_context_names_its_digest(uri: str) -> None:
    assert context_from_uri(uri) == DIGEST


def test_nulls_the_service_adds_change_nothing() -> None:
    routes = copy.deepcopy(ROUTES) | {"startupRoute": None}
    got = armjson.version_from_json("env", answered(inferenceConfig=routes, stage=None, tags={"team": "ml"}))
    assert got.body.inference_config == ROUTES
    assert fingerprint(got.body.content()) == fingerprint(SENT.content())
    assert got.body == SENT


def test_another_context_uri_form_has_the_same_content() -> None:
    datastore_form = f"azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/workspaceblobstore/paths/LocalUpload/{DIGEST}/docker"
    got = armjson.version_from_json(
        "env", answered(build={"contextUri": datastore_form, "dockerfilePath": None})
    )
    assert got.body.content() == SENT.content()


def test_null_tags_and_tag_values_read_as_empty() -> None:
    got = armjson.version_from_json("env", answered(tags=None, properties={"k": None}))
    assert dict(got.body.tags) == {} and dict(got.body.properties) == {"k": ""}


def test_a_resent_version_carries_only_writable_fields_and_no_nulls() -> None:
    resource = answered(
        inferenceConfig=copy.deepcopy(ROUTES) | {"startupRoute": None},
        stage=None,
        futureField={"from": "a newer api-version"},
    )
    body = armjson.resend_version(resource, description=None, tags={"x": "1"})
    props = body["properties"]
    assert "environmentType" not in props and "provisioningState" not in props
    assert "futureField" not in props and "stage" not in props and "description" not in props
    assert props["inferenceConfig"] == ROUTES and props["tags"] == {"x": "1"}
    assert props["autoRebuild"] == "Disabled" and props["isArchived"] is False


def test_a_resent_container_drops_read_only_fields() -> None:
    resource = {
        "name": "env",
        "properties": {
            "description": None,
            "tags": {"a": "b"},
            "isArchived": False,
            "latestVersion": "3",
            "nextVersion": "4",
            "provisioningState": "Succeeded",
        },
    }
    assert armjson.resend_container(resource, isArchived=True) == {
        "properties": {"tags": {"a": "b"}, "isArchived": True}
    }
