"""How one `pip:` entry is judged, both by the fast path and by packaging's full PEP 508 parse."""

from __future__ import annotations

import pytest

from envsync.spec.policy.pip import classify

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("line", "rules"),
    [
        ("numpy==1.26.4", []),
        ("pandas[excel] == 2.2.2", []),
        ("a===1.0", []),
        ("a==1.0,<2", []),
        ('a==1.0; python_version < "3.9"', []),  # markers: packaging's parse
        ("a (==1.0)", []),  # the old parenthesised form: packaging's parse
        ("numpy==1.26.4 --hash=sha256:ab12", []),
        ("requests", ["pip-unpinned"]),
        ("numpy>=1.26", ["pip-unpinned"]),
        ("a[x] ~= 1.0", ["pip-unpinned"]),
        ("pandas==2.*", ["pip-unpinned"]),
        ('a>=1; python_version < "3.9"', ["pip-unpinned"]),
        ("requests --hash=sha256:ab12", []),  # a hash pins the bytes
        (f"git+https://github.com/o/r.git@{SHA}#egg=r", []),
        ("git+https://github.com/o/r.git@v1.0", ["pip-url-unpinned"]),
        ("git+https://github.com/o/r.git", ["pip-url-unpinned"]),
        (f"r @ git+ssh://git@github.com/o/r.git@{SHA}", []),
        ("svn+https://svn.example.com/r@1234", []),
        ("https://example.com/r-1.0.tar.gz#sha256=" + "ab" * 32, []),
        ("https://example.com/r-1.0.tar.gz", ["pip-url-unpinned"]),
        ("-e git+https://github.com/o/r.git@main#egg=r", ["pip-url-unpinned"]),
        ("--extra-index-url https://pypi.example.com/simple", ["pip-index-option"]),
        ("--index-url=https://pypi.example.com/simple", ["pip-index-option"]),
        ("-f ./wheels", ["pip-index-option"]),
        ("-r requirements.txt", []),  # a file this check cannot see
        ("--pre", []),
        ("numpy==1.26.4  # pinned for the model", []),
    ],
)
def test_classify(line: str, rules: list[str]) -> None:
    assert [rule for rule, _ in classify(line)] == rules
