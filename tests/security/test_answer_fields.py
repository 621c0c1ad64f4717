"""Every field envsync reads from an answer is type-checked: a hostile or broken ARM answering
each malformed shape below gets exit 1 and one line naming the field and the request (method
and path, no query), never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envsync.errors import ExitCode
from tests.helpers import run
from tests.hostile import HostileServer, endless, json_answer
from tests.security.endpoint_fixtures import context_routes, files_under, hostile_target

IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1"
GOOD_CONTAINER = {"name": "env", "properties": {"latestVersion": "1", "isArchived": False}}
GOOD_VERSION = {"name": "1", "properties": {"image": IMAGE}}


def container(**props: Any) -> dict[str, Any]:
    return {"name": "env", "properties": {**GOOD_CONTAINER["properties"], **props}}  # type: ignore[dict-item]


def version(**props: Any) -> dict[str, Any]:
    return {"name": "1", "properties": {**GOOD_VERSION["properties"], **props}}  # type: ignore[dict-item]


LISTS = "GET environments"
CONTAINER_ROWS: dict[str, tuple[Any, str]] = {
    "value-object": ({"value": {"a": 1}}, "'value' is an object, expected a list"),
    "item-null": ({"value": [None]}, "'value[0]' is null, expected an object"),
    "item-string": ({"value": ["env"]}, "'value[0]' is a string, expected an object"),
    "properties-missing": ({"value": [{"name": "env"}]}, "'properties' is null, expected an object"),
    "properties-string": ({"value": [{"name": "env", "properties": "x"}]}, "'properties' is a string"),
    "name-number": (
        {"value": [{"name": 7, "properties": {}}]},
        "'name' is a number (7), expected a non-empty string",
    ),
    "name-missing": ({"value": [{"properties": {}}]}, "'name' is null, expected a non-empty string"),
    "tags-list": ({"value": [container(tags=["a"])]}, "'properties.tags' is a list, expected an object"),
    "tag-value-number": ({"value": [container(tags={"team": 5})]}, "'properties.tags.team' is a number (5)"),
    "tag-key-forged": (
        {"value": [container(tags={"a\n::warning::x": 5})]},
        r"'properties.tags.a\n::warning::x' is a number (5)",
    ),
    "latest-version-number": (
        {"value": [container(latestVersion=5)]},
        "'properties.latestVersion' is a number (5)",
    ),
    "next-version-object": ({"value": [container(nextVersion={})]}, "'properties.nextVersion' is an object"),
    "next-version-bool": ({"value": [container(nextVersion=True)]}, "'properties.nextVersion' is a boolean"),
    "archived-string": (
        {"value": [container(isArchived="no")]},
        "'properties.isArchived' is a string, expected true or false",
    ),
    "description-list": ({"value": [container(description=[])]}, "'properties.description' is a list"),
    "next-link-number": ({"value": [], "nextLink": 5}, "'nextLink' is a number (5), expected a string"),
    "next-link-elsewhere": (
        {"value": [], "nextLink": "https://evil.example/environments?$skip=1"},
        "nextLink leaves 127.0.0.1 for evil.example: refusing to send the token there",
    ),
}


@pytest.mark.parametrize(("page", "needle"), list(CONTAINER_ROWS.values()), ids=list(CONTAINER_ROWS))
def test_a_malformed_container_list_is_one_line_naming_field_and_request(
    tmp_path: Path, hostile: HostileServer, page: Any, needle: str
) -> None:
    hostile_target(tmp_path, hostile.url)
    hostile.script({r"/environments$": json_answer(page)})
    result = run(tmp_path, "list")
    assert result.exit_code == ExitCode.ERROR, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {LISTS}: "), line
    assert needle in line
    assert not any("evil.example" in s.path for s in hostile.seen)


def test_a_next_link_paging_in_a_circle_is_refused(tmp_path: Path, hostile: HostileServer) -> None:
    hostile_target(tmp_path, hostile.url)
    base = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1"
    again = f"{hostile.url}{base}/environments?$skip=again"
    hostile.script({r"/environments$": json_answer({"value": [GOOD_CONTAINER], "nextLink": again})})
    result = run(tmp_path, "list")
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.stderr.splitlines() == [
        "error: GET environments: the answer's 'nextLink' names a page already read (1 pages in)"
    ]


VERSIONS = "GET environments/env/versions"
VERSION_ROWS: dict[str, tuple[Any, str]] = {
    "conda-number": (version(condaFile=5), "'properties.condaFile' is a number (5), expected a string"),
    "image-object": (version(image={"x": 1}), "'properties.image' is an object, expected a string"),
    "build-string": (version(build="ctx"), "'properties.build' is a string, expected an object"),
    "context-uri-number": (version(build={"contextUri": 5}), "'properties.build.contextUri' is a number (5)"),
    "dockerfile-list": (
        version(build={"contextUri": "https://a.blob.core.windows.net/c/x/", "dockerfilePath": []}),
        "'properties.build.dockerfilePath' is a list",
    ),
    "os-type-number": (version(osType=1), "'properties.osType' is a number (1)"),
    "inference-list": (
        version(inferenceConfig=[]),
        "'properties.inferenceConfig' is a list, expected an object",
    ),
    "route-string": (
        version(inferenceConfig={"scoringRoute": "/score"}),
        "'properties.inferenceConfig.scoringRoute' is a string",
    ),
    "route-port-string": (
        version(inferenceConfig={"scoringRoute": {"path": "/score", "port": "80"}}),
        "'properties.inferenceConfig.scoringRoute.port' is a string, expected an integer",
    ),
    "properties-list": (version(properties=[]), "'properties.properties' is a list"),
    "stage-number": (version(stage=3), "'properties.stage' is a number (3)"),
    "system-data-string": (
        {**GOOD_VERSION, "systemData": "today"},
        "'systemData' is a string, expected an object",
    ),
    "created-at-number": (
        {**GOOD_VERSION, "systemData": {"createdAt": 0}},
        "'systemData.createdAt' is a number (0)",
    ),
    "version-name-null": (
        {"name": None, "properties": {"image": IMAGE}},
        "'name' is null, expected a non-empty string",
    ),
    "version-properties-missing": ({"name": "1"}, "'properties' is null, expected an object"),
}


@pytest.mark.parametrize(("item", "needle"), list(VERSION_ROWS.values()), ids=list(VERSION_ROWS))
def test_a_malformed_version_is_one_line_naming_field_and_request(
    tmp_path: Path, hostile: HostileServer, item: Any, needle: str
) -> None:
    hostile_target(tmp_path, hostile.url)
    hostile.script(
        {
            r"/environments$": json_answer({"value": [GOOD_CONTAINER]}),
            r"/environments/env/versions$": json_answer({"value": [item]}),
            r"/environments/env$": json_answer(GOOD_CONTAINER),
        }
    )
    result = run(tmp_path, "list", "--name", "env")
    assert result.exit_code == ExitCode.ERROR, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {VERSIONS}: "), line
    assert needle in line


def test_well_formed_answers_still_list(tmp_path: Path, hostile: HostileServer) -> None:
    hostile_target(tmp_path, hostile.url)
    hostile.script(
        {
            r"/environments/env/versions$": json_answer(
                {"value": [version(tags=None, properties={"k": None})]}
            ),
            r"/environments$": json_answer({"value": [container(nextVersion=None, tags={"t": None})]}),
            r"/environments/env/versions/1$": json_answer(GOOD_VERSION),
        }
    )
    assert run(tmp_path, "list").exit_code == ExitCode.OK
    listed = run(tmp_path, "list", "--name", "env")
    assert listed.exit_code == ExitCode.OK, listed.output


DATASTORE = "GET datastores/workspaceblobstore"
SECRETS = "POST datastores/workspaceblobstore/listSecrets"
DATASTORE_ROWS: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "type-number": (
        {"datastoreType": 5},
        {},
        f"{DATASTORE}: the answer's 'properties.datastoreType' is a number (5)",
    ),
    "type-other": (
        {"datastoreType": "AzureFile"},
        {},
        "datastore workspaceblobstore: 'AzureFile' cannot hold build contexts",
    ),
    "account-list": (
        {"accountName": []},
        {},
        f"{DATASTORE}: the answer's 'properties.accountName' is a list",
    ),
    "endpoint-object": (
        {"endpoint": {}},
        {},
        f"{DATASTORE}: the answer's 'properties.endpoint' is an object",
    ),
    "credentials-string": (
        {"credentials": "key"},
        {},
        f"{DATASTORE}: the answer's 'properties.credentials' is a string",
    ),
    "identity-on-http": (
        {"credentials": {"credentialsType": "None"}},
        {},
        "datastore workspaceblobstore: its blobs are reached with an Azure AD token, which goes over https only",
    ),
    "plain-http-elsewhere": (
        {"endpoint": "http://storage.example/acct"},
        {},
        "datastore workspaceblobstore: refusing storage endpoint storage.example over plain http",
    ),
    "secrets-type-number": ({}, {"secretsType": 1}, f"{SECRETS}: the answer's 'secretsType' is a number (1)"),
    "key-object": ({}, {"key": {"k": 1}}, f"{SECRETS}: the answer's 'key' is an object, expected a string"),
    "key-not-base64": ({}, {"key": "not base64!"}, f"{SECRETS}: the account key is not base64"),
    "sas-number": (
        {},
        {"secretsType": "Sas", "key": None, "sasToken": 7},
        f"{SECRETS}: the answer's 'sasToken' is a number (7)",
    ),
}


@pytest.mark.parametrize(
    ("datastore", "secrets", "message"), list(DATASTORE_ROWS.values()), ids=list(DATASTORE_ROWS)
)
def test_a_malformed_datastore_is_one_line_and_no_blob_is_read(
    tmp_path: Path, hostile: HostileServer, datastore: dict[str, Any], secrets: dict[str, Any], message: str
) -> None:
    hostile_target(tmp_path, hostile.url)
    hostile.script(context_routes(hostile.url, datastore, secrets, endless(), endless()))
    result = run(tmp_path, "import", "--out", str(tmp_path / "out"))
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.stderr.splitlines() == [f"error: {message}"] or message in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not any(s.path.startswith("/acct/") for s in hostile.seen)
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == {}


def test_a_malformed_page_of_any_listing_names_its_request(hostile: HostileServer) -> None:
    from envsync.errors import WorkspaceError
    from envsync.http.session import HttpOptions, StaticTokenCredential
    from envsync.workspace.azure.arm import ArmSession

    session = ArmSession(
        f"{hostile.url}/ws",
        StaticTokenCredential("t" * 20),
        api_version="2025-12-01",
        options=HttpOptions(pacing=False),
    )
    hostile.script({r"/onlineEndpoints$": json_answer({"value": 5})})
    with pytest.raises(
        WorkspaceError,
        match=r"^GET onlineEndpoints: the answer's 'value' is a number \(5\), expected a list$",
    ):
        list(session.pages("onlineEndpoints"))
