"""Shell completion (click's): the scripts the docs tell people to install, and completions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs_pages import page

ENVSYNC = Path(sys.executable).parent / "envsync"
COMMANDS_PAGE = page("commands.md")


def complete(mode: str, words: str = "") -> str:
    env = {
        **os.environ,
        "_ENVSYNC_COMPLETE": mode,
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    done = subprocess.run([str(ENVSYNC)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("shell", "line", "installed"),
    [
        (
            "bash",
            'eval "$(_ENVSYNC_COMPLETE=bash_source envsync)"',
            "complete -o nosort -F _envsync_completion envsync",
        ),
        ("zsh", 'eval "$(_ENVSYNC_COMPLETE=zsh_source envsync)"', "compdef _envsync_completion envsync"),
        ("fish", "_ENVSYNC_COMPLETE=fish_source envsync | source", "complete --no-files --command envsync"),
    ],
)
def test_the_documented_completion_scripts_work(shell: str, line: str, installed: str) -> None:
    assert line in COMMANDS_PAGE
    assert installed in complete(f"{shell}_source")


def test_commands_options_and_choices_complete() -> None:
    assert complete("bash_complete", "envsync pl").split() == ["plain,plan"]
    assert "plain,--report-dir" in complete("bash_complete", "envsync plan --rep").split()
    assert complete("bash_complete", "envsync validate --format ").split() == [
        "plain,text",
        "plain,json",
        "plain,github",
    ]
