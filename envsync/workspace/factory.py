"""Open the workspace a configured target names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envsync.config import Target
    from envsync.http.retrying import Notify
    from envsync.workspace import Workspace


def open_workspace(target: Target, *, on_retry: Notify | None = None) -> Workspace:
    """The workspace `target` names; an Azure one reports each retry it waits for to `on_retry`."""
    if target.kind == "local":
        from envsync.workspace.local.workspace import LocalWorkspace

        assert target.path is not None
        return LocalWorkspace(target.path)
    from envsync.http.session import HttpOptions

    options: dict[str, Any] = {"http": HttpOptions(on_retry=on_retry)}
    if target.kind == "registry":
        from envsync.workspace.azure.registry import AzureMLRegistry

        return AzureMLRegistry.from_target(target, **options)
    from envsync.workspace.azure.workspace import AzureMLWorkspace

    return AzureMLWorkspace.from_target(target, **options)
