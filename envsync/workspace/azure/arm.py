"""HTTP to Azure Resource Manager: one pooled session, retries, paging, ARM error mapping.

Follows the ARM conventions that the Azure ML spec builds on
(Azure/azure-rest-api-specs: specification/machinelearningservices/resource-manager/
Microsoft.MachineLearningServices/stable/2025-12-01/mfe.json, and common-types v3):
`{"value": [...], "nextLink": ...}` pages, `{"error": {"code", "message"}}` error bodies,
429 + `Retry-After` throttling. Requests are paced under ARM's token buckets (`envsync/http/throttle.py`) so
that a large plan or apply runs at the limit rather than into 429s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests

from envsync.errors import ConflictError, NotFoundError, WorkspaceError
from envsync.http.body import read_within
from envsync.http.caps import AnswerTooLarge, load_json, request_label
from envsync.http.redact import install_log_redaction, one_line, redact
from envsync.http.retrying import Retrier
from envsync.http.session import AccessTokenLike, HttpOptions, TokenCredential, check_endpoint, new_session
from envsync.http.throttle import Pacer
from envsync.workspace.azure import arm_errors, fields

DEFAULT_ENDPOINT = "https://management.azure.com"
ARM_SCOPE = "https://management.azure.com/.default"
_WHO = ("tid", "oid", "upn", "unique_name", "appid", "azp", "idtyp")  # claims that say who signed in
_TOKEN_MARGIN_S = 300  # refresh a token this long before it expires

log = logging.getLogger("envsync.azureml")


def error_from_response(
    op: str, response: requests.Response, secrets: tuple[str, ...] = ()
) -> WorkspaceError:
    """`op: STATUS CODE: message` as one redacted line, typed by status; where ARM's code says
    what to do (a role to grant, a part of the target to check), that instead of or after it."""
    code, message = _error_fields(response)
    retried = _attempts_note(response)
    status = response.status_code
    hint = arm_errors.hint(status, code, message)
    said = hint if code == "AuthorizationFailed" else f"{message}; {hint}" if hint else message
    text = one_line(redact(f"{op}: {status} {code}: {said}{retried}", secrets), 700)
    # A missing workspace is not a missing asset: callers that treat NotFound as "absent" must fail.
    kind = {404: NotFoundError, 409: ConflictError}.get(status, WorkspaceError)
    if arm_errors.parent_missing(status, code, message):
        kind = WorkspaceError
    return kind(text, status=status, code=code)


def _error_fields(response: requests.Response) -> tuple[str, str]:
    code = response.headers.get("x-ms-error-code") or response.reason or "Error"
    message = response.reason or "request failed"
    try:
        doc = load_json(response.content, "")
    except WorkspaceError:
        return code, message
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
    return code, message


def _attempts_note(response: requests.Response) -> str:
    attempts = getattr(response, "attempts", 1)
    return f" (gave up after {attempts} attempts)" if attempts > 1 else ""


class ArmSession:
    """Authenticated JSON requests under one ARM resource URL, safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        credential: TokenCredential,
        *,
        api_version: str,
        options: HttpOptions = HttpOptions(),
        scope: str = ARM_SCOPE,
    ):
        self.base_url = check_endpoint(base_url)
        self.api_version = api_version
        self.options = options
        self._credential, self._scope = credential, scope
        self._session = new_session(options)
        self._retrier = Retrier(options)
        self._slots = threading.BoundedSemaphore(max(1, options.concurrency))
        self._pacer = Pacer(options.limits()) if options.pacing else None
        self._token_lock = threading.Lock()
        self._token: AccessTokenLike | None = None
        install_log_redaction()

    def __repr__(self) -> str:
        return f"ArmSession({self.base_url!r}, api_version={self.api_version!r})"

    # -- JSON helpers -------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """GET `path` (relative to the base URL); None on 404."""
        response = self.send("GET", path, params=params, allow_404=True)
        return None if response is None else self.json(response)

    def put(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self.send("PUT", path, json=body)
        assert response is not None
        return self.json(response)

    def post(self, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.send("POST", path, json=body)
        assert response is not None
        return self.json(response)

    def json(self, response: requests.Response) -> dict[str, Any]:
        """`json_object`, its errors naming the request as this session's others do."""
        return json_object(response, f"{response.request.method} {self._label(str(response.request.url))}")

    def pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paged list, following each `nextLink` with the server's own filters
        and opaque `$skip` but this client's api-version (the service may write another one
        there: the spec's own list example does). A 404 on the first page yields nothing."""
        response = self.send("GET", path, params=params, allow_404=True)
        seen: set[str] = set()
        with fields.answered(f"GET {path}"):  # a page's own fields; callers name their items'
            while response is not None:
                page = self.json(response)
                yield from fields.items(page)
                next_link = fields.text(page, "nextLink", "nextLink")
                if not next_link:
                    return
                if next_link in seen:  # a server paging in a circle would keep us here for ever
                    raise fields.BadField(
                        f"the answer's 'nextLink' names a page already read ({len(seen)} pages in)"
                    )
                seen.add(next_link)
                url = next_link_url(next_link, self.base_url, self.api_version)
                response = self.send("GET", url, absolute=True)

    # -- the target itself (envsync doctor) ------------------------------------------------------

    @property
    def credential(self) -> TokenCredential:
        return self._credential

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def token_claims(self) -> dict[str, Any]:
        """Who the token says the caller is (tenant, object id, name), never the token; {} when
        the token is not a JWT (ENVSYNC_ARM_TOKEN may be anything)."""
        from envsync.http.jwt import claims_of

        self._bearer()
        assert self._token is not None
        claims = claims_of(self._token.token) or {}
        return {k: claims[k] for k in _WHO if k in claims}

    def resource(self) -> dict[str, Any]:
        """The workspace's (or registry's) own ARM resource."""
        response = self.send("GET", f"{self.base_url}?api-version={quote(self.api_version)}", absolute=True)
        assert response is not None
        return json_object(response)

    def permissions(self, api_version: str) -> list[dict[str, Any]]:
        """The caller's effective grants at this scope (`Microsoft.Authorization/permissions`)."""
        url = f"{self.base_url}/providers/Microsoft.Authorization/permissions?api-version={api_version}"
        response = self.send("GET", url, absolute=True)
        assert response is not None
        return [e for e in json_object(response).get("value") or () if isinstance(e, dict)]

    def phase(self, label: str, seconds: float) -> AbstractContextManager[None]:
        """A deadline over every request until the block ends (`Retrier.phase`)."""
        return self._retrier.phase(label, seconds)

    def spare_writes(self) -> float | None:
        """Write tokens ARM's bucket has for this principal now, as the pacer sees it (None: not
        paced, so no limit is known)."""
        return None if self._pacer is None else self._pacer.spare("PUT")

    # -- transport ----------------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        absolute: bool = False,
        allow_404: bool = False,
    ) -> requests.Response | None:
        url = path if absolute else f"{self.base_url}/{path}"
        query = None if absolute else {"api-version": self.api_version, **(params or {})}
        op = f"{method} {self._label(url)}"
        if absolute:
            check_endpoint(url)  # a nextLink must not downgrade us to plain http
        headers = {"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"}
        response = self._paced(op, method, url, params=query, json=json, headers=headers)
        if allow_404 and response.status_code == 404 and not _parent_missing(response):
            return None
        if response.status_code >= 400:
            raise error_from_response(op, response, self._secrets())
        return response

    def raw(self, op: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        """An unauthenticated request through the same pool and retries (blob storage carries
        its own SAS or Shared Key; the ARM token must never reach it)."""
        return self._request(op, method, url, **kwargs)

    def _paced(self, op: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        if self._pacer is None:
            return self._request(op, method, url, **kwargs)
        operation = self._pacer.acquire(method)
        response = None
        try:
            response = self._request(op, method, url, **kwargs)
        finally:
            self._pacer.release(operation, None if response is None else response.headers)
        return response

    def _request(self, op: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        def attempt(seconds: float) -> requests.Response:
            timeout = (min(self.options.connect_timeout, seconds), min(self.options.read_timeout, seconds))
            with self._slots:
                response = self._session.request(method, url, timeout=timeout, stream=True, **kwargs)
                read_within(response, seconds)
            return response

        try:
            response = self._retrier.run(op, url, attempt, self._secrets())
        except AnswerTooLarge as e:  # named as this session's other errors name a request
            raise AnswerTooLarge(f"{op}: {e.reason}") from None
        log.debug("%s -> %s", op, response.status_code)
        return response

    def _bearer(self) -> str:
        with self._token_lock:
            if self._token is None or self._token.expires_on - _TOKEN_MARGIN_S < time.time():
                self._token = self._credential.get_token(self._scope)
            return self._token.token

    def _secrets(self) -> tuple[str, ...]:
        return (self._token.token,) if self._token is not None else ()

    def _label(self, url: str) -> str:
        """A URL as error messages show it: relative to the workspace, without the query."""
        bare = url.split("?", 1)[0]
        return bare[len(self.base_url) + 1 :] if bare.startswith(self.base_url + "/") else redact(bare)

    def close(self) -> None:
        self._session.close()


def next_link_url(link: str, base_url: str, api_version: str) -> str:
    """`link` with its api-version set to `api_version` and every other parameter kept as
    sent (azure-ai-ml does the same). It must stay on the base URL's https origin (loopback
    http aside): the bearer token goes wherever it points."""
    try:
        check_endpoint(link)
    except WorkspaceError as e:
        raise fields.BadField(f"nextLink: {e}") from None
    parts, base = urlsplit(link), urlsplit(base_url)
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        raise fields.BadField(
            f"nextLink leaves {base.hostname} for {parts.hostname}: refusing to send the token there"
        )
    kept = [p for p in parts.query.split("&") if p and unquote(p.split("=", 1)[0]).lower() != "api-version"]
    query = "&".join([f"api-version={quote(api_version, safe='')}", *kept])
    return urlunsplit(parts._replace(query=query))


def json_object(response: requests.Response, op: str | None = None) -> dict[str, Any]:
    """An answer's JSON object ({} for an empty body), nested no deeper than `caps` allows;
    anything else is a WorkspaceError naming the request (`op`, else its method and path)."""
    if not response.content:
        return {}
    op = op or request_label(str(response.request.method), str(response.request.url))
    doc = load_json(response.content, op)
    if not isinstance(doc, dict):
        raise WorkspaceError(f"{op}: expected a JSON object, got {type(doc).__name__}")
    return doc


def _parent_missing(response: requests.Response) -> bool:
    code, message = _error_fields(response)
    return arm_errors.parent_missing(response.status_code, code, message)
