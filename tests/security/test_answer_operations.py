"""The fields envsync reads from operation polls and a registry's data references, type-checked:
a malformed one is one line naming the request, never a traceback."""

from __future__ import annotations

import re
from typing import Any

import pytest

from envsync.errors import WorkspaceError
from envsync.workspace.azure.registry import _sas_uri
from tests.http.test_lro import Script, answer, created


@pytest.mark.parametrize(
    ("poll", "shown"),
    [
        ({"status": 5}, "not a string (int)"),
        ({"status": None}, "missing"),
        ([1], "missing"),
        ({"status": {}}, "not a string (dict)"),
    ],
    ids=["number", "null", "list", "object"],
)
def test_an_operation_status_of_the_wrong_type_names_the_request(poll: Any, shown: str) -> None:
    with pytest.raises(
        WorkspaceError,
        match=rf"^PUT e:1: polling the operation: the answer's 'status' is {re.escape(shown)}$",
    ):
        Script(answer(200, poll)).run(created(Retry_After="0"))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"blobReferenceForConsumption": "sas"},
            "'blobReferenceForConsumption' is a string, expected an object",
        ),
        (
            {"blobReferenceForConsumption": {"credential": []}},
            "'blobReferenceForConsumption.credential' is a list",
        ),
        (
            {"blobReferenceForConsumption": {"credential": {"sasUri": 5}}},
            "'blobReferenceForConsumption.credential.sasUri' is a number (5), expected a string",
        ),
        ({"blobReferenceForConsumption": {"credential": {"credentialType": "NoCredentials"}}}, "lent no SAS"),
    ],
    ids=["reference-string", "credential-list", "sas-number", "no-sas"],
)
def test_a_data_reference_of_the_wrong_shape_names_the_request(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(WorkspaceError) as caught:
        _sas_uri(doc, "POST datareferences/e/versions/1")
    assert str(caught.value).startswith("POST datareferences/e/versions/1: ")
    assert message in str(caught.value)
