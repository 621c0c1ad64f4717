"""Where a build context's blobs are: the folder a contextUri names on a datastore, and the
local file each blob becomes. Pure: shared by the local workspace and the Azure client."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from envsync.errors import WorkspaceError

_DATASTORE_PATH = re.compile(r"(?:^|/)datastores/(?P<datastore>[^/]+)/paths/(?P<folder>.*)$")


def context_folder(context_uri: str, *, account: str, container: str, datastore: str) -> str:
    """`LocalUpload/<digest>/<dirname>/`: the folder `context_uri` names in `container`.

    A contextUri is `https://{account}.blob.{suffix}/{container}/<folder>/` (what az ml and
    envsync write) or a datastore URI, `azureml://…/datastores/{datastore}/paths/<folder>/` (a
    form the service may answer with); any other place is refused."""
    parts = urlsplit(context_uri)
    path = unquote(parts.path).lstrip("/")
    if parts.scheme == "azureml":
        match = _DATASTORE_PATH.search(path)
        folder = match["folder"] if match and match["datastore"] == datastore else ""
        where = (account, container)
    else:
        host_account = parts.hostname.split(".", 1)[0] if parts.hostname else ""
        uri_container, _, folder = path.partition("/")
        where = (host_account, uri_container)
    if where != (account, container) or not folder.strip("/"):
        raise WorkspaceError(
            f"{context_uri}: not a folder in the datastore's container "
            f"({account}/{container}); envsync cannot download it"
        )
    return folder.rstrip("/") + "/"


def safe_target(dest: Path, relpath: str, context_uri: str) -> Path:
    """Where a blob goes; a name that would escape `dest` (`..`, absolute) is refused."""
    rel = PurePosixPath(relpath)
    if not relpath or rel.is_absolute() or ".." in rel.parts:
        raise WorkspaceError(f"{context_uri}: refusing blob path {relpath!r} outside the context")
    return dest.joinpath(*rel.parts)
