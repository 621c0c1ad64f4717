"""Safe YAML loading that remembers where every value came from.

`yaml.safe_load` only, with limits a hostile or broken file cannot get past: a size cap, bounds
on depth and on alias expansion in nodes and characters (`content.yamlbound`), one document
per file, no duplicate keys.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from envsync.content import yamlbound
from envsync.content.fingerprint import SafeLoader
from envsync.errors import SpecError

MAX_BYTES = 1024 * 1024

Key = tuple[Hashable, ...]


class YamlError(SpecError):
    """A file that is not loadable YAML; carries its location."""

    def __init__(self, path: str, line: int, col: int, message: str):
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.reason = path, line, col, message


@dataclass
class YamlDocument:
    path: str  # as shown in messages
    data: Any
    value_marks: dict[Key, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Key, tuple[int, int]] = field(default_factory=dict)
    text: str = ""  # the decoded source, for comments (policy suppressions)

    def where(self, key: Key) -> tuple[int, int]:
        """(line, col), 1-based, of the value at `key`, else of its nearest located parent."""
        for end in range(len(key), -1, -1):
            found = self.value_marks.get(key[:end]) or self.key_marks.get(key[:end])
            if found:
                return found
        return (1, 1)

    def key_where(self, key: Key) -> tuple[int, int]:
        """(line, col) of the mapping key itself (for unknown or misplaced keys)."""
        return self.key_marks.get(key) or self.where(key)


def load_yaml(path: Path, *, display: str | None = None, text: str | None = None) -> YamlDocument:
    """Load one YAML document from `path` (or from `text`, read at a git ref, say)."""
    shown = display or str(path)
    raw = text.encode() if text is not None else _read_capped(path, shown)
    if len(raw) > MAX_BYTES:
        raise YamlError(shown, 1, 1, f"file is {len(raw):,} bytes, over the 1 MiB limit")
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise YamlError(shown, 1, 1, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    return _compose(shown, decoded)


def _read_capped(path: Path, shown: str) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise YamlError(shown, 1, 1, "file not found") from None
    except IsADirectoryError:
        raise YamlError(shown, 1, 1, "is a folder, not a file") from None
    except OSError as e:
        raise YamlError(shown, 1, 1, f"cannot read: {e.strerror}") from None


def _compose(shown: str, text: str) -> YamlDocument:
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        doc = YamlDocument(shown, None, text=text)
        if node is not None:
            yamlbound.check(node)
            _record_marks(doc, node, ())
            doc.data = loader.construct_document(node)
        return doc
    except yamlbound.BoundError as e:
        raise YamlError(shown, e.mark.line + 1, e.mark.column + 1, e.message) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlError(shown, line, col, f"invalid YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise YamlError(shown, 1, 1, f"invalid YAML: {e}") from None
    finally:
        loader.dispose()


def _record_marks(doc: YamlDocument, node: yaml.Node, key: Key) -> None:
    doc.value_marks.setdefault(key, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _record_marks(doc, child, (*key, i))
    elif isinstance(node, yaml.MappingNode):
        seen: set[Hashable] = set()
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else repr(k.value)
            if name in seen and k.tag != "tag:yaml.org,2002:merge":
                raise YamlError(
                    doc.path,
                    k.start_mark.line + 1,
                    k.start_mark.column + 1,
                    f"duplicate key '{name}'",
                )
            seen.add(name)
            doc.key_marks[(*key, name)] = (k.start_mark.line + 1, k.start_mark.column + 1)
            _record_marks(doc, v, (*key, name))
