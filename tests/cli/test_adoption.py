"""Issue 25's repros end to end, through the real CLI in a real git repository, each against
the local workspace and against the emulator (REST)."""

from __future__ import annotations

import pytest

from envsync.errors import ExitCode
from tests.cli.adoption_fixtures import Setup, setup
from tests.helpers import IMAGE, write_env
from tests.workspace import emulator_fixtures

emulator = emulator_fixtures.emulator  # the session's emulator: a workspace of its own per test
__all__ = ["setup"]


# -- 6: names and versions the service would refuse are errors at file:line -----------------


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1-<VERSION>", "holds an unsubstituted template placeholder"),
        ("../x", "is not a valid version"),
        ("a#b", "is not a valid version"),
        ("v 1", "is not a valid version"),
        ("latest", "is reserved"),
        ("3\n", "is not a valid version"),
    ],
)
def test_versions_the_service_refuses_are_errors_and_nothing_is_made(
    setup: Setup, version: str, message: str
) -> None:
    write_env(setup.root, "team-sklearn", version=version)
    setup.commit()
    for command in (("validate",), ("plan",), ("apply", "--auto-approve")):
        result = setup.envsync(*command)
        assert result.exit_code == ExitCode.ERROR, result.output
        assert "environments/team-sklearn.yml:2:10: version " in result.output
        assert message in result.output
    space = setup.workspace()
    try:
        assert space.get_environment("team-sklearn") is None
    finally:
        space.close()


def test_a_name_with_a_trailing_newline_is_an_error(setup: Setup) -> None:
    (setup.root / "environments").mkdir()
    (setup.root / "environments" / "e.yml").write_text(f'name: "e\\n"\nimage: {IMAGE}\n')
    setup.commit()
    result = setup.envsync("plan")
    assert result.exit_code == ExitCode.ERROR
    assert "environments/e.yml:1:7: name 'e\\n' is not a valid environment name" in result.output
