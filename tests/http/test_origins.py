"""Which hosts the token may follow an answer to (`envsync.http.origins`)."""

from __future__ import annotations

import re

import pytest

from envsync.errors import WorkspaceError
from envsync.http.origins import (
    TRUSTED_ORIGINS_VARIABLE,
    UntrustedOrigin,
    check_followed,
    check_storage_token,
)

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


@pytest.mark.parametrize(
    "url",
    [
        "https://acct.blob.core.windows.net",
        "https://ACCT.Blob.Core.Windows.Net",  # host names are case-insensitive
        "https://acct.blob.core.windows.net:443",
        "https://acct.blob.core.chinacloudapi.cn",
        "https://acct.blob.core.usgovcloudapi.net",
        "http://127.0.0.1:10000/devstoreaccount1",  # Azurite, the emulator's blob service
        "https://localhost:8443/acct",
        "https://[::1]:8443/acct",
    ],
)
def test_storage_token_goes(url: str) -> None:
    assert check_storage_token("datastore d", url) == url


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://attacker.example/acct", "attacker.example"),
        ("http://acct.blob.core.windows.net", "acct.blob.core.windows.net"),  # plain http
        ("https://acct.blob.core.windows.net:8443", "acct.blob.core.windows.net"),  # another port
        (
            "https://acct.blob.core.windows.net.attacker.example",
            "acct.blob.core.windows.net.attacker.example",
        ),
        ("https://x@attacker.example/.blob.core.windows.net", "attacker.example"),
        ("https://u:p@acct.blob.core.windows.net", "acct.blob.core.windows.net"),  # userinfo
        ("https://blob.core.windows.net", "blob.core.windows.net"),  # no account
        ("https://a.b.blob.core.windows.net", "a.b.blob.core.windows.net"),  # not an account name
        ("https://acct.queue.core.windows.net", "acct.queue.core.windows.net"),  # not the blob service
        ("https://acct.blob.core.cloudapi.de", "acct.blob.core.cloudapi.de"),  # Azure Germany, retired
        ("https://x@127.0.0.1:10000/acct", "127.0.0.1"),
        ("https://localhost.example/acct", "localhost.example"),
        ("https://127.0.0.1.attacker.example/acct", "127.0.0.1.attacker.example"),
    ],
)
def test_storage_token_refused(url: str, host: str) -> None:
    with pytest.raises(UntrustedOrigin, match=rf"datastore d names the storage host {re.escape(host)}: "):
        check_storage_token("datastore d", url)
