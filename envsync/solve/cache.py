"""Answers remembered by request key (the spec's fingerprint and the solve settings) under
`.envsync/solve/`, so an unchanged environment is never solved twice. The folder also holds
the channels' repodata (py-rattler's cache) and uv's."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from envsync.solve.model import Answer

FOLDER = ".envsync/solve"
MAX_BYTES = 16 * 1024 * 1024


class AnswerCache:
    def __init__(self, root: Path):
        self.folder = root / FOLDER
        self.answers = self.folder / "answers"

    @property
    def repodata(self) -> Path:
        return self.folder / "repodata"

    @property
    def uv(self) -> Path:
        return self.folder / "uv"

    def get(self, key: str) -> Answer | None:
        """The answer remembered under `key`; None when there is none, or it is unreadable."""
        path = self.answers / f"{key}.json"
        try:
            with path.open("rb") as f:
                raw = f.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                return None
            return Answer.from_json(json.loads(raw))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, or torn by a crash: solve again

    def put(self, key: str, answer: Answer) -> None:
        self.answers.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.answers, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(answer.to_json(), f)
        os.replace(temp, self.answers / f"{key}.json")  # readers see a whole answer or none
