"""Open the workspace a configured target names."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envsync.config import Target
    from envsync.workspace import Workspace


def open_workspace(target: Target) -> Workspace:
    if target.kind == "local":
        from envsync.workspace.local.workspace import LocalWorkspace

        assert target.path is not None
        return LocalWorkspace(target.path)
    if target.kind == "registry":
        from envsync.workspace.azure.registry import AzureMLRegistry

        return AzureMLRegistry.from_target(target)
    from envsync.workspace.azure.workspace import AzureMLWorkspace

    return AzureMLWorkspace.from_target(target)
