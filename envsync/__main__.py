from __future__ import annotations

from envsync.cli import main

main()
