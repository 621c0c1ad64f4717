"""Where a token may go: Azure's clouds' ARM endpoints, and loopback (the bundled emulator).

A repository's envsync.yaml may name only these; any other endpoint must come from the runner's
environment (ENVSYNC_ARM_ENDPOINT), which a pull request cannot set.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Resource Manager of the public cloud and the sovereign ones (`az cloud list`:
# AzureCloud, AzureChinaCloud, AzureUSGovernment).
ARM_ENDPOINTS = (
    "https://management.azure.com",
    "https://management.chinacloudapi.cn",
    "https://management.usgovcloudapi.net",
)
_ARM_HOSTS = frozenset(urlsplit(url).hostname for url in ARM_ENDPOINTS)


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
