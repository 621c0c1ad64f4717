"""Path options taken against `-C DIR`, as git's `-C` takes them: a relative path names a
file under DIR, whatever the current directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click


def _under_root(value: Any, ctx: click.Context | None) -> Any:
    from envsync.commands.common import App

    app = ctx.find_object(App) if ctx is not None else None
    if app is None or not isinstance(value, (str, os.PathLike)) or os.fspath(value) == "-":
        return value  # completion has no App; '-' is stdin or stdout
    path = Path(value)
    return value if path.is_absolute() else os.fspath(app.root / path)


class RootPath(click.Path):
    """click.Path, relative to `-C`'s folder."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return super().convert(_under_root(value, ctx), param, ctx)


class RootFile(click.File):
    """click.File, relative to `-C`'s folder ('-' stays stdin or stdout)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return super().convert(_under_root(value, ctx), param, ctx)
