"""Deployment answers are untrusted: each field is the type mfe.json says or a one-line error
naming the field and the request; a name the endpoint chose is one path segment when sent back."""

from __future__ import annotations

from typing import Any

import pytest

from envsync.errors import WorkspaceError
from envsync.workspace.azure.endpoints import deployment_from_json, deployments_path
from envsync.workspace.deployments import Deployment, EndpointKind

WHERE = "onlineEndpoints/e/deployments"


def test_a_deployment_answer_reads_as_a_value() -> None:
    item = {"name": "blue", "properties": {"environmentId": "azureml:churn:1", "instanceType": "x"}}
    assert deployment_from_json(EndpointKind.ONLINE, "e", item, WHERE) == Deployment(
        EndpointKind.ONLINE, "e", "blue", "azureml:churn:1"
    )
    bare = deployment_from_json(EndpointKind.BATCH, "e", {"name": "m", "properties": None}, WHERE)
    assert bare.environment_id is None


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"name": 5}, "the answer's 'name' is a number (5), expected a non-empty string"),
        ({"name": ""}, "the answer's 'name' is an empty string, expected a non-empty string"),
        ({"name": "b", "properties": []}, "the answer's 'properties' is a list, expected an object"),
        (
            {"name": "b", "properties": {"environmentId": {"id": 1}}},
            "the answer's 'properties.environmentId' is an object, expected a string",
        ),
        ("blue", "the answer's 'value[]' is a string, expected an object"),
    ],
)
def test_a_field_of_the_wrong_type_is_one_line_naming_it(item: Any, problem: str) -> None:
    with pytest.raises(WorkspaceError) as caught:
        deployment_from_json(EndpointKind.ONLINE, "e", item, WHERE)
    assert str(caught.value) == f"GET {WHERE}: {problem}"


def test_an_endpoint_name_is_one_path_segment() -> None:
    assert deployments_path(EndpointKind.BATCH, "a/../b c") == "batchEndpoints/a%2F..%2Fb%20c/deployments"
