"""The blob storage behind each emulated workspace's default datastore, and its credentials.

`BuiltinStorage` is the emulator's own small blob service (`blob.py`, at `/_blob/{account}/…`):
one storage account per workspace, no dependency. `ExternalStorage` hands out another blob
service, such as Azurite (`--blob-endpoint`): one account, one container per workspace, made
on first use, and SAS tokens or its account key minted by azure-storage-blob.

Either answers the datastore GET (`endpoint` is the account URL: an emulated service's location
does not fit Azure's `{account}.blob.{suffix}`) and listSecrets, by `secrets_type`:
`Sas`, `AccountKey`, or `None`: identity-based, listSecrets refused, blobs reached with a
bearer token only.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import threading
from typing import Any
from urllib.parse import quote, urlsplit

from envsync.errors import EnvsyncError

SECRETS_TYPES = ("Sas", "AccountKey", "None")
BUILTIN_CONTAINER = "azureml-blobstore-emulator"
# Azurite's one account and its key, published by Microsoft for every Azurite install.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="  # noqa: S105


class SecretsRefused(Exception):
    """listSecrets on an identity-based datastore: it has none."""


def credentials(secrets_type: str) -> dict[str, Any]:
    """The datastore's `credentials` as the service shows them (secrets withheld)."""
    if secrets_type == "None":
        return {"credentialsType": "None"}
    return {"credentialsType": secrets_type, "secrets": {"secretsType": secrets_type}}


BlobKey = tuple[str, str, str]  # (account, container, blob)


class Blocks:
    """The built-in service's staged blocks, and each blob's committed block list (ids, sizes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._staged: dict[BlobKey, dict[str, bytes]] = {}
        self._committed: dict[BlobKey, list[tuple[str, int]]] = {}

    def stage(self, key: BlobKey, block_id: str, data: bytes) -> None:
        with self._lock:
            self._staged.setdefault(key, {})[block_id] = data

    def assemble(self, key: BlobKey, ids: list[str], current: bytes) -> list[bytes] | None:
        """The blocks `ids` name, staged ones first, else sliced from the committed blob."""
        with self._lock:
            staged, offsets, at = self._staged.get(key, {}), {}, 0
            for block_id, size in self._committed.get(key, []):
                offsets[block_id] = (at, size)
                at += size
        parts = []
        for block_id in ids:
            if block_id in staged:
                parts.append(staged[block_id])
            elif block_id in offsets:
                start, size = offsets[block_id]
                parts.append(current[start : start + size])
            else:
                return None
        return parts

    def commit(self, key: BlobKey, blocks: list[tuple[str, int]]) -> None:
        """The blob was written (a Put Blob has no blocks): staged blocks are discarded."""
        with self._lock:
            self._staged.pop(key, None)
            self._committed[key] = blocks


class BuiltinStorage:
    def __init__(self, secret: bytes, secrets_type: str):
        self.secret, self.secrets_type = secret, secrets_type
        self.blocks = Blocks()
        self._lock = threading.Lock()
        self._accounts: dict[str, str] = {}  # storage account → workspace key

    def account(self, key: str) -> str:
        """A storage account name per workspace (3–24 lower-case letters and digits)."""
        name = "emu" + hashlib.sha256(key.encode()).hexdigest()[:16]
        with self._lock:
            self._accounts[name] = key
        return name

    def workspace_of(self, account: str) -> str | None:
        with self._lock:
            return self._accounts.get(account)

    def container(self, key: str) -> str:
        return BUILTIN_CONTAINER

    def endpoint(self, key: str, base_url: str) -> str:
        return f"{base_url}/_blob/{self.account(key)}"

    def secrets(self, key: str) -> dict[str, str]:
        account = self.account(key)
        if self.secrets_type == "AccountKey":
            return {"secretsType": "AccountKey", "key": base64.b64encode(self.account_key(account)).decode()}
        if self.secrets_type == "Sas":
            return {"secretsType": "Sas", "sasToken": self.sas(account)}
        raise SecretsRefused

    def sas(self, account: str) -> str:
        sig = base64.b64encode(hmac.new(self.secret, f"sas:{account}".encode(), hashlib.sha256).digest())
        return f"sv=2023-11-03&ss=b&srt=co&sp=racwl&se=2099-01-01T00:00:00Z&spr=https,http&sig={quote(sig)}"

    def account_key(self, account: str) -> bytes:
        return hmac.new(self.secret, f"key:{account}".encode(), hashlib.sha256).digest()


class ExternalStorage:
    def __init__(self, url: str, key: str | None, secrets_type: str, *, verify: str | bool = True):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EnvsyncError(f"--blob-endpoint must be an http(s) account URL, not {url!r}")
        self.url, self.secrets_type, self.verify = url.rstrip("/"), secrets_type, verify
        path_account = parts.path.strip("/").split("/")[0]
        self.account_name = path_account or parts.hostname.split(".")[0]
        self.key = key or AZURITE_KEY
        self._made: set[str] = set()
        self._lock = threading.Lock()

    def account(self, key: str) -> str:
        return self.account_name

    def container(self, key: str) -> str:
        # Like a real workspace's azureml-blobstore-<workspace guid>: 3–63 lower-case characters.
        return "azureml-blobstore-" + hashlib.sha256(key.encode()).hexdigest()[:32]

    def endpoint(self, key: str, base_url: str) -> str:
        self._ensure_container(key)
        return self.url

    def secrets(self, key: str) -> dict[str, str]:
        if self.secrets_type == "AccountKey":
            return {"secretsType": "AccountKey", "key": self.key}
        if self.secrets_type == "Sas":
            return {"secretsType": "Sas", "sasToken": self._container_sas(key)}
        raise SecretsRefused

    def _container_sas(self, key: str) -> str:
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas

        permission = ContainerSasPermissions(read=True, add=True, create=True, write=True, list=True)
        expiry = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)  # as listSecrets' expirableSecret
        sas: str = generate_container_sas(
            self.account_name, self.container(key), account_key=self.key, permission=permission, expiry=expiry
        )
        return sas

    def _ensure_container(self, key: str) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContainerClient

        with self._lock:
            if key in self._made:
                return
            credential = {"account_name": self.account_name, "account_key": self.key}
            client = ContainerClient(
                self.url, self.container(key), credential=credential, connection_verify=self.verify
            )
            try:
                client.create_container()
            except ResourceExistsError:
                pass
            finally:
                client.close()
            self._made.add(key)


Storage = BuiltinStorage | ExternalStorage
