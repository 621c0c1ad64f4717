"""The emulator's knobs, checked once, and the blob storage they choose."""

from __future__ import annotations

from dataclasses import dataclass

from envsync.emulator.access import MISSING, STORAGE_REFUSALS
from envsync.emulator.realism import DEFAULT_LAG_MS
from envsync.emulator.storage import SECRETS_TYPES, BuiltinStorage, ExternalStorage, Storage
from envsync.errors import EnvsyncError
from envsync.http.throttle import Limits


@dataclass(frozen=True)
class EmulatorOptions:
    latency_ms: int = 0  # sleep this long before answering each request
    fault_rate: float = 0.0  # share of requests failing with 500, 503 or a connection reset
    throttle_rate: float = 0.0  # share of requests answered 429 (503 ServerBusy on blobs)
    retry_after: int = 1  # seconds in Retry-After (whole seconds: the header's grammar); 0 allowed
    page_size: int = 100  # items per list page
    seed: int | None = None  # for the fault and throttle draws
    secrets_type: str = "Sas"  # the datastore's credentials: "Sas", "AccountKey" or "None"
    blob_endpoint: str | None = None  # hand out this blob service (Azurite's account URL) instead
    blob_account_key: str | None = None  # its account key (default: Azurite's published key)
    blob_ca_bundle: str | bool = True  # what verifies its TLS certificate
    tls: bool = False  # serve HTTPS with a certificate made at start (see `tls.py`)
    realism: bool = False  # answer as the service may (`realism.py`)
    list_lag_ms: int | None = None  # lists lag writes by this much (default: 2000 with realism)
    check_responses: bool = False  # a 500 for an answer that breaks the REST spec (tests)
    # One SQLite file per ARM workspace id, as Azure keeps workspaces apart (dev's environments
    # are no orphans of prod); False: every workspace id shares one state (tests that read it).
    isolate: bool = True
    arm_throttle: bool = False  # enforce ARM's token buckets (below) with 429 + Retry-After
    read_bucket: int = 250  # GET, HEAD
    read_refill: float = 25.0  # tokens a second
    write_bucket: int = 200  # PUT, POST, PATCH; DELETE has a bucket of its own, the same size
    write_refill: float = 10.0
    operation_seconds: float = 0.0  # how long a registry write stays InProgress
    operation_failure_rate: float = 0.0  # share of registry operations that end Failed
    echo_secrets: bool = False  # error answers quote the request's token, SAS and body back
    # What the target is like beyond its environments (`access.py`).
    principal_actions: tuple[str, ...] = ("*",)  # what the caller may do (ARM action patterns)
    principal_not_actions: tuple[str, ...] = ()
    missing: str | None = None  # "subscription", "resource-group" or "workspace" (or registry)
    public_network_access: str = "Enabled"  # "Disabled": asset requests refused (private link)
    storage_refusal: str | None = None  # "role": tokens refused; "firewall": everything refused
    location: str = "westeurope"

    def limits(self) -> Limits:
        return Limits(self.read_bucket, self.read_refill, self.write_bucket, self.write_refill)

    def list_lag_s(self) -> float:
        if self.list_lag_ms is not None:
            return self.list_lag_ms / 1000
        return DEFAULT_LAG_MS / 1000 if self.realism else 0.0

    def check(self) -> None:
        if self.secrets_type not in SECRETS_TYPES:
            raise EnvsyncError(
                f"secrets_type must be one of {', '.join(SECRETS_TYPES)}, not {self.secrets_type!r}"
            )
        if self.retry_after < 0 or self.operation_seconds < 0 or (self.list_lag_ms or 0) < 0:
            raise EnvsyncError("retry_after, operation_seconds and list_lag_ms must be >= 0")
        if self.missing not in (None, *MISSING) or self.storage_refusal not in (None, *STORAGE_REFUSALS):
            raise EnvsyncError(
                f"missing must be one of {', '.join(MISSING)}; storage_refusal one of "
                f"{', '.join(STORAGE_REFUSALS)}"
            )
        if self.public_network_access not in ("Enabled", "Disabled"):
            raise EnvsyncError("public_network_access must be Enabled or Disabled")
        if not 0.0 <= self.operation_failure_rate < 1.0:
            raise EnvsyncError("operation_failure_rate must be in [0, 1)")
        try:
            self.limits()
        except ValueError as e:
            raise EnvsyncError(str(e)) from None

    def storage(self, secret: bytes) -> Storage:
        if self.blob_endpoint is None:
            return BuiltinStorage(secret, self.secrets_type)
        return ExternalStorage(
            self.blob_endpoint, self.blob_account_key, self.secrets_type, verify=self.blob_ca_bundle
        )
