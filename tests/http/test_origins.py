"""Which hosts the token may follow an answer to (`envsync.http.origins`)."""

from __future__ import annotations

import pytest

from envsync.errors import WorkspaceError
from envsync.http.origins import TRUSTED_ORIGINS_VARIABLE, UntrustedOrigin, check_followed

ARM = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/x/registries/r"


@pytest.mark.parametrize(
    ("url", "registry"),
    [
        ("https://management.azure.com/subscriptions/s/providers/x/locations/eastus/ops/1", False),
        ("https://MANAGEMENT.Azure.com/ops/1", False),  # host names are case-insensitive
        ("https://eastus.api.azureml.ms/environment/v1.0/operations/r_env_1_1", True),
        ("https://chinaeast2.api.ml.azure.cn/mferp/managementfrontend", True),
        ("https://usgovarizona.api.ml.azure.us/environment/v1.0/operations/x", True),
    ],
)
def test_followed(url: str, registry: bool) -> None:
    assert check_followed("the operation URL", url, ARM, registry=registry) == url


@pytest.mark.parametrize(
    ("url", "registry", "host"),
    [
        ("https://evil.example/ops/1", True, "evil.example"),
        ("https://eastus.api.azureml.ms/ops/1", False, "eastus.api.azureml.ms"),  # workspaces: ARM only
        ("https://api.azureml.ms.evil.example/ops/1", True, "api.azureml.ms.evil.example"),
        ("https://evilapi.azureml.ms/ops/1", True, "evilapi.azureml.ms"),  # not a subdomain of api.azureml.ms
        ("https://management.azure.com:8443/ops/1", True, "management.azure.com"),  # another port
        ("http://127.0.0.1:9/ops/1", True, "127.0.0.1"),  # loopback, but not listed
    ],
)
def test_refused_with_the_host_named(url: str, registry: bool, host: str) -> None:
    with pytest.raises(UntrustedOrigin, match=f"the operation URL is on {host}, not management.azure.com"):
        check_followed("the operation URL", url, ARM, registry=registry)


def test_plain_http_to_an_azure_host_is_refused() -> None:
    with pytest.raises(WorkspaceError, match="refusing plain http"):
        check_followed("the operation URL", "http://eastus.api.azureml.ms/ops/1", ARM, registry=True)


def test_listed_loopback_origins_are_followed_and_only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    base = "http://127.0.0.1:5000/subscriptions/s"
    monkeypatch.setenv(TRUSTED_ORIGINS_VARIABLE, "http://localhost:5000, https://evil.example")
    assert check_followed("op", "http://localhost:5000/ops/1", base) == "http://localhost:5000/ops/1"
    with pytest.raises(UntrustedOrigin, match="is on localhost"):
        check_followed("op", "http://localhost:5001/ops/1", base)
    with pytest.raises(UntrustedOrigin, match="is on evil.example"):  # listing a remote host does nothing
        check_followed("op", "https://evil.example/ops/1", base)
