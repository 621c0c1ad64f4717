"""The package layout is the architecture: each folder one layer, dependencies pointing down.

commands → (plan, apply, gitops, inventory, emulator) → (spec, config, workspace) → content →
http → (errors, text). A module may import its own layer or any below it, never one above; lazy imports
inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import envsync

PACKAGE = Path(envsync.__file__).parent
LAYERS: dict[str, int] = {
    "__init__": 0,
    "errors": 0,
    "text": 0,
    "http": 1,
    "content": 2,
    "spec": 3,
    "config": 3,
    "workspace": 3,
    "plan": 4,
    "solve": 4,
    "apply": 4,
    "gitops": 4,
    "inventory": 4,
    "emulator": 4,
    "commands": 5,
    "cli": 6,
    "__main__": 6,
}
MAX_LINES = 300


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def top_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_tops(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = (
                [node.module]
                if node.module != "envsync"
                else [f"envsync.{_member(a.name)}" for a in node.names]
            )
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("envsync.")}
    return found


def _member(name: str) -> str:
    """`from envsync import X`: a submodule, or a name from the package's own __init__."""
    return name if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file() else "__init__"


def test_every_top_level_module_and_package_has_a_layer() -> None:
    assert {top_of(p) for p in modules()} - {"schemas"} <= set(LAYERS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    mine = LAYERS[top_of(path)]
    upward = sorted(t for t in imported_tops(path) if LAYERS[t] > mine)
    assert not upward, f"{path.relative_to(PACKAGE)} (layer {mine}) imports {upward} from above"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) < MAX_LINES


def test_the_walker_sees_lazy_and_package_imports(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "def f():\n    from envsync import cli, __version__\n    import envsync.http.session\n"
        "from envsync.plan.model import Plan\n"
    )
    assert imported_tops(sample) == {"cli", "__init__", "http", "plan"}
