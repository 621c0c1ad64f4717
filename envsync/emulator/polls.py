"""`--realism` registry writes, answered the way Azure ML's registry data plane answers them
(REC …test_registry_environment_create_conda_and_get.json, docs/real-service.md):

- the PUT that creates a version: 202, a `Location` to poll, `x-ms-async-operation-timeout`,
  no `Retry-After`, and the JSON body `null`;
- the `Location` is on another host than the PUT (there `master.api.azureml-test.ms` for a PUT
  to `cert-master.experiments.azureml-test.net`), here the emulator's other loopback name
  (`localhost` for `127.0.0.1`, and the other way round): the same server, another origin;
- each poll of it (`GET /environment/v1.0/operations/{id}`) answers 202 with no body while the
  operation runs, then 200 with no body; the client reads the version itself afterwards.

A failed operation's poll answers its ARM error [infer: no failure was recorded].
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from envsync.emulator.core import Backend, Reply, Request, arm_error
from envsync.emulator.operations import IN_PROGRESS, Operation, Operations

POLL_PATH = re.compile(r"^/environment/v1\.0/operations/(?P<id>[^/]+)$", re.IGNORECASE)
_JSON = {"Content-Type": "application/json; charset=utf-8"}


def other_origin(base_url: str) -> str:
    """The emulator's URL under its other loopback name: another origin, the same server."""
    parts = urlsplit(base_url)
    host = "127.0.0.1" if parts.hostname == "localhost" else "localhost"
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}"))


def accepted(op: Operation, base_url: str) -> Reply:
    headers = {
        **_JSON,
        "Location": f"{other_origin(base_url)}/environment/v1.0/operations/{op.id}",
        "x-ms-async-operation-timeout": "PT1H",
    }
    return Reply(202, b"null", headers)


def poll(backend: Backend, operations: Operations, req: Request, op_id: str) -> Reply:
    if req.method != "GET":
        return arm_error(405, "MethodNotAllowed", f"{req.method} is not supported on this resource.")
    op = operations.find(op_id)
    if op is None:
        return arm_error(404, "NotFound", f"Operation {op_id} not found.")
    _, lock = backend.open(op.key)
    with lock:
        operations.settle(op.key)
    if op.status == IN_PROGRESS:
        return Reply(202)
    if op.error:
        return arm_error(400, str(op.error["code"]), str(op.error["message"]))
    return Reply(200)
