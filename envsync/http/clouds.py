"""Where a token may go: Azure's clouds' ARM endpoints and blob hosts, and loopback (the emulator).

A repository's envsync.yaml may name only an ARM endpoint or loopback; any other endpoint must
come from the runner's environment (ENVSYNC_ARM_ENDPOINT), which a pull request cannot set.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# Resource Manager of the public cloud and the sovereign ones (`az cloud list`:
# AzureCloud, AzureChinaCloud, AzureUSGovernment).
ARM_ENDPOINTS = (
    "https://management.azure.com",
    "https://management.chinacloudapi.cn",
    "https://management.usgovcloudapi.net",
)
_ARM_HOSTS = frozenset(urlsplit(url).hostname for url in ARM_ENDPOINTS)
# Blob service hosts of the same clouds, `https://{account}.blob.{suffix}` (the storage
# DNS suffixes `az cloud show` gives: core.windows.net, core.chinacloudapi.cn,
# core.usgovcloudapi.net); the audience https://storage.azure.com is valid for all three.
BLOB_HOST_SUFFIXES = (".blob.core.windows.net", ".blob.core.chinacloudapi.cn", ".blob.core.usgovcloudapi.net")
# A storage account's name: 3-24 lowercase letters and digits (what ARM allows).
_ACCOUNT = re.compile(r"[a-z0-9]{3,24}\Z")


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_cloud_arm(url: str) -> bool:
    """Whether `url` is one of `ARM_ENDPOINTS` (a trailing slash allowed, nothing else)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and parts.hostname in _ARM_HOSTS
        and "@" not in parts.netloc
        and port in (None, 443)
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )


def may_come_from_a_file(url: str) -> bool:
    """The endpoint rule for envsync.yaml: an Azure cloud's ARM, or loopback."""
    return is_cloud_arm(url) or is_loopback(url)


def is_cloud_blob(url: str) -> bool:
    """Whether `url` is an Azure cloud's blob service: https to `{account}` + one of
    `BLOB_HOST_SUFFIXES`, no userinfo, no port but 443."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    suffix = next((s for s in BLOB_HOST_SUFFIXES if host.endswith(s)), None)
    return (
        parts.scheme == "https"
        and suffix is not None
        and _ACCOUNT.match(host.removesuffix(suffix)) is not None
        and "@" not in parts.netloc
        and port in (None, 443)
    )
