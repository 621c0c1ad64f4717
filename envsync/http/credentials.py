"""Sign-in failures as one line that names the cause and the fix.

azure-identity raises `ClientAuthenticationError` (and its subclass `CredentialUnavailableError`)
with a many-line text: DefaultAzureCredential lists every credential of its chain, one per line
after "Attempted credentials:", and a credential that reached Azure AD quotes AD's
`AADSTSnnnnn: ...` refusal. `ExplainedCredential` turns those into a `CredentialError`; the
chain's own warning (printed a second time through logging's last-resort handler) is silenced.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from envsync.errors import CredentialError
from envsync.http.redact import one_line, redact
from envsync.http.session import AccessTokenLike, TokenCredential

CI_FIX = (
    "in CI, run azure/login with OIDC (client-id, tenant-id, subscription-id; "
    "permissions: id-token: write) first"
)
LOCAL_FIX = "locally, run `az login`"
_AADSTS = re.compile(r"AADSTS(\d+)")
_ATTEMPT = re.compile(r"^\t?(\w+Credential): (.*)$")

# The sources of DefaultAzureCredential's chain, as a short list names them.
_SHORT = {
    "EnvironmentCredential": "environment variables",
    "WorkloadIdentityCredential": "workload identity",
    "ManagedIdentityCredential": "managed identity",
    "SharedTokenCacheCredential": "shared token cache",
    "VisualStudioCodeCredential": "VS Code",
    "AzureCliCredential": "Azure CLI",
    "AzurePowerShellCredential": "Azure PowerShell",
    "AzureDeveloperCliCredential": "Azure Developer CLI",
    "BrokerCredential": "broker",
    "InteractiveBrowserCredential": "browser",
}

# Azure AD's refusals (https://login.microsoftonline.com/error?code=N): cause; fix.
_REFUSALS = {
    "700016": "the application (client id) is not in this tenant: check AZURE_CLIENT_ID / azure/login's "
    "client-id and that AZURE_TENANT_ID / tenant-id is the application's tenant",
    "90002": "the tenant does not exist: check AZURE_TENANT_ID / azure/login's tenant-id",
    "900023": "the tenant id is malformed: check AZURE_TENANT_ID / azure/login's tenant-id",
    "7000215": "the client secret is wrong: set the current secret, or switch to OIDC federation",
    "7000222": "the client secret has expired: create a new one, or switch to OIDC federation",
    "700024": "the OIDC token expired before it was exchanged: run azure/login right before envsync",
    "70021": "no federated credential of the application matches this workflow's OIDC token: add one "
    "whose subject is repo:OWNER/REPO:pull_request (plan), :ref:refs/heads/main (apply) or "
    ":environment:NAME (jobs with an environment)",
    "700211": "no federated credential matches the token's issuer: use https://token.actions.githubusercontent.com",
    "700212": "no federated credential matches the token's audience: use api://AzureADTokenExchange",
    "700213": "no federated credential matches the token's subject: add one for this branch, pull_request "
    "or environment (subject repo:OWNER/REPO:...)",
    "70025": "the application has no federated credentials: add one for this repository's workflows",
    "7000112": "the application is disabled in the tenant",
    "50020": "the account is not in this tenant: `az login --tenant TENANT`",
    "50076": "multi-factor authentication is required: run `az login` again",
    "50079": "multi-factor authentication is required: run `az login` again",
    "50078": "the sign-in expired: run `az login` again",
    "50173": "the sign-in expired (credentials changed): run `az login` again",
    "700082": "the sign-in expired: run `az login` again",
    "53003": "a conditional access policy blocked the sign-in: ask the tenant's administrator",
    "500011": "the resource is not in this tenant (wrong cloud or endpoint?): check ENVSYNC_ARM_ENDPOINT",
}


class ExplainedCredential:
    """A `TokenCredential` whose failures are `CredentialError`s of one line."""

    def __init__(self, credential: TokenCredential, *, name: str = "DefaultAzureCredential"):
        self._credential, self.name = credential, name
        quiet_identity_logs()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike:
        try:
            return self._credential.get_token(*scopes, **kwargs)
        except Exception as e:
            if not _is_auth_error(e):
                raise
            raise explain(str(getattr(e, "message", None) or e), self.name) from None

    def __repr__(self) -> str:
        return f"ExplainedCredential({self.name})"


def describe_credential(credential: object) -> str:
    """Which credential signs in, as far as it is known yet: DefaultAzureCredential names the
    source of its chain that gave it a token (after one was asked for)."""
    current: object = credential
    for _ in range(4):  # ExplainedCredential around a lazily made DefaultAzureCredential, at most
        inner = getattr(current, "_credential", None)
        if inner is None:
            break
        current = inner
    name = type(current).__name__.lstrip("_").removeprefix("Lazy")
    if name == "StaticTokenCredential":
        return "a fixed token (ENVSYNC_ARM_TOKEN, or the emulator's placeholder)"
    chosen = getattr(current, "_successful_credential", None)
    return f"{name} via {type(chosen).__name__}" if chosen is not None else name


def explain(text: str, name: str = "DefaultAzureCredential") -> CredentialError:
    """The `CredentialError` for azure-identity's failure text."""
    attempts = _attempts(text)
    code = _AADSTS.search(text)
    if code is not None:
        return CredentialError(_refused(code.group(1), text, attempts))
    if attempts:
        tried = ", ".join(_tried(n, r) for n, r in attempts)
        name_last, reason_last = attempts[-1]
        broke = "" if _unavailable(reason_last) else f"; {name_last}: {_sentence(reason_last)}"
        return CredentialError(
            f"no Azure credential available ({name} tried: {tried}){broke}; {LOCAL_FIX}; {CI_FIX}"
        )
    return CredentialError(f"signing in to Azure failed: {_sentence(text)}; {LOCAL_FIX}; {CI_FIX}")


def _attempts(text: str) -> list[tuple[str, str]]:
    found = (_ATTEMPT.match(line) for line in text.splitlines())
    return [(m.group(1), m.group(2)) for m in found if m is not None]


_UNAVAILABLE = ("unavailable", "not found", "not installed", "could not be found", "requires", "az login")


def _unavailable(reason: str) -> bool:
    """Whether a credential of the chain said it has nothing to sign in with (rather than failing)."""
    lowered = reason.lower()
    return any(marker in lowered for marker in _UNAVAILABLE)


def _sentence(text: str) -> str:
    return one_line(redact(text.strip().split("\n", 1)[0]), 240)


def _tried(name: str, reason: str) -> str:
    short = _SHORT.get(name, name.removesuffix("Credential"))
    lowered = reason.lower()
    if name == "AzureCliCredential" and "not found" in lowered:
        return f"{short} (az not on PATH)"
    if name == "AzureCliCredential" and "az login" in lowered:
        return f"{short} (not logged in)"
    return short


def _refused(code: str, text: str, attempts: list[tuple[str, str]]) -> str:
    source = next((_SHORT.get(n, n) for n, r in attempts if f"AADSTS{code}" in r), "")
    by = f" ({source})" if source else ""
    cause = _REFUSALS.get(code)
    if cause is None:
        return f"Azure AD refused the sign-in{by}: {_sentence(text[text.index(f'AADSTS{code}') :])}"
    return f"Azure AD refused the sign-in{by} with AADSTS{code}: {cause}"


def _is_auth_error(error: BaseException) -> bool:
    # Matched by name so that azure-core is imported only when azure-identity is used.
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"ClientAuthenticationError", "CredentialUnavailableError"})


def quiet_identity_logs() -> None:
    """azure-identity logs the chain's failure as a warning before raising it; with no logging
    configured, Python prints it to stderr: the same text twice. The exception says it all."""
    logger = logging.getLogger("azure.identity")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
