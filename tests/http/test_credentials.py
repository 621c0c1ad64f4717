"""Sign-in failures as one line: azure-identity's own chain text, explained."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ChainedTokenCredential, CredentialUnavailableError

from envsync.errors import CredentialError
from envsync.http.credentials import ExplainedCredential, explain


class Refusing:
    """Stands in for a credential that reached Azure AD (no token service runs here): it
    raises what azure-identity raises, with AD's text."""

    def __init__(self, error: Exception):
        self.error = error

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise self.error


class EnvironmentCredential(Refusing):
    """Named as DefaultAzureCredential's first source is, so the chain's text names it."""


def chained(*errors: Exception) -> ExplainedCredential:
    return ExplainedCredential(ChainedTokenCredential(*(EnvironmentCredential(e) for e in errors)))


def signing_in(credential: ExplainedCredential) -> str:
    with pytest.raises(CredentialError) as info:
        credential.get_token("https://management.azure.com/.default")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_an_unavailable_chain_names_its_sources_and_both_fixes() -> None:
    message = signing_in(
        chained(CredentialUnavailableError("Environment variables are not fully configured."))
    )
    assert message.startswith(
        "no Azure credential available (DefaultAzureCredential tried: environment variables)"
    )
    assert "locally, run `az login`" in message and "azure/login with OIDC" in message


def test_a_federated_subject_mismatch_says_which_subjects_to_add() -> None:
    text = (
        "ClientAssertionCredential authentication failed: AADSTS700213: No matching federated identity "
        "record found for presented assertion subject 'repo:org/repo:ref:refs/heads/feature'. Trace ID: 1"
    )
    message = signing_in(chained(ClientAuthenticationError(message=text)))
    assert message.startswith("Azure AD refused the sign-in (environment variables) with AADSTS700213:")
    assert "repo:OWNER/REPO" in message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("7000222", "client secret has expired"),
        ("7000215", "client secret is wrong"),
        ("90002", "tenant does not exist"),
        ("700016", "not in this tenant"),
        ("70021", "no federated credential"),
    ],
)
def test_aadsts_codes_name_the_cause(code: str, words: str) -> None:
    text = f"Authentication failed: AADSTS{code}: something AD said.\nTrace ID: x"
    assert words in signing_in(chained(ClientAuthenticationError(message=text)))


def test_an_unknown_aadsts_code_quotes_ad_on_one_line() -> None:
    message = str(explain("failed: AADSTS123456: A new refusal.\r\nTrace ID: 00"))
    assert message == "Azure AD refused the sign-in: AADSTS123456: A new refusal."


def test_other_failures_pass_through_untouched() -> None:
    with pytest.raises(ZeroDivisionError):
        ExplainedCredential(Refusing(ZeroDivisionError())).get_token("scope")
