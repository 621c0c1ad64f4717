"""YAML a hostile file cannot blow up: bounded in nesting depth, in nodes and in characters
once every alias is expanded (a few hundred kilobytes of aliases to one long scalar are
gigabytes expanded: counting aliases alone misses that), checked on the node graph before
anything is constructed. `yaml.safe_load` only.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import yaml

from envsync.content.fingerprint import SafeLoader

MAX_TEXT = 1024 * 1024  # characters given to `load`: files are capped in bytes where they are read
MAX_DEPTH = 64  # environments nest four or five levels; json, jsonschema and repr recurse per level
MAX_NODES = 100_000
MAX_CHARS = 4 * 1024 * 1024  # of scalars, expanded: four times the largest file loaded


class BoundError(yaml.YAMLError):
    """A document past a bound; `mark` is where (line and column are 0-based, as yaml's)."""

    def __init__(self, message: str, mark: yaml.Mark):
        super().__init__(message)
        self.message, self.mark = message, mark


def check(root: yaml.Node) -> None:
    """Raise BoundError when `root`, expanded, is too deep, has too many nodes or characters.

    Each node is measured once however often it is aliased, and the walk never goes deeper
    than the bound it checks. A recursive alias (a node inside itself) is refused too: every
    consumer of the value (JSON, the schema check) would recurse forever."""
    _measure(root, 1, {})


def load(text: str) -> Any:
    """`yaml.safe_load(text)` within the bounds (BoundError past them)."""
    if len(text) > MAX_TEXT:
        raise BoundError(f"over {MAX_TEXT:,} characters", yaml.Mark("<text>", 0, 0, 0, None, 0))
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:
            check(node)
        else:  # no alias: a tree, each node met once, its text no longer than the file's
            _check_tree(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_tree(root: yaml.Node) -> None:
    """`check` for a document without aliases, in a third of its time (loading is hot): with
    every node met once, characters cannot outgrow the file, so depth and nodes are counted."""
    if _tree_nodes(root, 1) > MAX_NODES:
        raise BoundError(f"over {MAX_NODES:,} nodes", root.start_mark)


def _tree_nodes(node: yaml.Node, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise BoundError(f"nested deeper than {MAX_DEPTH} levels", node.start_mark)
    if type(node) is yaml.ScalarNode:
        return 1
    children = node.value if type(node) is yaml.SequenceNode else chain.from_iterable(node.value)
    return 1 + sum(_tree_nodes(child, depth + 1) for child in children)


_OPEN = (-1, -1, -1)  # being measured: met again below itself, it is a recursive alias


def _measure(node: yaml.Node, depth: int, measured: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    """(height, nodes, chars) of `node` expanded, found at `depth`; past a bound, BoundError."""
    found = measured.get(id(node))
    if found is _OPEN:
        raise BoundError("an alias inside the node it names (a recursive structure)", node.start_mark)
    if found is None:
        if depth > MAX_DEPTH:
            raise BoundError(f"nested deeper than {MAX_DEPTH} levels", node.start_mark)
        measured[id(node)] = _OPEN
        found = measured[id(node)] = _expanded(node, depth, measured)
    elif depth + found[0] - 1 > MAX_DEPTH:  # an alias, deeper than its anchor
        raise BoundError(f"nested deeper than {MAX_DEPTH} levels", node.start_mark)
    return found


def _expanded(node: yaml.Node, depth: int, measured: dict[int, tuple[int, int, int]]) -> tuple[int, int, int]:
    if isinstance(node, yaml.ScalarNode):
        return 1, 1, len(node.value)
    height, nodes, chars = 0, 1, 0
    children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
    for child in children:
        h, n, c = _measure(child, depth + 1, measured)
        height, nodes, chars = max(height, h), nodes + n, chars + c
    if nodes > MAX_NODES:
        raise BoundError(f"aliases expand to over {MAX_NODES:,} nodes (a YAML alias bomb?)", node.start_mark)
    if chars > MAX_CHARS:
        limit = f"{MAX_CHARS // (1024 * 1024)} MiB"
        raise BoundError(f"aliases expand to over {limit} of text (a YAML alias bomb?)", node.start_mark)
    return height + 1, nodes, chars
